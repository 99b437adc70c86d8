"""Fire-and-forget Redis writes (delivery log entries, pub/sub news): callers never wait or
fail; one task sends what was posted, in order, one pipeline per batch, and waits out Redis
being unreachable. Only work whose loss is acceptable goes here: the queue has its own.

A grouped write (`post_grouped`) joins the adjacent ones of the same function in a batch:
it is called once with all their items, so a flood of delivery-log records is one script
call per batch instead of one command (packed, sent, parsed) per request."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Write = Callable[[Pipeline], None]
# Adds the commands for the items of adjacent posts (in post order) to the pipeline.
GroupWrite = Callable[[Pipeline, list[Any]], None]
_Entry = Write | tuple[GroupWrite, Any]

BUFFER = 10_000
RETRY_CAP = 5.0
GROUP_MAX = 256  # items per grouped write: one script call of a backlog stays short in Redis


class WriteBuffer:
    """At most `limit` writes wait; beyond that the oldest are dropped (and counted)."""

    def __init__(self, redis: Redis, what: str, limit: int = BUFFER) -> None:
        self._redis = redis
        self._what = what
        self._buffer: deque[_Entry] = deque(maxlen=limit)
        self._wake = asyncio.Event()
        self._stopping = False
        self.dropped = 0

    def post(self, write: Write) -> None:
        self._append(write)

    def post_grouped(self, write: GroupWrite, item: Any) -> None:
        """Post `item` for `write`, which gets it along with the items of the adjacent
        grouped posts for an equal `write` in its batch (a bound method is fine)."""
        self._append((write, item))

    def _append(self, entry: _Entry) -> None:
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped += 1
        self._buffer.append(entry)
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
                    _fill(pipe, batch)
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


def _fill(pipe: Pipeline, batch: Sequence[_Entry]) -> None:
    """The batch's commands in post order, each run of grouped posts as one write."""
    i, end = 0, len(batch)
    while i < end:
        entry = batch[i]
        i += 1
        if not isinstance(entry, tuple):
            entry(pipe)
            continue
        write, item = entry
        items = [item]
        while i < end and len(items) < GROUP_MAX:
            nxt = batch[i]
            if not isinstance(nxt, tuple) or nxt[0] != write:
                break
            items.append(nxt[1])
            i += 1
        write(pipe, items)
