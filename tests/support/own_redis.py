"""A redis-server of a test's own (the machine's Redis on 6379 keeps nothing on disk and is
shared): for tests that kill and restart Redis itself."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError


class OwnRedis:
    """A redis-server of this test's own, with an append-only file (fsync every second)."""

    def __init__(self, root: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._root = root
        self._server: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._server = await asyncio.create_subprocess_exec(
            *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
            *("--dir", str(self._root), "--save", "", "--logfile", str(self._root / "log")),
            *("--appendonly", "yes", "--appendfsync", "everysec"),
        )
        async with asyncio.timeout(10), Redis.from_url(self.url) as client:
            while True:
                with contextlib.suppress(RedisError):
                    if await client.ping():
                        return
                await asyncio.sleep(0.02)

    async def kill(self) -> None:
        assert self._server is not None
        self._server.kill()  # SIGKILL: no shutdown, no final AOF fsync
        await self._server.wait()
