"""Widget sessions in Redis (`cache.redisUri`): they survive a bridge restart."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import cast

from redis.asyncio import Redis

from hookshot import wire
from hookshot.widget.sessions import Session, new_token


class RedisSessionStore:
    """Sessions in Redis (`cache.redisUri`): they survive a bridge restart. Redis expires
    each a minute after its end; until then `get` returns it and the routes refuse it."""

    GRACE = 60

    def __init__(self, redis: Redis, prefix: str, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._base = prefix + wire.REDIS_SESSIONS
        self._clock = clock

    async def create(self, user_id: str, lifetime_seconds: float) -> Session:
        session = Session(new_token(), user_id, self._clock() + lifetime_seconds)
        ttl = int(lifetime_seconds) + self.GRACE
        user_key = f"{self._base}:u:{user_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(
                f"{self._base}:t:{session.token}",
                json.dumps({"user": user_id, "expires": session.expires_at}),
                ex=ttl,
            )
            pipe.sadd(user_key, session.token)
            pipe.expire(user_key, ttl)
            await pipe.execute()
        return session

    async def get(self, token: str) -> Session | None:
        raw = await self._redis.get(f"{self._base}:t:{token}")
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return Session(token, str(data["user"]), float(data["expires"]))
        except (ValueError, KeyError, TypeError):
            return None

    async def delete(self, token: str) -> None:
        await self._redis.delete(f"{self._base}:t:{token}")

    async def delete_all(self, user_id: str) -> None:
        user_key = f"{self._base}:u:{user_id}"
        tokens = cast("set[str]", await self._redis.smembers(user_key))
        await self._redis.delete(user_key, *(f"{self._base}:t:{t}" for t in tokens))
