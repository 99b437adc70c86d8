"""RedisQueue as several processes share it: a partition is held across consumers, a dead
consumer's job goes to a live one after its lease, acks are atomic with their follow-ups,
and a SIGKILLed consumer loses nothing. The protocol suite runs on Redis in test_queue.py."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REDIS_URL, redis_prefix
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from support.own_redis import OwnRedis
from test_queue import drain, ids, new

from hookshot.core.queue import DEDUPE_WINDOW, Job, NewJob, NotInFlight, QueueError
from hookshot.core.queue.redis import RedisQueue
from hookshot.core.queue.settling import SettlingQueue
from hookshot.wire import TOPIC_MATRIX, TOPIC_SEND, TOPIC_WEBHOOK

LEASE = 1.0  # short, so takeovers happen within a test; renewed every LEASE / 3
Consumer = Callable[..., Awaitable[RedisQueue]]


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    async with redis_prefix() as prefix:
        yield prefix


@pytest.fixture
async def consumer(prefix: str) -> AsyncIterator[Consumer]:
    """Opens RedisQueues on one prefix, as separate processes would; closes them after."""
    opened: list[RedisQueue] = []

    async def open_(**kwargs: Any) -> RedisQueue:
        kwargs.setdefault("lease", LEASE)
        queue = await RedisQueue.open(REDIS_URL, prefix=prefix, **kwargs)
        opened.append(queue)
        return queue

    yield open_
    for queue in reversed(opened):
        await queue.close()


async def take_now(queue: RedisQueue, topic: str = TOPIC_WEBHOOK, limit: int = 100) -> list[Job]:
    return await queue.take(topic, limit, timeout=0)


async def test_a_partition_is_in_flight_at_one_consumer_at_a_time(consumer: Consumer) -> None:
    a, b = await consumer(), await consumer()
    await a.push(TOPIC_WEBHOOK, new("a1", "a2", partition="!a"))
    await b.push(TOPIC_WEBHOOK, new("b1", "b2", partition="!b"))
    (a1,) = await a.take(TOPIC_WEBHOOK, 1)
    assert ids(await take_now(b)) == ["b1"]  # not a2: a1 is in flight at the other consumer
    assert await take_now(a) == []
    assert await take_now(b) == []
    await a.ack(a1)
    assert ids(await take_now(b)) == ["a2"]
    with pytest.raises(NotInFlight):
        await b.ack(a1)  # a job is settled by the consumer it was handed to


async def test_1000_jobs_across_4_consumers_arrive_once_each_in_partition_order(
    consumer: Consumer,
) -> None:
    queues = [await consumer() for _ in range(4)]
    rooms, per_room = 20, 50
    busy: set[str] = set()
    overlaps: list[str] = []
    seen: dict[str, list[int]] = {}
    delivered: list[str] = []

    async def produce() -> None:
        for i in range(per_room):  # interleaved with the consumers, ten rooms per push
            for start in (0, 10):
                jobs = [NewJob(f"r{r}-{i}", f"!r{r}", {"i": i}) for r in range(start, start + 10)]
                assert await queues[i % 4].push(TOPIC_WEBHOOK, jobs) == [True] * 10

    async def work(queue: RedisQueue, job: Job) -> None:
        if job.partition in busy:
            overlaps.append(job.id)
        busy.add(job.partition)
        seen.setdefault(job.partition, []).append(job.payload["i"])
        delivered.append(job.id)
        await asyncio.sleep(random.random() / 1000)
        busy.discard(job.partition)  # before the ack: its partition may move on from here
        await queue.ack(job)

    async def consume(queue: RedisQueue) -> None:
        while len(delivered) < rooms * per_room:
            jobs = await queue.take(TOPIC_WEBHOOK, 8, timeout=0.1)
            await asyncio.gather(*(work(queue, job) for job in jobs))

    async with asyncio.timeout(60):
        await asyncio.gather(produce(), *(consume(q) for q in queues))
    assert overlaps == []
    assert sorted(delivered) == sorted(f"r{r}-{i}" for r in range(rooms) for i in range(per_room))
    assert all(order == list(range(per_room)) for order in seen.values())
    assert len(seen) == rooms
    assert await queues[0].depth(TOPIC_WEBHOOK) == 0


async def test_a_closed_consumer_hands_its_jobs_over_at_once(consumer: Consumer) -> None:
    a, b = await consumer(lease=30), await consumer(lease=30)
    await a.push(TOPIC_WEBHOOK, new("a1", "a2"))
    assert ids(await a.take(TOPIC_WEBHOOK, 10)) == ["a1"]
    await a.close()  # without acking
    async with asyncio.timeout(5):  # far below the lease
        (again,) = await b.take(TOPIC_WEBHOOK, 10)
    assert (again.id, again.attempts) == ("a1", 0)
    await b.ack(again)
    assert ids(await take_now(b)) == ["a2"]


async def test_a_consumer_that_stops_renewing_loses_its_job_to_another(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = await consumer(), await consumer()
    await a.push(TOPIC_WEBHOOK, new("a1", "a2"))
    (a1,) = await a.take(TOPIC_WEBHOOK, 10)

    async def hung() -> None:
        pass

    monkeypatch.setattr(a, "_renew", hung)  # a hung process: alive, but renewing nothing
    started = time.monotonic()
    async with asyncio.timeout(10):
        (again,) = await b.take(TOPIC_WEBHOOK, 10)  # the redelivery comes before a2
    assert again.id == "a1"
    assert time.monotonic() - started >= LEASE * 0.9
    # The stale holder can no longer settle it, and its refused ack pushes no follow-ups.
    with pytest.raises(NotInFlight, match="taken over"):
        await a.ack(a1, {TOPIC_SEND: new("a1:s1")})
    assert await b.depth(TOPIC_SEND) == 0
    assert await take_now(b) == []  # a2 still waits for the redelivered a1
    await b.ack(again, {TOPIC_SEND: new("a1:s1")})
    assert ids(await take_now(b)) == ["a2"]
    assert ids(await take_now(b, TOPIC_SEND)) == ["a1:s1"]


async def test_a_settle_whose_reply_is_lost_may_be_repeated_or_else_lapses(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = await consumer(), await consumer()
    await a.push(TOPIC_WEBHOOK, new("u1", "u2", partition=""))
    u1, u2 = await a.take(TOPIC_WEBHOOK, 10)

    async def unreachable(batch: object) -> list[Any]:
        raise RedisConnectionError("Connection reset by peer")

    monkeypatch.setattr(a._writer, "_send", unreachable)
    for job in (u1, u2):
        with pytest.raises(RedisConnectionError):
            await a.ack(job)
    monkeypatch.undo()
    await a.ack(u1)  # a caller that repeats the settle in time
    started = time.monotonic()
    async with asyncio.timeout(10):  # one that does not: no longer renewed, u2 lapses
        (again,) = await b.take(TOPIC_WEBHOOK, 10)
    assert again.id == "u2"
    assert time.monotonic() - started >= LEASE / 2
    await b.ack(again)
    assert await a.depth(TOPIC_WEBHOOK) == 0


async def test_renewed_leases_keep_a_slow_job(consumer: Consumer) -> None:
    a, b = await consumer(), await consumer()
    await a.push(TOPIC_WEBHOOK, new("a1"))
    (a1,) = await a.take(TOPIC_WEBHOOK, 1)
    assert await b.take(TOPIC_WEBHOOK, 10, timeout=LEASE * 4) == []
    await a.ack(a1)
    assert await a.depth(TOPIC_WEBHOOK) == 0


async def test_ack_follow_ups_are_all_or_nothing_for_other_consumers(
    consumer: Consumer,
) -> None:
    a, b = await consumer(), await consumer()
    await a.push(TOPIC_WEBHOOK, new("w1"))
    (w1,) = await a.take(TOPIC_WEBHOOK, 1)
    await a.push(TOPIC_SEND, new("w1:s0"))  # an earlier delivery's follow-up
    sizes: list[tuple[int, ...]] = []
    watching = True

    async def watch() -> None:
        async with Redis.from_url(REDIS_URL) as client:
            while watching:  # both counts in one MULTI: a consistent snapshot
                pipe = client.pipeline(transaction=True)
                pipe.hlen(a._key(TOPIC_WEBHOOK, "jobs"))
                pipe.hlen(a._key(TOPIC_SEND, "jobs"))
                sizes.append(tuple(await pipe.execute()))
                await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.05)
    await a.ack(w1, {TOPIC_SEND: new("w1:s0", "w1:s1", "w1:s2")})
    await asyncio.sleep(0.05)
    watching = False
    await watcher
    assert set(sizes) == {(1, 1), (0, 3)}  # never the webhook gone without its follow-ups
    assert ids(await drain(b, TOPIC_SEND)) == ["w1:s0", "w1:s1", "w1:s2"]


async def test_a_retry_wakes_a_take_waiting_in_another_process(consumer: Consumer) -> None:
    a, b = await consumer(lease=30), await consumer(lease=30)
    await a.push(TOPIC_WEBHOOK, new("a1"))
    (a1,) = await a.take(TOPIC_WEBHOOK, 1)
    waiting = asyncio.create_task(b.take(TOPIC_WEBHOOK, 10))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await a.retry(a1, 0.2, "502")
    async with asyncio.timeout(5):
        (again,) = await waiting
    assert (again.id, again.attempts) == ("a1", 1)
    assert 0.15 < time.monotonic() - started < 2  # woken for its time, not by a poll


async def test_concurrent_calls_share_round_trips(consumer: Consumer) -> None:
    queue = await consumer()
    before = queue.round_trips
    results = await asyncio.gather(
        *(queue.push(TOPIC_WEBHOOK, new(f"j{i}", partition=f"!r{i % 10}")) for i in range(1000))
    )
    assert results == [[True]] * 1000
    assert queue.round_trips - before < 100


async def test_finished_jobs_leave_only_keys_that_expire(consumer: Consumer, prefix: str) -> None:
    queue = await consumer()
    await queue.push(TOPIC_WEBHOOK, new("a1", "a2", "u1") + new("u2", partition=""))
    a1, u2 = await take_now(queue)
    await queue.retry(a1, 0, "503")
    await queue.fail(u2, "400")
    await drain(queue, TOPIC_WEBHOOK)
    await queue.add_new(["$e"], ttl=60)
    async with Redis.from_url(REDIS_URL, decode_responses=True) as client:
        keys = {key async for key in client.scan_iter(match=f"{prefix}*")}
        lasting = {key for key in keys if await client.pttl(key) == -1}
        done_ttl = await client.pttl(f"{prefix}{TOPIC_WEBHOOK}:done:a1")
        seen_ttl = await client.pttl(f"{prefix}seen:$e")
    # The per-topic streams stay (they hold the consumer group); everything else expires.
    assert lasting == {f"{prefix}{TOPIC_WEBHOOK}:tickets", f"{prefix}{TOPIC_WEBHOOK}:wake"}
    assert DEDUPE_WINDOW * 1000 - 60_000 < done_ttl <= DEDUPE_WINDOW * 1000
    assert 0 < seen_ttl <= 60_000
    assert len(keys) == 2 + 4 + 1 + 1  # streams, done ids, seen key, failed records


async def test_a_flushed_script_cache_is_reloaded(consumer: Consumer) -> None:
    queue = await consumer()
    async with Redis.from_url(REDIS_URL) as client:
        await client.script_flush()  # what a Redis restart does to it
    assert await queue.push(TOPIC_WEBHOOK, new("a1")) == [True]
    assert ids(await take_now(queue)) == ["a1"]


async def test_an_unreachable_redis_fails_open() -> None:
    with pytest.raises(QueueError, match=r"cannot use Redis at redis://127\.0\.0\.1:1/0") as err:
        await RedisQueue.open("redis://user:secret@127.0.0.1:1/0")
    assert "secret" not in str(err.value)


# A consumer process killed with SIGKILL mid-job.

_CHILD = """
import asyncio, sys
from hookshot.core.queue import NewJob
from hookshot.core.queue.redis import RedisQueue

