"""A Queue wrapper whose waiting takes end at once when the process starts to stop.

Workers poll `take` with a short timeout and check their stop flag between polls; without
this an idle worker would sit out its poll (and a backend wait) before it noticed a SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib

from hookshot.core.queue.base import Job, Queue, QueueWrapper


class StoppingQueue(QueueWrapper):
    def __init__(self, inner: Queue) -> None:
        super().__init__(inner)
        self._stop = asyncio.Event()

    def stop_taking(self) -> None:
        """From now on `take` returns [] without waiting; waiting takes return [] at once."""
        self._stop.set()

    async def take(self, topic: str, limit: int, timeout: float | None = None) -> list[Job]:
        if self._stop.is_set():
            return []
        taking = asyncio.ensure_future(self.inner.take(topic, limit, timeout))
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({taking, stopping}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            taking.cancel()
            raise
        finally:
            stopping.cancel()
        if not taking.done():
            # Every backend's take gives back what a cancelled take had claimed.
            taking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                return await taking  # it finished before the cancel landed: hand those out
            return []
        return taking.result()
