"""Forgejo webhook jobs into notices for the repository connections that want them.
Connections with `threads: true` get their notices about a pull request or issue in its
thread (subject_threads)."""

from __future__ import annotations

from hookshot.core.connections import OutgoingMessage
from hookshot.core.queue.base import Job, ValueStore
from hookshot.core.service import Rendered
from hookshot.core.store import ConnectionStore
from hookshot.services.forgejo.format import branch_of_delivery, labels_of, render, repository_of
from hookshot.services.forgejo.repo import ForgejoRepo
from hookshot.services.forgejo.subject_threads import SubjectTracker, threaded
from hookshot.services.forgejo.wire import SERVICE

# Hook names whose events are about an issue or a pull request (the label filters apply).
_LABELLED = ("issue.", "pull_request.")


class ForgejoRenderer:
    """Renders `kind: forgejo` jobs."""

    def __init__(
        self,
        store: ConnectionStore,
        values: ValueStore | None = None,  # subject states for `threads: true` connections
    ) -> None:
        self._store = store
        self._subjects = SubjectTracker(values)

    def stop(self) -> None:
        pass

    async def render(self, job: Job) -> Rendered:
        body, name = job.payload.get("body"), job.payload.get("name")
        event_type = str(job.payload.get("event_type"))
        if not isinstance(body, dict):
            return Rendered()
        repo = repository_of(body)
        full_name, html_url = repo.get("full_name"), repo.get("html_url")
        if not isinstance(full_name, str) or not isinstance(html_url, str):
            return Rendered()
        conns = [
            conn
            for conn in self._store.routed(f"{SERVICE}:{full_name.lower()}")
            if isinstance(conn, ForgejoRepo) and conn.matches(html_url)
        ]
        if not conns:
            return Rendered()
        # A delivery without a notice (an assignment, a running workflow) may still change
        # what a thread's root shows.
        threads = any(conn.threads for conn in conns)
        changes = await self._subjects.observe(event_type, body) if threads else []
        notice = render(name, event_type, body) if isinstance(name, str) else None
        messages: list[OutgoingMessage] = []
        for conn in conns:
            wanted = isinstance(name, str) and self._wanted(conn, name, body)
            notes = [dict(notice)] if notice is not None and wanted else []
            messages += threaded(conn, event_type, notes, changes)
        return Rendered(messages)

    @staticmethod
    def _wanted(conn: ForgejoRepo, name: str, body: dict[str, object]) -> bool:
        """Whether `conn`'s hooks and filters let hook `name`'s notice through."""
        if not conn.hook_enabled(name) or not conn.branch_wanted(branch_of_delivery(name, body)):
            return False
        return not name.startswith(_LABELLED) or conn.labels_wanted(labels_of(body))
