"""The bridge deployments the delivery bench drains a backlog through: one process with its
SQLite queue, or a `bridge` and a `sender` process sharing a Redis queue (issue 16 point 6).
Each can be stopped, filled with webhook jobs exactly as the intake queues them, started,
asked how deep its queues are, and cleared."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from pathlib import Path

from redis.asyncio import Redis

from hookshot import wire
from hookshot.core.queue.base import NewJob
from hookshot.core.queue.redis import RedisQueue
from hookshot.core.queue.sqlite import SqliteQueue
from hookshot.dev.homeserver import free_port
from hookshot.dev.stack import BridgeFiles, BridgeProcess, write_role_config

TOPICS = (wire.TOPIC_WEBHOOK, wire.TOPIC_SEND)


class SingleStack:
    """`hookshot run`: one process, the queue in its SQLite file."""

    name = "single process (SQLite)"

    def __init__(self, files: BridgeFiles, root: Path) -> None:
        self.files = files
        self.procs = [BridgeProcess(files, root / "bridge.log")]
        self._db = files.root / "hookshot.db"

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    def start(self) -> None:
        for proc in self.procs:
            proc.start()  # returns once /ready answers 200

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    async def push(self, jobs: Sequence[NewJob]) -> None:
        """Into the stopped bridge's queue."""
        queue = await SqliteQueue.open(self._db)
        try:
            await queue.push(wire.TOPIC_WEBHOOK, jobs)
        finally:
            await queue.close()

    async def depth(self, topic: str) -> int:
        """Read beside the running bridge (a WAL reader never blocks its writer)."""
        with sqlite3.connect(f"file:{self._db}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT count(*) FROM jobs WHERE topic = ?", (topic,)).fetchone()
        return int(row[0])

    async def clear(self) -> None:
        """Drop the queued jobs of the stopped bridge."""
        with sqlite3.connect(self._db) as conn:
            conn.execute("DELETE FROM jobs WHERE topic IN (?, ?)", TOPICS)


class RolesStack(SingleStack):
    """`--role bridge` (room state, routing) and `--role sender` over one Redis queue."""

    name = "bridge + sender processes (Redis)"

    def __init__(self, files: BridgeFiles, root: Path, redis_url: str) -> None:
        self.files = files
        self._url = redis_url
        self._prefix = f"hookshot-bench-{uuid.uuid4().hex[:8]}:"
        queue = {"redisUri": redis_url, "prefix": self._prefix}
        self.procs = []
        for role, port in (("bridge", files.webhook_port), ("sender", free_port())):
            config = write_role_config(files, role, role, port, queue)
            log = root / f"{role}.log"
            self.procs.append(
                BridgeProcess(files, role=role, config_path=config, port=port, log_path=log)
            )

    async def push(self, jobs: Sequence[NewJob]) -> None:
        queue = await RedisQueue.open(self._url, prefix=self._prefix)
        try:
            await queue.push(wire.TOPIC_WEBHOOK, jobs)
        finally:
            await queue.close()

    async def depth(self, topic: str) -> int:
        queue = await RedisQueue.open(self._url, prefix=self._prefix)
        try:
            return await queue.depth(topic)
        finally:
            await queue.close()

    async def clear(self) -> None:
        """Every key of the run (the stopped bridge publishes its directory again)."""
        async with Redis.from_url(self._url) as client:
            keys = [k async for k in client.scan_iter(match=self._prefix + "*")]
            for i in range(0, len(keys), 1000):
                await client.delete(*keys[i : i + 1000])