async def main(url, prefix, consumer, lease):
    queue = await RedisQueue.open(url, prefix=prefix, consumer=consumer, lease=float(lease))
    jobs = [NewJob(f"j{i}", f"!room{i % 5}", {"i": i}) for i in range(20)]
    assert await queue.push("webhook", jobs) == [True] * 20
    taken = await queue.take("webhook", 5)
    await queue.ack(taken[0], {"send": [NewJob(f"{taken[0].id}:s", "!room0", {})]})
    print("taken", " ".join(job.id for job in taken), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main(*sys.argv[1:]))
"""


async def take_and_kill(prefix: str, name: str) -> list[str]:
    """Run a consumer that pushes 20 jobs, takes 5 and acks the first, then SIGKILL it; the
    ids it took."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        REDIS_URL,
        prefix,
        name,
        str(LEASE),
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    try:
        async with asyncio.timeout(60):
            line = (await child.stdout.readline()).decode()
    finally:
        if child.returncode is None:
            child.kill()  # SIGKILL: no close, no release, no more renewals
        await child.wait()
    assert line.startswith("taken"), line
    assert child.returncode == -signal.SIGKILL
    return line.split()[1:]


@pytest.mark.parametrize("same_name", [False, True], ids=["other-consumer", "restarted"])
async def test_a_killed_consumers_jobs_come_back_first_in_their_partitions(
    consumer: Consumer, prefix: str, same_name: bool
) -> None:
    acked, *in_flight = await take_and_kill(prefix, "worker-1")
    assert acked == "j0"
    assert sorted(in_flight) == ["j1", "j2", "j3", "j4"]
    started = time.monotonic()
    queue = await consumer(consumer="worker-1" if same_name else "worker-2")
    assert await queue.depth(TOPIC_WEBHOOK) == 19
    assert await queue.push(TOPIC_WEBHOOK, new("j0")) == [False]
    async with asyncio.timeout(30):
        jobs = await drain(queue, TOPIC_WEBHOOK)
    first_in_room: dict[str, str] = {}
    for job in jobs:
        first_in_room.setdefault(job.partition, job.id)
    assert sorted(first_in_room.values()) == ["j1", "j2", "j3", "j4", "j5"]
    assert sorted(ids(jobs)) == sorted(f"j{i}" for i in range(1, 20))  # each exactly once
    for room in range(5):  # push order within each room, redelivery included
        order = [int(job.id[1:]) for job in jobs if job.partition == f"!room{room}"]
        assert order == sorted(order)
    elapsed = time.monotonic() - started
    if same_name:
        assert elapsed < LEASE  # a restart under its old name takes its own jobs back at once
    else:
        assert elapsed >= LEASE / 2  # a stranger waits for the lease (renewed until the kill)
    assert ids(await drain(queue, TOPIC_SEND)) == ["j0:s"]


