"""Durable hand-off of messages to the sender: every bot message goes through the queue.

Job ids are derived from what caused the message (a webhook job, a command's event id), so
processing the cause twice never sends twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from hookshot import wire
from hookshot.core.connections import OutgoingMessage
from hookshot.core.queue.base import NewJob, Queue


def send_jobs(
    cause_id: str, messages: Sequence[OutgoingMessage], origin: str | None = None
) -> list[NewJob]:
    """Send jobs for `messages`, ids `<cause>#<n>`; `origin` names a waiting webhook."""
    jobs = []
    for n, msg in enumerate(messages):
        payload = msg.to_payload()
        if origin is not None:
            payload["origin"] = origin
        job_id = f"{cause_id}#{n}"
        jobs.append(NewJob(job_id, msg.room_id, payload, group=msg.digest_group))
    return jobs


class Outbox:
    """Queues bot messages for the sender."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    async def send(self, cause_id: str, messages: Sequence[OutgoingMessage]) -> None:
        if messages:
            await self._queue.push(wire.TOPIC_SEND, send_jobs(cause_id, messages))
