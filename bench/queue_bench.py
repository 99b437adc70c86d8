"""Queue intake benchmark: SqliteQueue pushes/s, one at a time vs. many coroutines at once
(group commit), against raw sqlite3 on the same disk in the same run; then RedisQueue the same
way against raw redis-py XADDs to the same Redis. Prints ratios.

    .venv/bin/python bench/queue_bench.py [--jobs 2000] [--concurrency 100] [--dir PATH]
        [--redis redis://127.0.0.1:6379/0 | --redis '']

Use a --dir on the disk hookshot will run on: tmpfs makes fsync free and the numbers moot.
The Redis rows use keys under a random prefix, deleted afterwards ('' skips them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hookshot.core.queue import NewJob, SqliteQueue
from hookshot.core.queue.redis import RedisQueue
from hookshot.wire import TOPIC_WEBHOOK

# About the size of a small GitHub push payload.
PAYLOAD = {"ref": "refs/heads/main", "commits": [{"id": "f" * 40, "message": "x" * 200}] * 3}


def new_jobs(n: int, tag: str) -> list[NewJob]:
    return [NewJob(f"{tag}-{i}", f"!room{i % 50}", PAYLOAD) for i in range(n)]


def raw_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE jobs (seq INTEGER PRIMARY KEY, topic TEXT, id TEXT, partition TEXT,"
        " payload TEXT, enqueued_at REAL, UNIQUE (topic, id))"
    )
    return conn


def raw_rows(n: int, tag: str) -> list[tuple[str, str, str, str, float]]:
    text = json.dumps(PAYLOAD)
    return [(TOPIC_WEBHOOK, f"{tag}-{i}", f"!room{i % 50}", text, time.time()) for i in range(n)]


INSERT = "INSERT INTO jobs (topic, id, partition, payload, enqueued_at) VALUES (?, ?, ?, ?, ?)"


def raw_per_row(path: Path, n: int) -> float:
    """Baseline floor: one transaction, hence one fsync, per row."""
    conn = raw_connect(path)
    rows = raw_rows(n, "raw1")
    start = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(INSERT, row)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def raw_batch(path: Path, n: int) -> float:
    """Baseline ceiling: every row in one executemany and one transaction."""
    conn = raw_connect(path)
    rows = raw_rows(n, "rawN")
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(INSERT, rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


async def queue_sequential(path: Path, n: int) -> tuple[float, int]:
    """One webhook at a time: each push waits for its own commit."""
    queue = await SqliteQueue.open(path)
    jobs = new_jobs(n, "seq")
    commits = queue.commits
    start = time.perf_counter()
    for job in jobs:
        await queue.push(TOPIC_WEBHOOK, [job])
    elapsed = time.perf_counter() - start
    commits = queue.commits - commits
    await queue.close()
    return n / elapsed, commits


async def queue_concurrent(path: Path, n: int, concurrency: int) -> tuple[float, int]:
    """`concurrency` webhook handlers pushing one job each, as under load."""
    queue = await SqliteQueue.open(path)
    jobs = new_jobs(n, "conc")
    commits = queue.commits

    async def handler(mine: list[NewJob]) -> None:
        for job in mine:
            await queue.push(TOPIC_WEBHOOK, [job])

    start = time.perf_counter()
    await asyncio.gather(*(handler(jobs[k::concurrency]) for k in range(concurrency)))
    elapsed = time.perf_counter() - start
    commits = queue.commits - commits
    await queue.close()
    return n / elapsed, commits


async def queue_drain(path: Path, n: int, concurrency: int) -> float:
    """Take and ack the jobs pushed by `queue_concurrent`, acks running concurrently."""
    queue = await SqliteQueue.open(path)
    start = time.perf_counter()
    done = 0
    while done < n:
        jobs = await queue.take(TOPIC_WEBHOOK, concurrency, timeout=5)
        await asyncio.gather(*(queue.ack(job) for job in jobs))
        done += len(jobs)
    elapsed = time.perf_counter() - start
    await queue.close()
    return n / elapsed


async def redis_raw_per_call(url: str, prefix: str, n: int) -> float:
    """Redis floor: one XADD per round trip, what an unbatched queue would do."""
    text = json.dumps(PAYLOAD)
    async with Redis.from_url(url) as client:
        start = time.perf_counter()
        for i in range(n):
            await client.xadd(f"{prefix}raw1", {"id": f"raw1-{i}", "d": text})
        return n / (time.perf_counter() - start)


async def redis_raw_pipeline(url: str, prefix: str, n: int) -> float:
    """Redis ceiling: every XADD in one pipeline."""
    text = json.dumps(PAYLOAD)
    async with Redis.from_url(url) as client:
        start = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        for i in range(n):
            pipe.xadd(f"{prefix}rawN", {"id": f"rawN-{i}", "d": text})
        await pipe.execute()
        return n / (time.perf_counter() - start)


async def redis_push(url: str, prefix: str, n: int, concurrency: int) -> tuple[float, int]:
    """RedisQueue pushes by `concurrency` handlers (1 = one at a time); and round trips."""
    queue = await RedisQueue.open(url, prefix=prefix)
    jobs = new_jobs(n, "push")

    async def handler(mine: list[NewJob]) -> None:
        for job in mine:
            await queue.push(TOPIC_WEBHOOK, [job])

    start = time.perf_counter()
    await asyncio.gather(*(handler(jobs[k::concurrency]) for k in range(concurrency)))
    elapsed = time.perf_counter() - start
    trips = queue.round_trips
    await queue.close()
    return n / elapsed, trips


async def redis_drain(url: str, prefix: str, n: int, concurrency: int) -> float:
    """Take and ack the jobs pushed by `redis_push`, acks running concurrently."""
    queue = await RedisQueue.open(url, prefix=prefix)
    start = time.perf_counter()
    done = 0
    while done < n:
        jobs = await queue.take(TOPIC_WEBHOOK, concurrency, timeout=5)
        await asyncio.gather(*(queue.ack(job) for job in jobs))
        done += len(jobs)
    elapsed = time.perf_counter() - start
    await queue.close()
    return n / elapsed


async def redis_bench(url: str, n: int, c: int, rounds: int) -> None:
    # Once per open otherwise; a bench Redis without AOF is fine (and named by the caller).
    logging.getLogger("hookshot.core.queue.redis").setLevel(logging.ERROR)
    root = f"hookshot-bench:{secrets.token_hex(4)}:"
    try:
        per_call = max([await redis_raw_per_call(url, f"{root}{r}:", n) for r in range(rounds)])
        batch = max([await redis_raw_pipeline(url, f"{root}{r}:", n) for r in range(rounds)])
        seq = max([await redis_push(url, f"{root}seq{r}:", n, 1) for r in range(rounds)])
        conc = max([await redis_push(url, f"{root}conc{r}:", n, c) for r in range(rounds)])
        drain = max([await redis_drain(url, f"{root}conc{r}:", n, c) for r in range(rounds)])
    finally:
        async with Redis.from_url(url) as client:
            keys = [key async for key in client.scan_iter(match=f"{root}*", count=1000)]
            if keys:
                await client.delete(*keys)
    print(f"{n} jobs, {c} concurrent pushers, best of {rounds}, Redis at {url}")
    print(f"{'':38}{'jobs/s':>10}{'vs raw 1/rt':>14}{'jobs/rt':>13}")
    for name, rate, trips in (
        ("raw redis-py, one XADD per round trip", per_call, n),
        ("raw redis-py, XADDs in one pipeline", batch, 1),
        ("RedisQueue.push, sequential", seq[0], seq[1]),
        (f"RedisQueue.push, {c} coroutines", conc[0], conc[1]),
    ):
        print(f"{name:38}{rate:10.0f}{rate / per_call:13.1f}x{n / trips:13.1f}")
    print(f"{'RedisQueue take+ack (drain)':38}{drain:10.0f}{drain / per_call:13.1f}x")
    print()
    print(f"pipelining gain (concurrent / sequential):       {conc[0] / seq[0]:6.1f}x")
    print(f"per-push overhead (sequential / raw 1 XADD/rt):  {seq[0] / per_call:6.2f}x")
    print(f"share of the ceiling (concurrent / raw pipeline): {conc[0] / batch:5.3f}")


def best(rounds: int, run: Callable[[int], float]) -> float:
    return max(run(r) for r in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="'' to skip")
    args = parser.parse_args()
    n, c = args.jobs, args.concurrency
    root = Path(tempfile.mkdtemp(prefix="queue-bench-", dir=args.dir))
    try:

        def db(name: str, r: int) -> Path:
            return root / f"{name}-{r}.db"

        per_row = best(args.rounds, lambda r: raw_per_row(db("raw1", r), n))
        batch = best(args.rounds, lambda r: raw_batch(db("rawN", r), n))
        seq_runs = [asyncio.run(queue_sequential(db("seq", r), n)) for r in range(args.rounds)]
        conc_runs = [asyncio.run(queue_concurrent(db("conc", r), n, c)) for r in range(args.rounds)]
        drain = max(asyncio.run(queue_drain(db("conc", r), n, c)) for r in range(args.rounds))
    finally:
        shutil.rmtree(root)
    sequential, seq_commits = max(seq_runs)
    concurrent, conc_commits = max(conc_runs)

    print(f"{n} jobs, {c} concurrent pushers, best of {args.rounds}, databases in {root.parent}")
    print(f"{'':38}{'jobs/s':>10}{'vs raw 1/txn':>14}{'jobs/commit':>13}")
    for name, rate, commits in (
        ("raw sqlite3, one txn per row", per_row, n),
        ("raw sqlite3, executemany in one txn", batch, 1),
        ("SqliteQueue.push, sequential", sequential, seq_commits),
        (f"SqliteQueue.push, {c} coroutines", concurrent, conc_commits),
    ):
        print(f"{name:38}{rate:10.0f}{rate / per_row:13.1f}x{n / commits:13.1f}")
    print(f"{'SqliteQueue take+ack (drain)':38}{drain:10.0f}{drain / per_row:13.1f}x")
    print()
    print(f"group commit gain (concurrent / sequential):     {concurrent / sequential:6.1f}x")
    print(f"per-push overhead (sequential / raw 1 txn/row):  {sequential / per_row:6.2f}x")
    print(f"share of the ceiling (concurrent / raw batch):   {concurrent / batch:6.3f}")
    print(f"median commits per concurrent run: {statistics.median(r[1] for r in conc_runs):.0f}")
    if args.redis:
        print()
        try:
            asyncio.run(redis_bench(args.redis, n, c, args.rounds))
        except (RedisError, OSError) as err:
            print(f"Redis rows skipped: {err}")


if __name__ == "__main__":
    main()
