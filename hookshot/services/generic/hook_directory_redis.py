"""The hook directory in Redis: the `bridge` process keeps a hash of its generic hooks
(`DirectoryPublisher`), the `webhooks` processes read entries from it (`RedisHookDirectory`),
each keeping what it read for `CACHE_TTL`: a flood on one hook costs one Redis read per
`CACHE_TTL`, not one per request (that read was ~15% of a webhooks process under wrk).
`DirectoryPublisher.flush` waits out `CACHE_TTL` after its write, so once it returns no
process still serves a rotated or removed hook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hookshot import wire
from hookshot.core.connections import Connection
from hookshot.core.store import ConnectionStore
from hookshot.services.generic.hook import GenericHook, find_hook
from hookshot.services.generic.hook_directory import (
    DirectoryUnavailable,
    HookEntry,
    decode_entry,
    encode_entry,
    entry_for,
)

log = logging.getLogger(__name__)


# How long a webhooks process trusts an entry (or a miss) it read.
CACHE_TTL: Final = 0.5
# Entries kept per process: a flood of made-up ids evicts real ones (they are read again),
# never grows memory.
CACHE_SIZE: Final = 4096


class RedisHookDirectory:
    """The `webhooks` role's directory: reads the bridge's Redis hash."""

    def __init__(
        self, redis: Redis, prefix: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._redis = redis
        self._key = prefix + wire.REDIS_HOOKS
        self._ready_key = prefix + wire.REDIS_HOOKS_READY
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, HookEntry | None]] = OrderedDict()

    async def find(self, hook_id: str) -> HookEntry | None:
        now = self._clock()
        cached = self._cache.get(hook_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        entry = await self._read(hook_id)  # an unpublished directory raises: not kept
        self._cache[hook_id] = (now + CACHE_TTL, entry)
        self._cache.move_to_end(hook_id)
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return entry

    async def _read(self, hook_id: str) -> HookEntry | None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(self._key, hook_id)
            pipe.exists(self._ready_key)
            text, published = await pipe.execute()
        if text is not None:
            return decode_entry(hook_id, text)
        if not published:
            # Redis lost the directory (restarted empty) or no bridge ran yet: a 404 would
            # be a lie; the bridge publishes it again within seconds.
            raise DirectoryUnavailable("the hook directory is not published yet")
        return None

    async def published(self) -> bool:
        """Has a bridge published a whole directory (so a miss really is an unknown hook)?"""
        return bool(await self._redis.exists(self._ready_key))


class DirectoryPublisher:
    """The `bridge` role's side: keeps the Redis hash equal to the store's generic hooks.

    Changes are kept as a set of dirty hook ids and written from the store's *current* value,
    so writes can never reorder into a stale entry; after a Redis error the whole directory is
    written again.
    """

    RETRY_CAP = 5.0
    # How often an idle publisher checks that the directory is still there (a Redis that
    # restarted without persistence comes back empty).
    CHECK_INTERVAL = 5.0

    def __init__(self, redis: Redis, prefix: str, store: ConnectionStore) -> None:
        self._redis = redis
        self._key = prefix + wire.REDIS_HOOKS
        self._ready_key = prefix + wire.REDIS_HOOKS_READY
        self._store = store
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._full = True  # nothing published yet
        self._stopping = False
        # Changes seen and changes written, counted, so `flush` can wait for a given one.
        self._changes = 0
        self._written = 0
        self._written_at = -CACHE_TTL  # monotonic time of the last write
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        # Set once this process's whole directory is in Redis (an older one may be there).
        self.published = asyncio.Event()
        store.watch(self._changed)

    def _changed(self, old: Connection | None, new: Connection | None) -> None:
        for conn in (old, new):
            if isinstance(conn, GenericHook):
                self._dirty.add(conn.hook_id)
                self._changes += 1
        self._wake.set()

    async def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every change seen so far is in Redis and past every webhooks process's
        cache (a rotated hook's old id must answer 404 everywhere before the user is told);
        False on timeout."""
        target = self._changes
        if self._written < target:
            waiter = asyncio.get_running_loop().create_future()
            entry = (target, waiter)
            self._waiters.append(entry)
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(waiter), timeout)
            except TimeoutError:
                log.warning("hook directory: changes not written to Redis within %.0fs", timeout)
                return False
            finally:
                if entry in self._waiters:
                    self._waiters.remove(entry)
        # A process may have read the old entry just before the write.
        stale_until = self._written_at + CACHE_TTL - time.monotonic()
        if stale_until > 0:
            await asyncio.sleep(stale_until)
        return True

    def _wrote(self, upto: int) -> None:
        self._written = max(self._written, upto)
        self._written_at = time.monotonic()
        for target, waiter in self._waiters:
            if target <= self._written and not waiter.done():
                waiter.set_result(None)

    async def publish_all(self) -> None:
        """Replace the whole directory with the store's hooks (atomically, via RENAME)."""
        self._dirty.clear()
        upto = self._changes
        entries = {h.hook_id: encode_entry(entry_for(h)) for h in self._hooks()}
        temp = f"{self._key}:next"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(temp)
            if entries:
                pipe.hset(temp, mapping=cast(Any, entries))
                pipe.rename(temp, self._key)
            else:
                pipe.delete(self._key)
            pipe.set(self._ready_key, "1")
            await pipe.execute()
        self._full = False
        self._wrote(upto)
        self.published.set()
        log.info("published %d webhooks to the hook directory", len(entries))

    def _hooks(self) -> list[GenericHook]:
        return [c for c in self._store if isinstance(c, GenericHook)]

    async def _write_dirty(self) -> None:
        ids, self._dirty = self._dirty, set()
        upto = self._changes
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for hook_id in ids:
                    hook = find_hook(self._store, hook_id)
                    if hook is None:
                        pipe.hdel(self._key, hook_id)
                    else:
                        pipe.hset(self._key, hook_id, encode_entry(entry_for(hook)))
                await pipe.execute()
        except BaseException:
            self._dirty |= ids
            raise
        self._wrote(upto)

    async def run(self) -> None:
        """Write changes as they happen until `stop()`."""
        attempt = 0
        while not self._stopping:
            try:
                if not self._full and not self._dirty:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.CHECK_INTERVAL)
                    if not self._dirty and not await self._redis.exists(self._ready_key):
                        log.warning("hook directory vanished from Redis; publishing it again")
                        self._full = True
                    continue
                await (self.publish_all() if self._full else self._write_dirty())
                attempt = 0
            except RedisError as err:
                # Redis may have restarted empty: write everything once it is back.
                self._full = True
                attempt += 1
                delay = min(self.RETRY_CAP, 0.2 * 2**attempt)
                log.warning("hook directory: %s; retrying in %.1fs", err, delay)
                await asyncio.sleep(delay)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
