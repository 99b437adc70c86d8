"""Forgejo webhook jobs into notices for the repository connections that want them."""

from __future__ import annotations

from hookshot.core.connections import OutgoingMessage
from hookshot.core.queue.base import Job
from hookshot.core.service import Rendered
from hookshot.core.store import ConnectionStore
from hookshot.services.forgejo.format import branch_of_delivery, labels_of, render
from hookshot.services.forgejo.repo import ForgejoRepo
from hookshot.services.forgejo.wire import SERVICE

# Hook names whose events are about an issue or a pull request (the label filters apply).
_LABELLED = ("issue.", "pull_request.")


class ForgejoRenderer:
    """Renders `kind: forgejo` jobs."""

    def __init__(self, store: ConnectionStore) -> None:
        self._store = store

    def stop(self) -> None:
        pass

    async def render(self, job: Job) -> Rendered:
        body, name = job.payload.get("body"), job.payload.get("name")
        event_type = str(job.payload.get("event_type"))
        if not isinstance(body, dict) or not isinstance(name, str):
            return Rendered()
        repo = body.get("repository")
        full_name = repo.get("full_name") if isinstance(repo, dict) else None
        html_url = repo.get("html_url") if isinstance(repo, dict) else None
        if not isinstance(full_name, str) or not isinstance(html_url, str):
            return Rendered()
        branch = branch_of_delivery(name, body)
        labels = labels_of(body) if name.startswith(_LABELLED) else None
        content = None
        messages = []
        for conn in self._store.routed(f"{SERVICE}:{full_name.lower()}"):
            if not isinstance(conn, ForgejoRepo) or not conn.matches(html_url):
                continue
            if not conn.hook_enabled(name) or not conn.branch_wanted(branch):
                continue
            if labels is not None and not conn.labels_wanted(labels):
                continue
            content = content or render(name, event_type, body)
            if content is None:
                break
            messages.append(OutgoingMessage(room_id=conn.room_id, content=dict(content)))
        return Rendered(messages)
