"""Hold bursts of webhook jobs with the same key and act on the last one only (hookshot's
label debounce: labelling an issue three times in a row is one notice, not three).

Held jobs stay unacknowledged until the burst settles, so a crash loses nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from hookshot import wire
from hookshot.core.connections import OutgoingMessage
from hookshot.core.outbox import send_jobs
from hookshot.core.queue.base import Job, Queue

log = logging.getLogger(__name__)

Render = Callable[[Job], Awaitable[list[OutgoingMessage]]]


@dataclass
class _Burst:
    jobs: list[Job] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class JobDebouncer:
    """Per key: wait until `delay` seconds pass without a new job, then render the last."""

    def __init__(self, queue: Queue, delay: float, render: Render) -> None:
        self._queue = queue
        self._delay = delay
        self._render = render
        self._bursts: dict[str, _Burst] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, key: str, job: Job) -> None:
        burst = self._bursts.setdefault(key, _Burst())
        burst.jobs.append(job)
        if burst.timer is not None:
            burst.timer.cancel()
        loop = asyncio.get_running_loop()
        burst.timer = loop.call_later(self._delay, self._fire, key)

    def _fire(self, key: str) -> None:
        task = asyncio.create_task(self._settle(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, key: str) -> None:
        burst = self._bursts.pop(key, None)
        if burst is None:
            return
        last = burst.jobs[-1]
        try:
            messages = await self._render(last)
            follow_ups = send_jobs(last.id, messages)
            await self._queue.ack(last, {wire.TOPIC_SEND: follow_ups} if follow_ups else None)
            for job in burst.jobs[:-1]:
                await self._queue.ack(job)
        except Exception:
            # Unacknowledged jobs come back after a restart; nothing is lost.
            log.exception("settling debounced jobs for %s failed", key)

    def cancel(self) -> None:
        for burst in self._bursts.values():
            if burst.timer is not None:
                burst.timer.cancel()
        for task in list(self._tasks):
            task.cancel()
