"""Which room an upgraded room replaced: the walk back (hops, cycles) and the record in every
ValueStore backend (memory, SQLite across a reopen, the real Redis)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from conftest import REDIS_URL, redis_prefix

from hookshot.core.lineage import MAX_HOPS, Lineage, walk
from hookshot.core.queue import MemoryQueue, SqliteQueue
from hookshot.core.queue.redis import RedisQueue


def _steps(links: dict[str, str]) -> Callable[[str], Awaitable[str | None]]:
    async def step(room: str) -> str | None:
        return links.get(room)

    return step


async def test_walk_follows_predecessors_nearest_first() -> None:
    step = _steps({"!c": "!b", "!b": "!a"})
    assert await walk("!c", step) == ["!b", "!a"]
    assert await walk("!a", step) == []


async def test_walk_stops_after_max_hops() -> None:
    links = {f"!r{n}": f"!r{n - 1}" for n in range(1, 20)}
    got = await walk("!r19", _steps(links))
    assert got == [f"!r{n}" for n in range(18, 18 - MAX_HOPS, -1)]


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ({"!a": "!a"}, []),  # a room naming itself
        ({"!a": "!b", "!b": "!a"}, ["!b"]),
        ({"!a": "!b", "!b": "!c", "!c": "!b"}, ["!b", "!c"]),
    ],
)
async def test_walk_stops_at_a_cycle(links: dict[str, str], expected: list[str]) -> None:
    assert await walk("!a", _steps(links)) == expected


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
async def test_lineage_is_recorded_in_every_backend(backend: str, tmp_path: Path) -> None:
    async with contextlib.AsyncExitStack() as stack:
        store: MemoryQueue | SqliteQueue | RedisQueue
        if backend == "memory":
            store = MemoryQueue()
        elif backend == "sqlite":
            store = await SqliteQueue.open(tmp_path / "q.db")
        else:
            prefix = await stack.enter_async_context(redis_prefix())
            store = await RedisQueue.open(REDIS_URL, prefix=prefix)
        stack.push_async_callback(store.close)
        lineage = Lineage(store)
        assert await lineage.predecessors("!new") == []
        await lineage.record("!mid", "!old")
        await lineage.record("!new", "!mid")
        await lineage.record("!new", "!mid")  # a redone upgrade
        await lineage.record("!self", "!self")  # never recorded
        assert await lineage.predecessors("!new") == ["!mid", "!old"]
        assert await lineage.predecessor("!mid") == "!old"
        assert await lineage.predecessor("!self") is None


async def test_sqlite_lineage_survives_a_reopen(tmp_path: Path) -> None:
    store = await SqliteQueue.open(tmp_path / "q.db")
    await Lineage(store).record("!new", "!old")
    await store.close()
    store = await SqliteQueue.open(tmp_path / "q.db")
    try:
        assert await Lineage(store).predecessors("!new") == ["!old"]
    finally:
        await store.close()
