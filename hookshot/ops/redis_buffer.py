"""Fire-and-forget Redis writes (delivery log entries, pub/sub news): callers never wait or
fail; one task sends what was posted, in order, one pipeline per batch, and waits out Redis
being unreachable. Only work whose loss is acceptable goes here: the queue has its own."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Write = Callable[[Pipeline], None]

BUFFER = 10_000
RETRY_CAP = 5.0


class WriteBuffer:
    """At most `limit` writes wait; beyond that the oldest are dropped (and counted)."""

    def __init__(self, redis: Redis, what: str, limit: int = BUFFER) -> None:
        self._redis = redis
        self._what = what
        self._buffer: deque[Write] = deque(maxlen=limit)
        self._wake = asyncio.Event()
        self._stopping = False
        self.dropped = 0

    def post(self, write: Write) -> None:
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped += 1
        self._buffer.append(write)
        self._wake.set()

    async def run(self) -> None:
        """Send posted writes until stopped (then what is left, while Redis answers)."""
        attempt = 0
        while not (self._stopping and not self._buffer):
            if not self._buffer:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = list(self._buffer)
            self._buffer.clear()
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for write in batch:
                        write(pipe)
                    await pipe.execute()
            except RedisError as err:
                if self._stopping:
                    return
                # Back in front, in order (a full buffer then drops the newest).
                self._buffer.extendleft(reversed(batch))
                attempt += 1
                log.warning("%s: cannot write to Redis: %s", self._what, err)
                await asyncio.sleep(min(RETRY_CAP, 0.1 * 2**attempt))
                continue
            attempt = 0

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
