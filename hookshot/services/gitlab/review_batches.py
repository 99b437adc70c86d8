"""GitLab review activity (MR comments, approvals) batched per room, MR and user over
`gitlab.commentDebounceMs`, then posted as one notice ("… with 3 comments").

In a room with `threads: true` a batch goes into its merge request's thread instead (a Matrix
thread cannot hold threads), and is not recorded as a discussion's root.

The webhook jobs stay unacknowledged while their activity waits in a batch, so a crash loses
nothing: the jobs are delivered again and batched again. The notice's send job id derives from
the batch's first job, so a batch rebuilt after a crash is not posted twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from hookshot import wire
from hookshot.core.connections import OutgoingMessage
from hookshot.core.queue.base import Job, NewJob, Queue
from hookshot.services.gitlab.format import ReviewActivity
from hookshot.services.gitlab.repo import GitLabRepo
from hookshot.services.gitlab.subject_threads import thread_ref
from hookshot.services.gitlab.wire import DISCUSSIONS_KEY

log = logging.getLogger(__name__)


@dataclass
class _Batch:
    conn: GitLabRepo
    first_job: str
    activities: list[ReviewActivity] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)


class DiscussionThreads:
    """(room, GitLab discussion) -> the event id of the notice that started its thread."""

    def __init__(self, limit: int = 10_000) -> None:
        self._roots: dict[tuple[str, str], str] = {}
        self._limit = limit

    def root(self, room_id: str, discussion: str) -> str | None:
        return self._roots.get((room_id, discussion))

    def on_sent(self, payload: dict[str, Any], event_id: str) -> None:
        """Sender callback: remember where each discussion's notice landed (first one wins)."""
        for discussion in payload.get(DISCUSSIONS_KEY) or ():
            self._roots.setdefault((str(payload["room_id"]), str(discussion)), event_id)
        while len(self._roots) > self._limit:
            self._roots.pop(next(iter(self._roots)))


class ReviewBatcher:
    """Holds review activity for `delay` seconds per (room connection, MR, user)."""

    def __init__(self, queue: Queue, threads: DiscussionThreads, delay: float) -> None:
        self._queue = queue
        self._threads = threads
        self._delay = delay
        self._batches: dict[tuple[Any, ...], _Batch] = {}
        self._holds: dict[str, tuple[Job, int]] = {}
        self._timers: set[asyncio.Task[None]] = set()

    def add(self, job: Job, parts: list[tuple[GitLabRepo, ReviewActivity]]) -> None:
        """Hold `job` until every batch it contributed to was posted."""
        for conn, activity in parts:
            key = (conn.key, activity.batch_key)
            batch = self._batches.get(key)
            if batch is None:
                batch = _Batch(conn, job.id)
                self._batches[key] = batch
                timer = asyncio.create_task(self._flush_later(key))
                self._timers.add(timer)
                timer.add_done_callback(self._timers.discard)
            batch.activities.append(activity)
            batch.jobs.append(job.id)
        held, count = self._holds.get(job.id, (job, 0))
        self._holds[job.id] = (held, count + len(parts))

    async def _flush_later(self, key: tuple[Any, ...]) -> None:
        await asyncio.sleep(self._delay)
        try:
            await self.flush(key)
        except Exception:
            # The held jobs stay unacknowledged and come back after a restart.
            log.exception("posting a GitLab review batch failed")

    async def flush(self, key: tuple[Any, ...]) -> None:
        batch = self._batches.pop(key, None)
        if batch is None:
            return
        conn = batch.conn
        first = batch.activities[0]
        subject = thread_ref(conn, first.project_path, first.mr_iid)
        discussions = {a.discussion_id for a in batch.activities if a.discussion_id}
        thread = None
        if len(discussions) == 1 and subject is None:
            thread = self._threads.root(conn.room_id, next(iter(discussions)))
        content = conn.review_notice(batch.activities, thread_event_id=thread)
        if content is not None:
            message = OutgoingMessage(room_id=conn.room_id, content=content, thread=subject)
            payload = message.to_payload()
            if subject is None:
                payload[DISCUSSIONS_KEY] = sorted(discussions)
            notice = NewJob(
                id=f"{batch.first_job}#review:{conn.room_id}",
                partition=conn.room_id,
                payload=payload,
            )
            await self._queue.push(wire.TOPIC_SEND, [notice])
        for job_id in batch.jobs:
            held, count = self._holds[job_id]
            if count <= 1:
                del self._holds[job_id]
                await self._queue.ack(held)
            else:
                self._holds[job_id] = (held, count - 1)

    def cancel(self) -> None:
        """Stop the timers; held jobs stay unacknowledged for the next start."""
        for timer in list(self._timers):
            timer.cancel()
