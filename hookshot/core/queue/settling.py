"""A Queue wrapper that repeats settles (ack/retry/fail) while the backend cannot be reached.

A settle lost to a dropped Redis connection would otherwise leave its job to lapse after the
lease and run again, and the error would escape into the worker loop. Every worker of the
bridge settles through this one wrapper (see `Bridge`), so none handles it by itself. A job
no longer ours (lease taken over) or a closed queue ends a settle quietly: the job is
redelivered, and consumers are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial

from hookshot.core.queue.base import Job, NewJob, NotInFlight, QueueClosed, QueueWrapper

log = logging.getLogger(__name__)

ATTEMPTS = 6


async def settle(action: Callable[[], Awaitable[None]], what: str) -> None:
    """Run `action`, repeating it (backing off) while it fails, up to `ATTEMPTS` times."""
    delay = 0.2
    for attempt in range(ATTEMPTS):
        try:
            await action()
            return
        except (NotInFlight, QueueClosed) as err:
            log.info("%s: %s", what, err)
            return
        except Exception as err:
            if attempt == ATTEMPTS - 1:
                log.warning("%s failed for good (the job will run again): %s", what, err)
                return
            log.warning("%s failed (%s); repeating in %.1fs", what, err, delay)
            await asyncio.sleep(delay)
            delay = min(5.0, delay * 2)


class SettlingQueue(QueueWrapper):
    async def ack(self, job: Job, follow_ups: Mapping[str, Sequence[NewJob]] | None = None) -> None:
        await settle(partial(self.inner.ack, job, follow_ups), f"ack {job.id}")

    async def retry(self, job: Job, delay: float, error: str) -> None:
        await settle(partial(self.inner.retry, job, delay, error), f"retry {job.id}")

    async def fail(self, job: Job, error: str) -> None:
        await settle(partial(self.inner.fail, job, error), f"fail {job.id}")
