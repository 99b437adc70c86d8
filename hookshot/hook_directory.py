"""What the webhook intake needs to know about a generic hook, and where it finds it.

In one process the intake reads the connection store. In the scale-out roles the `webhooks`
processes hold no room state: the `bridge` process publishes a directory (hookId -> room,
state key, secret, expiry, waitForComplete) to a Redis hash, and the intake reads one entry
per request (one round trip; always as fresh as the bridge's last write).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hookshot import wire
from hookshot.connections.base import Connection
from hookshot.connections.generic_hook import GenericHook
from hookshot.errors import HookshotError
from hookshot.store import ConnectionStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HookEntry:
    """One generic hook as the intake sees it."""

    hook_id: str
    room_id: str
    state_key: str
    require_secret: bool = False
    secret: str | None = None
    wait_for_complete: bool | None = None
    expires_at: float | None = None  # unix seconds

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or time.time())


def entry_for(hook: GenericHook) -> HookEntry:
    expiry = hook.state.expiration_date
    return HookEntry(
        hook_id=hook.hook_id,
        room_id=hook.room_id,
        state_key=hook.state_key,
        require_secret=hook.state.require_secret,
        secret=hook.secret,
        wait_for_complete=hook.state.wait_for_complete,
        expires_at=expiry.timestamp() if expiry is not None else None,
    )


def encode_entry(entry: HookEntry) -> str:
    return json.dumps(
        {
            "room": entry.room_id,
            "key": entry.state_key,
            "requireSecret": entry.require_secret,
            "secret": entry.secret,
            "wait": entry.wait_for_complete,
            "expires": entry.expires_at,
        },
        separators=(",", ":"),
    )


def decode_entry(hook_id: str, text: str) -> HookEntry | None:
    """The entry stored for `hook_id`; None (and a log line) for anything malformed."""
    try:
        raw = json.loads(text)
        room, key = raw["room"], raw["key"]
        secret, wait, expires = raw.get("secret"), raw.get("wait"), raw.get("expires")
        if not (isinstance(room, str) and isinstance(key, str)):
            raise TypeError("room and key must be strings")
        if secret is not None and not isinstance(secret, str):
            raise TypeError("secret must be a string")
        if wait is not None and not isinstance(wait, bool):
            raise TypeError("wait must be a boolean")
        if expires is not None and (
            isinstance(expires, bool) or not isinstance(expires, int | float)
        ):
            raise TypeError("expires must be a number")
    except (ValueError, KeyError, TypeError) as err:
        log.error("hook directory entry for %s is malformed: %s", hook_id[:6], err)
        return None
    return HookEntry(
        hook_id=hook_id,
        room_id=room,
        state_key=key,
        require_secret=raw.get("requireSecret") is True,
        secret=secret,
        wait_for_complete=wait,
        expires_at=float(expires) if expires is not None else None,
    )


class DirectoryUnavailable(HookshotError):
    """The directory cannot say whether a hook exists right now."""


class HookLookup(Protocol):
    async def find(self, hook_id: str) -> HookEntry | None: ...


class StoreLookup:
    """The in-process directory: the connection store itself."""

    def __init__(self, store: ConnectionStore) -> None:
        self._store = store

    async def find(self, hook_id: str) -> HookEntry | None:
        hook = self._store.hook(hook_id)
        return entry_for(hook) if hook is not None else None


class RedisHookDirectory:
    """The `webhooks` role's directory: reads the bridge's Redis hash."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._key = prefix + wire.REDIS_HOOKS
        self._ready_key = prefix + wire.REDIS_HOOKS_READY

    async def find(self, hook_id: str) -> HookEntry | None:
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
        store.watch(self._changed)

    def _changed(self, old: Connection | None, new: Connection | None) -> None:
        for conn in (old, new):
            if isinstance(conn, GenericHook):
                self._dirty.add(conn.hook_id)
        self._wake.set()

    async def publish_all(self) -> None:
        """Replace the whole directory with the store's hooks (atomically, via RENAME)."""
        self._dirty.clear()
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
        log.info("published %d webhooks to the hook directory", len(entries))

    def _hooks(self) -> list[GenericHook]:
        return [c for c in self._store if isinstance(c, GenericHook)]

    async def _write_dirty(self) -> None:
        ids, self._dirty = self._dirty, set()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for hook_id in ids:
                    hook = self._store.hook(hook_id)
                    if hook is None:
                        pipe.hdel(self._key, hook_id)
                    else:
                        pipe.hset(self._key, hook_id, encode_entry(entry_for(hook)))
                await pipe.execute()
        except BaseException:
            self._dirty |= ids
            raise

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
