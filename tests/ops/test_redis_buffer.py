"""Grouped buffered writes: adjacent posts for one write function are one call (the delivery
log's records one script call per batch), with every write still in post order."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from hookshot.ops.delivery_log_redis import RETENTION, RedisDeliveryLog
from hookshot.ops.redis_buffer import GROUP_MAX, WriteBuffer


async def flush(buffer: WriteBuffer) -> None:
    """Send what was posted: a stopped buffer's run writes what is left, then returns."""
    buffer.stop()
    await buffer.run()


async def test_adjacent_grouped_posts_are_one_write_in_post_order(
    redis: tuple[Redis, str],
) -> None:
    client, prefix = redis
    key = prefix + "log"
    calls: list[list[Any]] = []

    def grouped(pipe: Pipeline, items: list[Any]) -> None:
        calls.append(items)
        pipe.rpush(key, *items)

    def other(pipe: Pipeline, items: list[Any]) -> None:
        calls.append(items)
        pipe.rpush(key, *items)

    buffer = WriteBuffer(client, "test")
    for n in range(3):
        buffer.post_grouped(grouped, f"a{n}")
    buffer.post(lambda pipe: pipe.rpush(key, "plain"))
    buffer.post_grouped(grouped, "b0")
    buffer.post_grouped(other, "c0")  # another function: a write of its own
    tail = [f"d{n}" for n in range(GROUP_MAX + 2)]
    for item in tail:
        buffer.post_grouped(grouped, item)
    await flush(buffer)
    assert calls == [["a0", "a1", "a2"], ["b0"], ["c0"], tail[:GROUP_MAX], tail[GROUP_MAX:]]
    assert await client.lrange(key, 0, -1) == ["a0", "a1", "a2", "plain", "b0", "c0", *tail]


async def test_records_posted_together_arrive_as_entries_trimmed_per_hook(
    redis: tuple[Redis, str],
) -> None:
    client, prefix = redis
    log = RedisDeliveryLog(client, prefix, per_hook=3)
    for n in range(5):
        log.record("h", "POST", 202, 10 + n, "queued", f"generic:h{n}")
    log.record("k", "PUT", 401, 7, "refused: Missing or invalid secret", None)
    log.note("generic:h4", "transformation failed: boom")  # breaks the run of records
    log.record("k", "POST", 200, 8, "duplicate (already received)", None)
    log.stop()
    await log.run()  # sends what was posted, then returns
    entries = await log.entries("h")
    assert [(e.method, e.status, e.size, e.result, e.notes) for e in entries] == [
        ("POST", 202, 12, "queued", []),
        ("POST", 202, 13, "queued", []),
        ("POST", 202, 14, "queued", ["transformation failed: boom"]),
    ]  # oldest first, trimmed to 3
    assert [(e.method, e.status, e.size) for e in await log.entries("k")] == [
        ("PUT", 401, 7),
        ("POST", 200, 8),
    ]
    hook_ttl = await client.ttl(f"{prefix}deliveries:h:h")
    entry_ttl = await client.ttl(f"{prefix}deliveries:e:generic:h4")
    assert 0 < hook_ttl <= RETENTION and 0 < entry_ttl <= RETENTION
    # Trimmed from the hook's list; its hash just expires.
    assert await client.hget(f"{prefix}deliveries:e:generic:h0", "size") == "10"
