"""Wake-ups for webhook requests that wait for their message to be sent (`waitForComplete`).

In one process the waiter is woken directly. In the scale-out roles the outcome is decided in
a `bridge` or `sender` process and the waiter sits in a `webhooks` process: `forward` carries
each outcome over Redis pub/sub (`outcome_bus.py`) and `wake` delivers it there. A lost
message only turns the waiter's answer into a 202 after its timeout; the work is durable."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None
    event_id: str | None = None
    # A transformation's answer for the webhook's sender: {body, contentType, statusCode}.
    response: dict[str, Any] | None = None


# Job payload key: a request waits for this webhook's outcome (set by the intake, copied onto
# its send jobs), so only those outcomes are announced to other processes.
WAITING_KEY = "waiting"


def waited_for(payload: dict[str, Any]) -> bool:
    return payload.get(WAITING_KEY) is True


class Completions:
    """job id -> future resolved when the job's message was sent (or failed for good)."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[Outcome]] = {}
        self._listeners: list[Callable[[str, Outcome], None]] = []
        self._forward: Callable[[str, Outcome], None] | None = None

    def forward_to(self, forward: Callable[[str, Outcome], None]) -> None:
        """Also hand announced outcomes to `forward` (other processes' waiters)."""
        self._forward = forward

    def listen(self, listener: Callable[[str, Outcome], None]) -> None:
        """Also tell `listener` about every outcome (the delivery log)."""
        self._listeners.append(listener)

    def expect(self, job_id: str) -> asyncio.Future[Outcome]:
        future = self._waiting.get(job_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[job_id] = future
        return future

    def resolve(self, job_id: str | None, outcome: Outcome, *, announce: bool = False) -> None:
        """Settle `job_id`'s outcome; `announce` it to other processes when a request may be
        waiting there (`waited_for` its payload)."""
        if job_id is None:
            return
        for listener in self._listeners:
            listener(job_id, outcome)
        if announce and self._forward is not None:
            self._forward(job_id, outcome)
        self.wake(job_id, outcome)

    def wake(self, job_id: str, outcome: Outcome) -> None:
        """Answer this process's waiter for `job_id`, if any."""
        future = self._waiting.pop(job_id, None)
        if future is not None and not future.done():
            future.set_result(outcome)

    def discard(self, job_id: str) -> None:
        future = self._waiting.pop(job_id, None)
        if future is not None and not future.done():
            future.cancel()
