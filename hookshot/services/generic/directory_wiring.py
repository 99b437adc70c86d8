"""Where this process finds generic hooks, by role (see hook_directory.py).

One process reads its connection store. With roles split, a `webhooks` process reads the Redis
directory (and reports ready only once a bridge has published it), and the `bridge` process
publishes it (and reports ready only once it has written every hook, static ones too).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hookshot.core.store import ConnectionStore
from hookshot.services.generic.hook_directory import HookLookup, StoreLookup

if TYPE_CHECKING:
    from hookshot.ops.roles import Role
    from hookshot.ops.shared_redis import SharedRedis
    from hookshot.services.generic.hook_directory_redis import (
        DirectoryPublisher,
        RedisHookDirectory,
    )

log = logging.getLogger(__name__)


class HookDirectoryWiring:
    """The hook lookup of this process's role, and the directory's share of start and stop."""

    def __init__(self, store: ConnectionStore, role: Role, shared: SharedRedis | None) -> None:
        from hookshot.ops.roles import Role

        self.directory: RedisHookDirectory | None = None
        self.publisher: DirectoryPublisher | None = None
        self.hooks: HookLookup = StoreLookup(store)
        if role is Role.ALL:
            return
        assert shared is not None and shared.coord is not None, "roles need Redis"
        # Redis is imported only by processes that use it.
        from hookshot.services.generic.hook_directory_redis import (
            DirectoryPublisher,
            RedisHookDirectory,
        )

        if role is Role.WEBHOOKS:
            self.directory = RedisHookDirectory(shared.coord, shared.prefix)
            self.hooks = self.directory
        if role is Role.BRIDGE:
            self.publisher = DirectoryPublisher(shared.coord, shared.prefix, store)

    async def until_ready(self) -> None:
        if self.directory is not None:
            await self._wait_for_directory(self.directory)
        if self.publisher is not None:
            # Ready means every hook (static connections too) is known to the webhooks
            # processes: until then they would answer from the previous bridge's directory.
            await self.publisher.published.wait()

    async def _wait_for_directory(self, directory: RedisHookDirectory) -> None:
        """A `webhooks` process answers only once a bridge has published its hooks."""
        from redis.exceptions import RedisError

        attempt = 0
        while True:
            try:
                if await directory.published():
                    return
                if attempt % 25 == 0:
                    log.info("waiting for a bridge process to publish the hook directory")
            except RedisError as err:
                if attempt % 25 == 0:
                    log.warning("waiting for Redis: %s", err)
            attempt += 1
            await asyncio.sleep(0.2)

    async def readiness(self) -> Mapping[str, bool]:
        if self.directory is None:
            return {}
        from redis.exceptions import RedisError

        try:
            return {"hookDirectory": await self.directory.published()}
        except RedisError:
            return {"hookDirectory": False}

    async def flush(self) -> bool:
        return await self.publisher.flush() if self.publisher is not None else True

    def stop(self) -> None:
        if self.publisher is not None:
            self.publisher.stop()
