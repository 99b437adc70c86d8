"""The Redis connections a process shares with the other processes (beside its queue):

- `coord`, the queue's Redis (`queue.redisUri`): the hook directory and pub/sub news;
- `cache` (`cache.redisUri`, else the queue's Redis): delivery log and widget sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hookshot.config import Config

_TIMEOUT = 5.0


def connect(url: str) -> Redis:
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=_TIMEOUT,
        socket_timeout=_TIMEOUT * 2,
        # Finds a subscription whose server went away.
        health_check_interval=10,
    )


@dataclass
class SharedRedis:
    coord: Redis | None
    cache: Redis | None
    prefix: str

    @classmethod
    def from_config(cls, config: Config) -> SharedRedis:
        coord = connect(config.queue.redis_uri) if config.queue else None
        if config.cache is not None:
            cache: Redis | None = connect(config.cache.redis_uri)
        else:
            cache = coord
        prefix = config.queue.prefix if config.queue else "hookshot:"
        return cls(coord, cache, prefix)

    async def reachable(self) -> bool:
        """Do both answer PING within a second?"""
        for client in {id(c): c for c in (self.coord, self.cache) if c is not None}.values():
            try:
                async with asyncio.timeout(1.0):
                    await client.ping()
            except (RedisError, TimeoutError, OSError):
                return False
        return True

    async def close(self) -> None:
        for client in {id(c): c for c in (self.coord, self.cache) if c is not None}.values():
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()
