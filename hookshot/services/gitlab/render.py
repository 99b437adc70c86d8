"""GitLab webhook jobs into notices for the project (and group) connections that want them;
review activity (MR comments, approvals) is batched per room, MR and user. Connections with
`threads: true` get their notices about an MR or issue in its thread (subject_threads)."""

from __future__ import annotations

from hookshot import wire
from hookshot.core.connections import OutgoingMessage
from hookshot.core.outbox import send_jobs
from hookshot.core.queue.base import Job, Queue, ValueStore
from hookshot.core.service import HELD, Rendered
from hookshot.core.store import ConnectionStore
from hookshot.services.gitlab.format import ReviewActivity, project_ref
from hookshot.services.gitlab.repo import GitLabRepo
from hookshot.services.gitlab.review_batches import DiscussionThreads, ReviewBatcher
from hookshot.services.gitlab.subject_threads import Change, SubjectTracker, threaded


class GitLabRenderer:
    """Renders `kind: gitlab` jobs."""

    def __init__(
        self,
        queue: Queue,
        store: ConnectionStore,
        threads: DiscussionThreads,
        review_delay: float = 5.0,  # gitlab.commentDebounceMs, in seconds
        values: ValueStore | None = None,  # subject states for `threads: true` connections
    ) -> None:
        self._queue = queue
        self._store = store
        self._subjects = SubjectTracker(values)
        self._reviews = ReviewBatcher(queue, threads, review_delay)

    def stop(self) -> None:
        self._reviews.cancel()

    async def render(self, job: Job) -> Rendered:
        messages, reviews = await self.routes(job)
        if reviews:
            # Held (not acked) until its batches are posted; see review_batches.
            if messages:
                await self._queue.push(wire.TOPIC_SEND, send_jobs(job.id, messages))
            self._reviews.add(job, reviews)
            return HELD
        return Rendered(messages)

    async def routes(
        self, job: Job
    ) -> tuple[list[OutgoingMessage], list[tuple[GitLabRepo, ReviewActivity]]]:
        """Notices to send now, and review activity to batch, for a GitLab delivery."""
        body = job.payload.get("body")
        if not isinstance(body, dict):
            return [], []
        name = str(job.payload.get("name"))
        header = job.payload.get("header")
        header = header if isinstance(header, str) else None
        project = project_ref(body)
        if project is None:
            return [], []
        instance = job.payload.get("instance") or project.instance_url
        instance = instance if isinstance(instance, str) else None
        parts = project.path.lower().split("/")
        # The project itself, then each group above it (group connections, ours).
        conns = [
            conn
            for depth in range(len(parts), 0, -1)
            for conn in self._store.routed("gitlab:" + "/".join(parts[:depth]))
            if isinstance(conn, GitLabRepo) and conn.matches(instance, project.path)
        ]
        changes: list[Change] = []
        if any(conn.threads for conn in conns):
            changes = await self._subjects.observe(name, body, instance, header)
        messages: list[OutgoingMessage] = []
        reviews: list[tuple[GitLabRepo, ReviewActivity]] = []
        for conn in conns:
            activity = conn.review_activity(name, body, header=header)
            if activity is not None:
                reviews.append((conn, activity))
                messages += threaded(conn, name, [], changes)  # root edit only: it is batched
                continue
            content = conn.render(name, body, header=header)
            messages += threaded(conn, name, [] if content is None else [content], changes)
        return messages, reviews