# Redis itself killed and restarted under a running queue.


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.kill()


async def test_acknowledged_work_survives_a_redis_kill_and_restart(own_redis: OwnRedis) -> None:
    queue = await RedisQueue.open(own_redis.url, lease=5)
    try:
        await asyncio.gather(
            *(queue.push(TOPIC_WEBHOOK, new(f"j{i}", partition=f"!r{i % 7}")) for i in range(300))
        )
        done, retried, *in_flight = await queue.take(TOPIC_WEBHOOK, 5)
        await queue.ack(done, {TOPIC_SEND: new("j0:s1", "j0:s2")})
        await queue.retry(retried, 0, "502")
        waiting = asyncio.create_task(queue.take(TOPIC_MATRIX, 10))  # across the restart
        await own_redis.kill()
        await asyncio.sleep(0.2)
        await own_redis.start()
        for job in in_flight:  # their leases were stored with them
            await queue.ack(job)
        await queue.push(TOPIC_MATRIX, new("$event"))
        async with asyncio.timeout(10):
            assert ids(await waiting) == ["$event"]
        assert await queue.depth(TOPIC_WEBHOOK) == 296
        jobs = await drain(queue, TOPIC_WEBHOOK)
        assert sorted(ids(jobs)) == sorted(
            f"j{i}" for i in range(300) if f"j{i}" not in {done.id, *ids(in_flight)}
        )
        assert next(job for job in jobs if job.id == retried.id).attempts == 1
        assert ids(await drain(queue, TOPIC_SEND)) == ["j0:s1", "j0:s2"]
    finally:
        await queue.close()


async def test_the_bridge_repeats_a_settle_whose_connection_dropped(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`SettlingQueue` (every bridge worker settles through it) repeats the settle instead of
    letting the error escape and the job lapse."""
    a = await consumer()
    queue = SettlingQueue(a)
    await queue.push(TOPIC_WEBHOOK, new("s1", partition="!r"))
    (job,) = await queue.take(TOPIC_WEBHOOK, 10)
    real_send = a._writer._send
    drops = [RedisConnectionError("Connection reset by peer")] * 2

    async def flaky(batch: Any) -> list[Any]:
        if drops:
            raise drops.pop()
        return await real_send(batch)

    monkeypatch.setattr(a._writer, "_send", flaky)
    await queue.ack(job)  # no error reaches the caller
    assert drops == [] and await a.depth(TOPIC_WEBHOOK) == 0
    await queue.ack(job)  # settled already: nothing to repeat, nothing raised
