"""One suite for every queue backend (memory, sqlite, redis), plus the SQLite durability tests
that kill a real process with SIGKILL. Redis-specific tests are in test_queue_redis.py."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REDIS_URL, redis_prefix

from hookshot.core.queue import (
    DEDUPE_WINDOW,
    FAILED_RETENTION,
    Job,
    MemoryQueue,
    NewJob,
    NotInFlight,
    QueueClosed,
    QueueError,
    SqliteQueue,
)
from hookshot.core.queue import sqlite as sqlite_queue
from hookshot.core.queue.redis import RedisQueue
from hookshot.wire import TOPIC_SEND, TOPIC_WEBHOOK

Backend = MemoryQueue | SqliteQueue | RedisQueue
Opener = Callable[..., Awaitable[Backend]]


class FakeClock:
    """A wall clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def open_queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens the parametrised backend (sqlite: the same file each time; redis: the same key
    prefix) and closes it after."""
    opened: list[Backend] = []
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "redis":
            prefix = await stack.enter_async_context(redis_prefix())

        async def open_(clock: Callable[[], float] = time.time) -> Backend:
            queue: Backend
            if request.param == "memory":
                queue = MemoryQueue(clock=clock)
            elif request.param == "sqlite":
                queue = await SqliteQueue.open(tmp_path / "data" / "queue.db", clock=clock)
            else:
                queue = await RedisQueue.open(REDIS_URL, prefix=prefix, clock=clock)
            opened.append(queue)
            return queue

        yield open_
        for queue in reversed(opened):
            await queue.close()


@pytest.fixture
async def queue(open_queue: Opener) -> Backend:
    return await open_queue()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def timed(open_queue: Opener, clock: FakeClock) -> Backend:
    """A queue on the fake clock: retry delays and expiry move only with `clock.advance`."""
    return await open_queue(clock)


def new(*ids: str, partition: str = "!room") -> list[NewJob]:
    return [NewJob(job_id, partition, {"id": job_id}) for job_id in ids]


def ids(jobs: list[Job]) -> list[str]:
    return [job.id for job in jobs]


async def take_now(queue: Backend, topic: str = TOPIC_WEBHOOK, limit: int = 100) -> list[Job]:
    return await queue.take(topic, limit, timeout=0)


async def drain(queue: Backend, topic: str) -> list[Job]:
    """Take and ack until the topic is empty; jobs in the order they were handed out."""
    seen: list[Job] = []
    while await queue.depth(topic):
        async with asyncio.timeout(30):
            jobs = await queue.take(topic, 100)
        for job in jobs:
            await queue.ack(job)
        seen.extend(jobs)
    return seen


async def test_jobs_of_a_partition_come_in_push_order(queue: Backend) -> None:
    await queue.push(TOPIC_WEBHOOK, new("a1", "a2"))
    await queue.push(TOPIC_WEBHOOK, new("a3"))
    await queue.push(TOPIC_WEBHOOK, new("a4", "a5"))
    order = []
    while jobs := await take_now(queue):
        assert len(jobs) == 1  # one partition: one job in flight at a time
        assert jobs[0].payload == {"id": jobs[0].id}
        assert jobs[0].attempts == 0
        order.append(jobs[0].id)
        await queue.ack(jobs[0])
    assert order == ["a1", "a2", "a3", "a4", "a5"]
    assert await queue.depth(TOPIC_WEBHOOK) == 0


async def test_busy_partition_waits_while_others_proceed(queue: Backend) -> None:
    await queue.push(TOPIC_WEBHOOK, new("a1", "a2", partition="!a"))
    await queue.push(TOPIC_WEBHOOK, new("b1", "b2", partition="!b"))
    await queue.push(TOPIC_WEBHOOK, new("u1", "u2", partition=""))
    first = await take_now(queue)
    assert ids(first) == ["a1", "b1", "u1", "u2"]  # unordered jobs run side by side
    assert await take_now(queue) == []
    assert await queue.depth(TOPIC_WEBHOOK) == 6
    await queue.ack(first[1])
    assert ids(await take_now(queue)) == ["b2"]
    assert await take_now(queue) == []  # a1 still in flight holds a2
    await queue.ack(first[0])
    assert ids(await take_now(queue)) == ["a2"]


async def test_take_respects_limit(queue: Backend) -> None:
    await queue.push(TOPIC_WEBHOOK, new("u1", "u2", "u3", partition=""))
    assert ids(await queue.take(TOPIC_WEBHOOK, 2)) == ["u1", "u2"]
    assert ids(await queue.take(TOPIC_WEBHOOK, 2)) == ["u3"]
    with pytest.raises(ValueError, match="limit"):
        await queue.take(TOPIC_WEBHOOK, 0)


async def test_duplicate_ids_are_refused_pending_in_flight_and_done(queue: Backend) -> None:
    assert await queue.push(TOPIC_WEBHOOK, new("x", "x", "y")) == [True, False, True]
    assert await queue.push(TOPIC_WEBHOOK, new("x")) == [False]  # pending
    job = (await take_now(queue, limit=1))[0]
    assert await queue.push(TOPIC_WEBHOOK, new("x")) == [False]  # in flight
    await queue.ack(job)
    assert await queue.push(TOPIC_WEBHOOK, new("x")) == [False]  # done
    assert await queue.push(TOPIC_SEND, new("x")) == [True]  # ids are per topic
    assert await queue.depth(TOPIC_WEBHOOK) == 1


async def test_done_ids_are_forgotten_after_the_dedupe_window(
    timed: Backend, clock: FakeClock
) -> None:
    await timed.push(TOPIC_WEBHOOK, new("x"))
    await timed.ack((await take_now(timed))[0])
    clock.advance(DEDUPE_WINDOW - 1)
    assert await timed.push(TOPIC_WEBHOOK, new("x")) == [False]
    clock.advance(2)
    assert await timed.push(TOPIC_WEBHOOK, new("x")) == [True]


async def test_retry_waits_for_its_time_and_holds_its_partition(
    timed: Backend, clock: FakeClock
) -> None:
    await timed.push(TOPIC_WEBHOOK, new("a1", "a2", partition="!a"))
    await timed.push(TOPIC_WEBHOOK, new("b1", "b2", partition="!b"))
    a1, b1 = await take_now(timed)
    await timed.retry(a1, 60, "502 Bad Gateway")
    await timed.ack(b1)
    assert ids(await take_now(timed)) == ["b2"]  # a2 may not overtake a1
    assert await take_now(timed) == []
    clock.advance(61)
    (again,) = await take_now(timed)
    assert (again.id, again.attempts, again.payload) == ("a1", 1, {"id": "a1"})
    await timed.ack(again)
    assert ids(await take_now(timed)) == ["a2"]


async def test_retry_wakes_a_waiting_take(queue: Backend) -> None:
    await queue.push(TOPIC_WEBHOOK, new("a1"))
    job = (await take_now(queue))[0]
    await queue.retry(job, 0.05, "timeout")
    async with asyncio.timeout(30):
        (again,) = await queue.take(TOPIC_WEBHOOK, 10)
    assert (again.id, again.attempts) == ("a1", 1)


async def test_take_waits_for_a_push(queue: Backend) -> None:
    waiting = asyncio.create_task(queue.take(TOPIC_WEBHOOK, 10))
    await asyncio.sleep(0)
    assert not waiting.done()
    await queue.push(TOPIC_WEBHOOK, new("a1"))
    async with asyncio.timeout(30):
        assert ids(await waiting) == ["a1"]


async def test_take_times_out_empty(queue: Backend) -> None:
    assert await queue.take(TOPIC_WEBHOOK, 10, timeout=0.01) == []


async def test_fail_unblocks_the_partition_and_is_listed(queue: Backend) -> None:
    await queue.push(TOPIC_WEBHOOK, new("a1", "a2"))
    (a1,) = await take_now(queue)
    await queue.retry(a1, 0, "503")
    (a1,) = await take_now(queue)
    await queue.fail(a1, "403 M_FORBIDDEN")
    assert ids(await take_now(queue)) == ["a2"]
    (failed,) = await queue.failed(TOPIC_WEBHOOK)
    assert (failed.id, failed.partition, failed.payload) == ("a1", "!room", {"id": "a1"})
    assert (failed.attempts, failed.error) == (1, "403 M_FORBIDDEN")
    assert await queue.failed(TOPIC_SEND) == []
    assert await queue.push(TOPIC_WEBHOOK, new("a1")) == [False]


async def test_ack_follow_ups_appear_only_with_the_ack(queue: Backend) -> None:
    await queue.push(TOPIC_WEBHOOK, new("w1", "w2"))
    (w1,) = await take_now(queue)
    assert await queue.depth(TOPIC_SEND) == 0
    assert await take_now(queue, TOPIC_SEND) == []
    await queue.ack(w1, {TOPIC_SEND: new("w1:s1", "w1:s2")})
    assert await queue.depth(TOPIC_SEND) == 2
    assert await queue.depth(TOPIC_WEBHOOK) == 1
    (w2,) = await take_now(queue)
    # A redelivered stage produces the same follow-up ids: they are dropped, not doubled.
    await queue.ack(w2, {TOPIC_SEND: new("w1:s1", "w2:s1")})
    assert [job.id for job in await drain(queue, TOPIC_SEND)] == ["w1:s1", "w1:s2", "w2:s1"]


async def test_ack_with_a_bad_follow_up_changes_nothing(queue: Backend) -> None:
    await queue.push(TOPIC_WEBHOOK, new("w1"))
    (w1,) = await take_now(queue)
    bad = [*new("s1"), NewJob("s2", "!room", {"not json": object()})]
    with pytest.raises(TypeError):
        await queue.ack(w1, {TOPIC_SEND: bad})
    assert await queue.depth(TOPIC_SEND) == 0
    assert await queue.push(TOPIC_WEBHOOK, new("w1")) == [False]  # still in flight
    await queue.ack(w1)
    assert await queue.depth(TOPIC_WEBHOOK) == 0


async def test_a_cancelled_ack_still_happens_whole(queue: Backend) -> None:
    await queue.push(TOPIC_WEBHOOK, new("w1"))
    (w1,) = await take_now(queue)
    acking = asyncio.create_task(queue.ack(w1, {TOPIC_SEND: new("w1:s1")}))
    await asyncio.sleep(0)
    acking.cancel()
    await asyncio.gather(acking, return_exceptions=True)
    await queue.push(TOPIC_SEND, new("later"))  # writes are in order: the ack is settled now
    assert await queue.depth(TOPIC_WEBHOOK) == 0
    assert ids(await drain(queue, TOPIC_SEND)) == ["w1:s1", "later"]
    with pytest.raises(NotInFlight):
        await queue.ack(w1)


async def test_a_push_with_a_bad_payload_stores_nothing(queue: Backend) -> None:
    with pytest.raises(TypeError):
        await queue.push(TOPIC_WEBHOOK, [*new("a1"), NewJob("a2", "", {"x": {1, 2}})])
    assert await queue.depth(TOPIC_WEBHOOK) == 0
    assert await queue.push(TOPIC_WEBHOOK, new("a1")) == [True]


async def test_settling_twice_or_with_a_stale_job_is_refused(queue: Backend) -> None:
    await queue.push(TOPIC_WEBHOOK, new("a1", "a2"))
    (a1,) = await take_now(queue)
    await queue.retry(a1, 0, "503")
    (fresh,) = await take_now(queue)
    with pytest.raises(NotInFlight):
        await queue.ack(a1)  # the handle from before the retry
    await queue.ack(fresh)
    for settle in (queue.ack(fresh), queue.retry(fresh, 0, "x"), queue.fail(fresh, "x")):
        with pytest.raises(NotInFlight):
            await settle
    assert ids(await take_now(queue)) == ["a2"]


async def test_a_cancelled_take_loses_nothing(queue: Backend) -> None:
    await queue.push(TOPIC_WEBHOOK, new("a1", "b1", partition=""))
    taking = asyncio.create_task(queue.take(TOPIC_WEBHOOK, 10))
    await asyncio.sleep(0)
    taking.cancel()
    try:
        got = await taking
    except asyncio.CancelledError:
        got = []  # cancelled before handing the jobs over: they must still be pending
    assert sorted(ids(got + await take_now(queue))) == ["a1", "b1"]


async def test_close_wakes_a_waiting_take(queue: Backend) -> None:
    waiting = asyncio.create_task(queue.take(TOPIC_WEBHOOK, 10))
    await asyncio.sleep(0)
    await queue.close()
    with pytest.raises(QueueClosed):
        await waiting
    with pytest.raises(QueueClosed):
        await queue.push(TOPIC_WEBHOOK, new("a1"))


async def test_1000_concurrent_pushes_are_all_kept(queue: Backend, open_queue: Opener) -> None:
    async def producer(n: int) -> None:
        for i in range(10):
            job = NewJob(f"{n}-{i}", f"!room{n % 10}", {"n": n, "i": i})
            assert await queue.push(TOPIC_WEBHOOK, [job]) == [True]

    await asyncio.gather(*(producer(n) for n in range(100)))
    assert await queue.depth(TOPIC_WEBHOOK) == 1000
    if isinstance(queue, SqliteQueue):
        assert queue.commits < 500  # group commit: many pushes share one transaction
        await queue.close()
        queue = await open_queue()
    jobs = await drain(queue, TOPIC_WEBHOOK)
    assert sorted(ids(jobs)) == sorted(f"{n}-{i}" for n in range(100) for i in range(10))
    last: dict[int, int] = {}
    for job in jobs:  # each producer's pushes stay in order within its room
        n, i = job.payload["n"], job.payload["i"]
        assert i > last.get(n, -1)
        last[n] = i


async def test_seen_keys_are_new_once_until_they_expire(timed: Backend, clock: FakeClock) -> None:
    assert await timed.add_new(["$a", "$b", "$a"], ttl=60) == [True, True, False]
    assert await timed.add_new(["$a", "$c"], ttl=60) == [False, True]
    clock.advance(61)
    assert await timed.add_new(["$a", "$b"], ttl=60) == [True, True]


async def test_values_are_kept_replaced_and_expire(timed: Backend, clock: FakeClock) -> None:
    assert await timed.get_value("thread:!r:a") is None
    await timed.set_value("thread:!r:a", "one", ttl=60)
    await timed.set_value("thread:!r:a", "two ✅", ttl=60)
    await timed.set_value("thread:!r:b", "other", ttl=60)
    assert await timed.get_value("thread:!r:a") == "two ✅"
    assert await timed.get_value("thread:!r:b") == "other"
    if not isinstance(timed, RedisQueue):  # Redis expires keys on its own clock
        clock.advance(61)
        assert await timed.get_value("thread:!r:a") is None


async def test_sqlite_values_survive_reopen(tmp_path: Path) -> None:
    queue = await SqliteQueue.open(tmp_path / "q.db")
    await queue.set_value("k", "root", ttl=3600)
    await queue.close()
    queue = await SqliteQueue.open(tmp_path / "q.db")
    assert await queue.get_value("k") == "root"
    await queue.close()


# SQLite only: durability across SIGKILL and reopen.

_CHILD = """
import asyncio, sys
from hookshot.core.queue import NewJob, SqliteQueue

