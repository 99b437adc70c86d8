"""One `bridge` process at a time. Its room state lives in memory and is kept current by the
homeserver's events; two bridges would split those events between them (the queue hands each
to one consumer) and each would route webhooks on half a picture. A second bridge therefore
stands by until the first one's lock lapses, and takes over then (a warm standby).

The lock is a Redis key holding the process's name with a lease, renewed every lease/3. If
the key vanished (Redis restarted empty) the holder takes it again; if someone else holds it
now, this process has lost it and must stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hookshot import wire

log = logging.getLogger(__name__)

_RENEW = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then
    redis.call('pexpire', KEYS[1], ARGV[2])
    return 1
elseif not holder then
    redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class BridgeLock:
    def __init__(self, redis: Redis, prefix: str, holder: str, lease: float) -> None:
        self._redis = redis
        self._key = prefix + wire.REDIS_BRIDGE_LOCK
        self._holder = holder
        self._lease_ms = int(lease * 1000)
        self._interval = lease / 3
        self._stopping = False

    async def acquire(self) -> None:
        """Wait until this process holds the lock."""
        waited = 0
        while True:
            try:
                if await self._redis.set(self._key, self._holder, nx=True, px=self._lease_ms):
                    log.info("holding the bridge lock as %s", self._holder)
                    return
                if waited % 30 == 0:
                    other = await self._redis.get(self._key)
                    log.warning("another bridge process (%s) is running; standing by", other)
            except RedisError as err:
                log.warning("cannot take the bridge lock: %s", err)
            waited += 1
            await asyncio.sleep(self._interval)

    async def keep(self, lost: Callable[[str], None]) -> None:
        """Renew until stopped; call `lost` (once) if another process took the lock."""
        while not self._stopping:
            await asyncio.sleep(self._interval)
            try:
                held = await self._redis.eval(_RENEW, 1, self._key, self._holder, self._lease_ms)
            except RedisError as err:
                log.warning("cannot renew the bridge lock: %s", err)
                continue
            if not held and not self._stopping:
                lost("another bridge process took the bridge lock")
                return

    async def release(self) -> None:
        self._stopping = True
        try:
            await self._redis.eval(_RELEASE, 1, self._key, self._holder)
        except RedisError as err:
            log.warning("cannot release the bridge lock (it lapses by itself): %s", err)
