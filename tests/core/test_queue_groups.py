"""Groups and bundles (digests) on every queue backend: counting a group, bundling its pending
jobs under an in-flight head, settling the bundle with the head, and the same bundle coming
back after a retry, a reopen or a SIGKILL."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
import test_queue
from test_queue import Backend, FakeClock, Opener, ids, take_now

from hookshot.core.queue import Job, NewJob, NotInFlight, SqliteQueue
from hookshot.core.queue import sqlite as sqlite_queue
from hookshot.core.queue.memory import MemoryQueue
from hookshot.wire import TOPIC_SEND

ROOM = "!room"

# The protocol suite's fixtures: every test runs on memory, SQLite and Redis.
open_queue = test_queue.open_queue
queue = test_queue.queue
clock = test_queue.clock
timed = test_queue.timed


def grouped(prefix: str, n: int, group: str = "g1", start: int = 0) -> list[NewJob]:
    return [
        NewJob(f"{prefix}{i}", ROOM, {"n": i, "g": group}, group) for i in range(start, start + n)
    ]


async def head(queue: Backend) -> Job:
    (job,) = await take_now(queue, TOPIC_SEND, 1)
    return job


async def test_group_info_counts_the_groups_unsettled_jobs(queue: Backend) -> None:
    await queue.push(TOPIC_SEND, [*grouped("a", 3), NewJob("x", ROOM, {}), *grouped("b", 2)])
    first = await head(queue)
    assert first.group == "g1"
    info = await queue.group_info(first)
    assert (info.size, info.bundled) == (5, False)  # the head included, "x" not
    await queue.ack(first)
    second = await head(queue)
    assert (await queue.group_info(second)).size == 4


async def test_a_job_without_a_group_has_none(queue: Backend) -> None:
    await queue.push(TOPIC_SEND, [NewJob("x", ROOM, {}), *grouped("a", 3)])
    job = await head(queue)
    assert job.group == ""
    assert (await queue.group_info(job)).size == 0
    assert await queue.take_group(job, 0, 100) == []


async def test_a_small_group_is_not_bundled(queue: Backend) -> None:
    await queue.push(TOPIC_SEND, grouped("a", 5))
    job = await head(queue)
    assert await queue.take_group(job, 5, 100) == []  # 5 is not more than 5
    assert not (await queue.group_info(job)).bundled


async def test_bundle_takes_the_group_in_order_and_leaves_the_others_in_order(
    queue: Backend,
) -> None:
    jobs = []
    for i in range(30):
        jobs.append(NewJob(f"a{i}", ROOM, {"n": i}, "g1"))
        if i in (3, 17):
            jobs.append(NewJob(f"other{i}", ROOM, {"n": i}, "g2"))
    await queue.push(TOPIC_SEND, jobs)
    await queue.push(TOPIC_SEND, [NewJob("elsewhere", "!other", {}, "g1")])
    first, elsewhere = await take_now(queue, TOPIC_SEND, 10)
    assert (first.id, elsewhere.id) == ("a0", "elsewhere")
    members = await queue.take_group(first, 20, 200)
    assert ids(members) == [f"a{i}" for i in range(1, 30)]  # not another room's
    assert [m.payload["n"] for m in members] == list(range(1, 30))
    assert all(m.group == "g1" and m.partition == ROOM for m in members)
    assert await take_now(queue, TOPIC_SEND) == []  # the room is held
    await queue.ack(first)
    await queue.ack(elsewhere)
    rest = []
    while await queue.depth(TOPIC_SEND):
        job = await head(queue)
        rest.append(job.id)
        await queue.ack(job)
    assert rest == ["other3", "other17"]
    # Every member's id stays deduplicated, like an acked job's.
    assert await queue.push(TOPIC_SEND, grouped("a", 30)) == [False] * 30


async def test_a_bundle_is_capped_and_the_next_head_bundles_the_rest(queue: Backend) -> None:
    await queue.push(TOPIC_SEND, grouped("a", 25))
    first = await head(queue)
    assert len(await queue.take_group(first, 2, 10)) == 9
    await queue.ack(first)
    second = await head(queue)
    assert second.id == "a10"
    assert ids(await queue.take_group(second, 2, 10)) == [f"a{i}" for i in range(11, 20)]
    await queue.ack(second)
    third = await head(queue)
    assert ids(await queue.take_group(third, 2, 10)) == [f"a{i}" for i in range(21, 25)]
    await queue.ack(third)
    assert await queue.depth(TOPIC_SEND) == 0


async def test_a_retried_head_keeps_exactly_its_bundle(timed: Backend, clock: FakeClock) -> None:
    await timed.push(TOPIC_SEND, grouped("a", 25))
    first = await head(timed)
    bundle = ids(await timed.take_group(first, 20, 200))
    await timed.retry(first, 5, "homeserver down")
    await timed.push(TOPIC_SEND, grouped("a", 10, start=25))  # more arrive meanwhile
    assert await take_now(timed, TOPIC_SEND) == []  # members never come out on their own
    clock.advance(6)
    again = await head(timed)
    assert (again.id, again.attempts) == ("a0", 1)
    info = await timed.group_info(again)
    assert (info.size, info.bundled) == (35, True)
    # However large the group is now, and whatever threshold: the recorded bundle.
    assert ids(await timed.take_group(again, 10_000, 200)) == bundle
    await timed.ack(again)
    later = await head(timed)
    assert later.id == "a25"
    assert (await timed.group_info(later)).size == 10


async def test_failing_the_head_fails_its_bundle(queue: Backend) -> None:
    await queue.push(TOPIC_SEND, [*grouped("a", 4), NewJob("x", ROOM, {})])
    first = await head(queue)
    await queue.take_group(first, 2, 200)
    await queue.fail(first, "M_TOO_LARGE: too big ✗")
    failed = await queue.failed(TOPIC_SEND)
    assert sorted(f.id for f in failed) == ["a0", "a1", "a2", "a3"]
    assert {f.error for f in failed} == {"M_TOO_LARGE: too big ✗"}
    assert {f.payload["n"] for f in failed} == {0, 1, 2, 3}
    assert ids(await take_now(queue, TOPIC_SEND)) == ["x"]
    assert await queue.depth(TOPIC_SEND) == 1


async def test_group_calls_need_the_job_in_flight(queue: Backend) -> None:
    await queue.push(TOPIC_SEND, grouped("a", 5))
    first = await head(queue)
    await queue.ack(first)
    with pytest.raises(NotInFlight):
        await queue.group_info(first)
    with pytest.raises(NotInFlight):
        await queue.take_group(first, 0, 10)
    second = await head(queue)
    assert await queue.take_group(second, 0, 1) == []  # a limit of 1 leaves no room
    members = await queue.take_group(second, 0, 10)
    with pytest.raises(NotInFlight):
        await queue.ack(members[0])  # members settle only with their head


async def test_a_bundle_comes_back_after_reopening(open_queue: Opener) -> None:
    queue = await open_queue()
    if isinstance(queue, MemoryQueue):
        pytest.skip("the memory queue keeps nothing across a reopen")
    await queue.push(TOPIC_SEND, grouped("a", 25))
    first = await head(queue)
    bundle = ids(await queue.take_group(first, 20, 200))
    await queue.close()  # in flight, never settled: as if the sender stopped after sending
    reopened = await open_queue()
    await reopened.push(TOPIC_SEND, grouped("a", 5, start=25))
    again = await head(reopened)
    assert again.id == "a0"
    assert (await reopened.group_info(again)).bundled
    assert ids(await reopened.take_group(again, 20, 200)) == bundle
    await reopened.ack(again)
    assert ids(await take_now(reopened, TOPIC_SEND)) == ["a25"]


_CHILD = """
import asyncio, sys
from hookshot.core.queue import NewJob, SqliteQueue