async def main(path, n, mode):
    queue = await SqliteQueue.open(path)

    async def push(i):
        job = NewJob(f"j{i}", f"!room{i % 7}", {"i": i})
        assert await queue.push("webhook", [job]) == [True]

    await asyncio.gather(*(push(i) for i in range(n)))
    if mode == "take":
        jobs = await queue.take("webhook", 5)
        await queue.ack(jobs[0])
        await queue.retry(jobs[1], 3600, "502")
    elif mode == "ack":
        (job,) = await queue.take("webhook", 1)
        await queue.ack(job, {"send": [NewJob(f"{job.id}:s{k}", "!room0", {}) for k in range(3)]})
    print("pushed", " ".join(j.id for j in jobs) if mode == "take" else "", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
"""


async def push_and_kill(path: Path, n: int, mode: str) -> list[str]:
    """Run a child that pushes `n` jobs (and more, per `mode`), then SIGKILL it; the ids it
    reports having taken."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, str(path), str(n), mode, stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    try:
        async with asyncio.timeout(60):
            line = (await child.stdout.readline()).decode()
    finally:
        if child.returncode is None:
            child.kill()  # SIGKILL: no close, no cleanup, no final checkpoint
        await child.wait()
    assert line.startswith("pushed"), line
    assert child.returncode == -signal.SIGKILL
    return line.split()[1:]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "queue.db"


async def test_pushed_jobs_survive_sigkill(db: Path) -> None:
    await push_and_kill(db, 300, "push")
    queue = await SqliteQueue.open(db)
    try:
        assert await queue.depth(TOPIC_WEBHOOK) == 300
        jobs = await drain(queue, TOPIC_WEBHOOK)
        assert sorted(ids(jobs)) == sorted(f"j{i}" for i in range(300))
    finally:
        await queue.close()


async def test_unacked_jobs_come_back_after_sigkill(db: Path) -> None:
    taken = await push_and_kill(db, 20, "take")
    acked, retried, *in_flight = taken
    queue = await SqliteQueue.open(db)
    try:
        assert await queue.depth(TOPIC_WEBHOOK) == 19
        assert await queue.push(TOPIC_WEBHOOK, new(acked)) == [False]
        jobs = await take_now(queue)
        assert set(in_flight) <= set(ids(jobs))  # in flight at the kill: pending again
        assert retried not in ids(jobs)  # its retry time survives the restart
        for job in jobs:
            await queue.ack(job)
        assert await queue.depth(TOPIC_WEBHOOK) == 19 - len(jobs)
    finally:
        await queue.close()


async def test_ack_and_its_follow_ups_survive_sigkill(db: Path) -> None:
    await push_and_kill(db, 1, "ack")
    queue = await SqliteQueue.open(db)
    try:
        assert await queue.depth(TOPIC_WEBHOOK) == 0
        assert await queue.push(TOPIC_WEBHOOK, new("j0")) == [False]
        assert ids(await drain(queue, TOPIC_SEND)) == ["j0:s0", "j0:s1", "j0:s2"]
    finally:
        await queue.close()


async def test_ack_is_one_transaction_with_its_follow_ups(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_insert = sqlite_queue._insert

    def insert(conn: sqlite3.Connection, topic: str, *args: Any) -> list[int | None]:
        if topic == TOPIC_SEND:
            raise sqlite3.OperationalError("disk I/O error")
        return real_insert(conn, topic, *args)

    queue = await SqliteQueue.open(db)
    try:
        await queue.push(TOPIC_WEBHOOK, new("w1"))
        (w1,) = await take_now(queue)
        monkeypatch.setattr(sqlite_queue, "_insert", insert)
        failing = queue.ack(w1, {TOPIC_SEND: new("w1:s1")})
        # Likely in the same transaction as the failing ack: it must still be stored.
        pushing = queue.push(TOPIC_WEBHOOK, new("w2"))
        bad, good = await asyncio.gather(failing, pushing, return_exceptions=True)
        monkeypatch.undo()
        assert isinstance(bad, sqlite3.OperationalError)
        assert good == [True]
        assert await queue.depth(TOPIC_SEND) == 0
        assert await queue.push(TOPIC_WEBHOOK, new("w1")) == [False]  # still in flight
    finally:
        await queue.close()
    queue = await SqliteQueue.open(db)  # the delete of w1 was rolled back with the follow-up
    try:
        assert ids(await drain(queue, TOPIC_WEBHOOK)) == ["w1", "w2"]
        assert await queue.depth(TOPIC_SEND) == 0
    finally:
        await queue.close()


async def test_retry_state_survives_reopen(db: Path, clock: FakeClock) -> None:
    queue = await SqliteQueue.open(db, clock=clock)
    await queue.push(TOPIC_WEBHOOK, new("a1", "a2"))
    (a1,) = await take_now(queue)
    await queue.retry(a1, 60, "429")
    await queue.close()
    queue = await SqliteQueue.open(db, clock=clock)
    try:
        assert await take_now(queue) == []
        clock.advance(61)
        (again,) = await take_now(queue)
        assert (again.id, again.attempts) == ("a1", 1)
    finally:
        await queue.close()


async def test_a_second_open_of_one_file_is_refused(db: Path) -> None:
    queue = await SqliteQueue.open(db)
    try:
        with pytest.raises(QueueError, match="in use"):
            await SqliteQueue.open(db)
    finally:
        await queue.close()


async def test_a_newer_schema_is_refused(db: Path) -> None:
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(QueueError, match="schema 99"):
        await SqliteQueue.open(db)


async def test_prune_forgets_only_expired_records(db: Path, clock: FakeClock) -> None:
    queue = await SqliteQueue.open(db, clock=clock)
    try:
        await queue.push(TOPIC_WEBHOOK, new("a1", "a2", partition=""))
        a1, a2 = await take_now(queue)
        await queue.ack(a1)
        await queue.fail(a2, "400")
        await queue.add_new(["$e"], ttl=60)
        assert await queue.prune() == 0
        clock.advance(max(DEDUPE_WINDOW, FAILED_RETENTION) + 1)
        assert await queue.prune() == 4  # two done ids, one failed record, one seen key
        assert await queue.failed(TOPIC_WEBHOOK) == []
        assert await queue.push(TOPIC_WEBHOOK, new("a1")) == [True]
    finally:
        await queue.close()
