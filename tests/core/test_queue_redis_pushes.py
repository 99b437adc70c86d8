"""RedisQueue's merged pushes: adjacent pushes to one topic in a round trip go as one script
call, and each caller still gets exactly what its own call would have answered, in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import REDIS_URL, redis_prefix
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from test_queue import ids, new

from hookshot.core.queue import NewJob
from hookshot.core.queue.base import GroupInfo
from hookshot.core.queue.redis import RedisQueue
from hookshot.wire import TOPIC_SEND, TOPIC_WEBHOOK


@pytest.fixture
async def queue() -> AsyncIterator[tuple[RedisQueue, str]]:
    async with redis_prefix() as prefix:
        opened = await RedisQueue.open(REDIS_URL, prefix=prefix)
        try:
            yield opened, prefix
        finally:
            await opened.close()


def grouped(job_id: str) -> list[NewJob]:
    return [NewJob(job_id, "!p", {"id": job_id}, group="g")]


async def test_concurrent_pushes_to_one_topic_are_one_call_with_each_callers_flags(
    queue: tuple[RedisQueue, str],
) -> None:
    q, _ = queue
    assert await q.push(TOPIC_WEBHOOK, new("old")) == [True]
    calls, trips = q.script_calls, q.round_trips
    results = await asyncio.gather(
        q.push(TOPIC_WEBHOOK, new("a1", "a2")),
        q.push(TOPIC_WEBHOOK, new("a1")),  # earlier in the same call: a duplicate
        q.push(TOPIC_WEBHOOK, new("c1", "old", "c1")),  # pending already, then repeated
        *(q.push(TOPIC_WEBHOOK, new(f"j{i}", partition=f"!r{i}")) for i in range(50)),
    )
    assert results[:3] == [[True, True], [False], [True, False, False]]
    assert results[3:] == [[True]] * 50
    # Every round trip carried one call: the pushes of each merged into one.
    assert q.script_calls - calls == q.round_trips - trips < 53
    # Partition !room got one ticket (its head); each j has its own partition.
    jobs = await q.take(TOPIC_WEBHOOK, 100, timeout=0)
    assert sorted(ids(jobs)) == sorted(["old", *(f"j{i}" for i in range(50))])
    assert await q.depth(TOPIC_WEBHOOK) == 4 + 50  # stored once each: old, a1, a2, c1, j*
    await q.ack(next(job for job in jobs if job.id == "old"))
    assert ids(await q.take(TOPIC_WEBHOOK, 100, timeout=0)) == ["a1"]  # lane in push order


async def test_a_push_to_another_topic_or_a_settle_between_breaks_the_run(
    queue: tuple[RedisQueue, str],
) -> None:
    """The group's size seen by `group_info` shows where it ran among the pushes."""
    q, _ = queue
    await q.push(TOPIC_WEBHOOK, grouped("head"))
    (head,) = await q.take(TOPIC_WEBHOOK, 10, timeout=0)
    calls = q.script_calls
    results: list[Any] = await asyncio.gather(
        q.push(TOPIC_WEBHOOK, grouped("g1")),
        q.group_info(head),
        q.push(TOPIC_WEBHOOK, grouped("g2")),
        q.push(TOPIC_SEND, grouped("s1")),
        q.push(TOPIC_WEBHOOK, grouped("g3")),
        q.group_info(head),
    )
    assert results == [[True], GroupInfo(2, False), [True], [True], [True], GroupInfo(4, False)]
    assert q.script_calls - calls == 6  # nothing adjacent to merge
    await q.ack(head)
    assert ids(await q.take(TOPIC_WEBHOOK, 10, timeout=0)) == ["g1"]


async def test_merged_pushes_fail_together_and_survive_a_flushed_script_cache(
    queue: tuple[RedisQueue, str],
) -> None:
    q, prefix = queue
    async with Redis.from_url(REDIS_URL) as client:
        await client.script_flush()  # what a Redis restart does to it
        results = await asyncio.gather(*(q.push(TOPIC_WEBHOOK, new(f"f{i}")) for i in range(5)))
        assert results == [[True]] * 5
        # A key of the wrong type makes the merged call fail: each of its pushes hears it.
        await client.set(f"{prefix}{TOPIC_SEND}:jobs", "not a hash")
        outcomes = await asyncio.gather(
            *(q.push(TOPIC_SEND, new(f"x{i}")) for i in range(3)),
            q.push(TOPIC_WEBHOOK, new("after")),
            return_exceptions=True,
        )
    assert [type(o) for o in outcomes[:3]] == [ResponseError] * 3
    assert outcomes[3] == [True]
    assert await q.depth(TOPIC_WEBHOOK) == 6