async def main(path):
    queue = await SqliteQueue.open(path)
    await queue.push("send", [NewJob(f"a{i}", "!room", {"n": i}, "g1") for i in range(30)])
    (job,) = await queue.take("send", 1)
    members = await queue.take_group(job, 20, 200)
    print("bundled", job.id, *(m.id for m in members), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1]))
"""


async def test_a_sqlite_bundle_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, str(path), stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    try:
        async with asyncio.timeout(60):
            line = (await child.stdout.readline()).decode().split()
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    assert line[:2] == ["bundled", "a0"]
    queue = await SqliteQueue.open(path)
    try:
        job = await head(queue)
        assert job.id == "a0"
        assert ids(await queue.take_group(job, 10_000, 200)) == line[2:]
        await queue.ack(job)
        assert await queue.depth(TOPIC_SEND) == 0
    finally:
        await queue.close()


async def test_an_old_schema_is_migrated_with_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statements in sqlite_queue.MIGRATIONS[:2]:
        for statement in statements:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute(
        "INSERT INTO jobs (topic, id, partition, payload, enqueued_at) VALUES (?, ?, ?, ?, ?)",
        (TOPIC_SEND, "old", ROOM, "{}", 1.0),
    )
    conn.commit()
    conn.close()
    queue = await SqliteQueue.open(path)
    try:
        await queue.push(TOPIC_SEND, grouped("a", 3))
        job = await head(queue)
        assert (job.id, job.group) == ("old", "")
        await queue.ack(job)
        nxt = await head(queue)
        assert (await queue.group_info(nxt)).size == 3
    finally:
        await queue.close()
