"""The default queue: one SQLite file written by one thread with group commit.

Durability: WAL with `synchronous=FULL`, so every commit fsyncs the WAL and a pushed job
survives a process kill *and* a power loss; concurrent calls share one transaction (and one
fsync) per writer round, so intake is not one fsync per webhook. Pending jobs are indexed in
memory (payloads stay on disk until taken); in-flight state is memory only, so after a crash
every job not acked is pending again.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

from hookshot.core.queue.base import (
    DEDUPE_WINDOW,
    FAILED_RETENTION,
    FailedJob,
    GroupInfo,
    Job,
    NewJob,
    QueueClosed,
    QueueError,
)
from hookshot.core.queue.index import Clock, Entry, JobIndex
from hookshot.core.queue.memory import decode, encode, job_of

logger = logging.getLogger(__name__)

T = TypeVar("T")
Rows = list[tuple[str, str, str, str]]  # (id, partition, payload JSON, group) of jobs to insert

SCHEMA_VERSION: Final = 3
# MIGRATIONS[n] takes the schema from version n to n + 1.
MIGRATIONS: Final[list[list[str]]] = [
    [
        """CREATE TABLE jobs (
            seq INTEGER PRIMARY KEY,
            topic TEXT NOT NULL,
            id TEXT NOT NULL,
            partition TEXT NOT NULL,
            payload TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            enqueued_at REAL NOT NULL,
            not_before REAL NOT NULL DEFAULT 0,
            last_error TEXT,
            UNIQUE (topic, id))""",
        """CREATE TABLE done (
            topic TEXT NOT NULL,
            id TEXT NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (topic, id)) WITHOUT ROWID""",
        "CREATE INDEX done_expiry ON done (expires_at)",
        """CREATE TABLE failed (
            seq INTEGER PRIMARY KEY,
            topic TEXT NOT NULL,
            id TEXT NOT NULL,
            partition TEXT NOT NULL,
            payload TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            enqueued_at REAL NOT NULL,
            failed_at REAL NOT NULL,
            error TEXT NOT NULL)""",
        "CREATE INDEX failed_topic ON failed (topic, seq)",
        "CREATE INDEX failed_age ON failed (failed_at)",
        """CREATE TABLE seen (
            key TEXT PRIMARY KEY,
            expires_at REAL NOT NULL) WITHOUT ROWID""",
        "CREATE INDEX seen_expiry ON seen (expires_at)",
    ],
    [
        """CREATE TABLE kv (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            expires_at REAL NOT NULL) WITHOUT ROWID""",
        "CREATE INDEX kv_expiry ON kv (expires_at)",
    ],
    [
        # Digests: a job's group, and the seq of the job whose bundle it belongs to.
        "ALTER TABLE jobs ADD COLUMN grp TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE jobs ADD COLUMN bundle INTEGER",
    ],
]
assert len(MIGRATIONS) == SCHEMA_VERSION

_MAX_BATCH: Final = 4096  # ops per transaction: bounds the latency of one round
_PRUNE_CHUNK: Final = 5000  # rows per table per pruning transaction, so pushes are not stalled
_VARS_CHUNK: Final = 500  # bound parameters per IN (...) query

# Inserts a job unless its id is pending, in flight (UNIQUE) or done within the window.
_INSERT_JOB: Final = (
    "INSERT OR IGNORE INTO jobs (topic, id, partition, payload, enqueued_at, grp)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE NOT EXISTS"
    " (SELECT 1 FROM done WHERE topic = ?1 AND id = ?2 AND expires_at > ?5)"
)
_REMEMBER: Final = "INSERT OR REPLACE INTO done (topic, id, expires_at) VALUES (?, ?, ?)"


@dataclass(slots=True, eq=False)
class _Op(Generic[T]):
    work: Callable[[sqlite3.Connection], T]  # runs on the writer thread; may run twice
    future: asyncio.Future[T]
    apply: Callable[[T], None] | None  # runs on the loop once `work` is committed
    undo: Callable[[], None] | None  # runs on the loop if `work` is not committed


_Result = tuple[_Op[Any], Any, BaseException | None]


class _Writer:
    """The one thread that touches the database; runs queued ops in shared transactions."""

    def __init__(
        self,
        path: Path,
        loop: asyncio.AbstractEventLoop,
        prune: Callable[[sqlite3.Connection], int],
        prune_interval: float,
    ) -> None:
        self._path = path
        self._loop = loop
        self._prune = prune
        self._prune_interval = prune_interval
        self._ops: queue.SimpleQueue[_Op[Any] | None] = queue.SimpleQueue()
        self._stopped: asyncio.Future[None] = loop.create_future()
        self._thread = threading.Thread(target=self._run, name="hookshot-queue-writer", daemon=True)
        self.closing = False
        self.commits = 0

    def start(self) -> None:
        self._thread.start()

    def submit(
        self,
        work: Callable[[sqlite3.Connection], T],
        apply: Callable[[T], None] | None = None,
        undo: Callable[[], None] | None = None,
    ) -> asyncio.Future[T]:
        """Queue `work` for the next transaction; the future resolves after its commit."""
        if self.closing:
            raise QueueClosed("queue is closed")
        future: asyncio.Future[T] = self._loop.create_future()
        self._ops.put(_Op(work, future, apply, undo))
        return future

    async def stop(self) -> None:
        """Finish the queued ops, close the database and join the thread."""
        if not self.closing:
            self.closing = True
            self._ops.put(None)
        await asyncio.shield(self._stopped)
        self._thread.join()

    def _run(self) -> None:
        lock_fd: int | None = None
        conn: sqlite3.Connection | None = None
        error: BaseException | None = None
        try:
            lock_fd = _lock(self._path)
            conn = _connect(self._path)
        except Exception as exc:
            error = exc  # handed to every op, so `open` raises it
        next_prune = time.monotonic()
        try:
            while True:
                wait = None if conn is None else max(0.0, next_prune - time.monotonic())
                try:
                    op = self._ops.get(timeout=wait)
                except queue.Empty:
                    pass  # woke up only to prune
                else:
                    if op is None or self._round(conn, error, op):
                        break
                if conn is not None and time.monotonic() >= next_prune:
                    more = self._prune_round(conn)
                    next_prune = time.monotonic() + (0.0 if more else self._prune_interval)
        finally:
            if conn is not None:
                conn.close()
            if lock_fd is not None:
                os.close(lock_fd)
            self._call(_resolve, self._stopped)

    def _round(
        self, conn: sqlite3.Connection | None, error: BaseException | None, first: _Op[Any]
    ) -> bool:
        """Run `first` and every op queued behind it in one transaction; True to stop after."""
        batch: list[_Op[Any]] = [first]
        stop = False
        while len(batch) < _MAX_BATCH:
            try:
                op = self._ops.get_nowait()
            except queue.Empty:
                break
            if op is None:
                stop = True
                break
            batch.append(op)
        if conn is None:
            results: list[_Result] = [(op, None, error) for op in batch]
        else:
            results = self._run_batch(conn, batch)
        self._call(self._settle, results)
        return stop

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Op[Any]]) -> list[_Result]:
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
                results: list[_Result] = [(op, op.work(conn), None) for op in batch]
            except Exception:
                # Rare: redo the round with a savepoint per op, so one failing op does not
                # undo the others (ops are pure functions of the database, safe to rerun).
                _rollback(conn)
                conn.execute("BEGIN IMMEDIATE")
                results = [self._run_isolated(conn, op) for op in batch]
            conn.execute("COMMIT")
        except Exception as exc:
            logger.exception("queue transaction failed")
            _rollback(conn)
            return [(op, None, exc) for op in batch]
        self.commits += 1
        return results

    @staticmethod
    def _run_isolated(conn: sqlite3.Connection, op: _Op[Any]) -> _Result:
        conn.execute("SAVEPOINT op")
        try:
            value = op.work(conn)
        except Exception as exc:
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
            return (op, None, exc)
        conn.execute("RELEASE op")
        return (op, value, None)

    def _prune_round(self, conn: sqlite3.Connection) -> bool:
        """One pruning transaction; True when more expired rows may remain."""
        try:
            conn.execute("BEGIN IMMEDIATE")
            removed = self._prune(conn)
            conn.execute("COMMIT")
        except Exception:
            logger.exception("queue pruning failed")
            _rollback(conn)
            return False
        return removed >= _PRUNE_CHUNK

    def _call(self, callback: Callable[[T], None], arg: T) -> None:
        # A closed loop means nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(callback, arg)

    @staticmethod
    def _settle(results: list[_Result]) -> None:
        for op, value, error in results:
            if error is None and op.apply is not None:
                try:
                    op.apply(value)
                except Exception as exc:
                    logger.exception("queue index update failed")
                    error = exc
            elif error is not None and op.undo is not None:
                op.undo()
            if op.future.done():
                continue  # the caller was cancelled; the effects above still had to happen
            if error is None:
                op.future.set_result(value)
            else:
                op.future.set_exception(error)


def _rollback(conn: sqlite3.Connection) -> None:
    # After an I/O error SQLite may already have rolled back; never let this raise too.
    with contextlib.suppress(sqlite3.Error):
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _lock(path: Path) -> int:
    """Hold an exclusive lock beside the database: two bridges on one queue would both hand
    out the same pending jobs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise QueueError(f"{path} is in use (by another hookshot process?)") from None
    return fd


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise QueueError(f"{path}: cannot use WAL journal mode (got {mode})")
        # FULL: fsync the WAL on every commit, so a 2xx survives power loss, not just a kill.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA journal_size_limit=67108864")
        _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _connect_reader(path: Path) -> sqlite3.Connection:
    """The event loop's read-only connection (payloads of taken jobs), opened after the
    writer made the schema."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA query_only=1")
    # Only WAL recovery by another connection makes a reader wait; keep that short.
    conn.execute("PRAGMA busy_timeout=1000")
    return conn


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise QueueError(
            f"{path} has queue schema {version}; this hookshot knows up to {SCHEMA_VERSION}"
        )
    while version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            version += 1
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _load_pending(conn: sqlite3.Connection) -> list[Any]:
    return conn.execute(
        "SELECT seq, topic, id, partition, attempts, enqueued_at, not_before, grp, bundle"
        " FROM jobs ORDER BY seq"
    ).fetchall()


def _insert(conn: sqlite3.Connection, topic: str, rows: Rows, now: float) -> list[int | None]:
    """Insert new jobs; the seq of each, or None for a duplicate id."""
    seqs: list[int | None] = []
    for job_id, partition, payload, group in rows:
        cursor = conn.execute(_INSERT_JOB, (topic, job_id, partition, payload, now, group))
        seqs.append(cursor.lastrowid if cursor.rowcount == 1 else None)
    return seqs


def _payloads(conn: sqlite3.Connection, seqs: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(seqs), _VARS_CHUNK):
        chunk = seqs[start : start + _VARS_CHUNK]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT seq, payload FROM jobs WHERE seq IN ({marks})"
        found.update(conn.execute(sql, chunk).fetchall())
    return found


def _prune(
    conn: sqlite3.Connection, clock: Clock, failed_retention: float, limit: int = _PRUNE_CHUNK
) -> int:
    """Delete up to `limit` expired rows per table; how many went."""
    now = clock()
    statements = (
        (
            "DELETE FROM done WHERE (topic, id) IN"
            " (SELECT topic, id FROM done WHERE expires_at <= ? LIMIT ?)",
            now,
        ),
        ("DELETE FROM seen WHERE key IN (SELECT key FROM seen WHERE expires_at <= ? LIMIT ?)", now),
        ("DELETE FROM kv WHERE key IN (SELECT key FROM kv WHERE expires_at <= ? LIMIT ?)", now),
        (
            "DELETE FROM failed WHERE seq IN (SELECT seq FROM failed WHERE failed_at <= ? LIMIT ?)",
            now - failed_retention,
        ),
    )
    return sum(conn.execute(sql, (cutoff, limit)).rowcount for sql, cutoff in statements)


class SqliteQueue:
    """`Queue`, `SeenStore` and `ValueStore` in one SQLite file; create with
    `await SqliteQueue.open(path)`."""

    def __init__(
        self,
        writer: _Writer,
        reader: sqlite3.Connection,
        index: JobIndex,
        clock: Clock,
        dedupe_window: float,
        failed_retention: float,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._index = index
        self._clock = clock
        self._dedupe_window = dedupe_window
        self._failed_retention = failed_retention

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        dedupe_window: float = DEDUPE_WINDOW,
        failed_retention: float = FAILED_RETENTION,
        prune_interval: float = 600.0,
        clock: Clock = time.time,
    ) -> SqliteQueue:
        """Open (creating dirs and schema) the queue at `path` and load its pending jobs."""
        path = Path(path)

        def prune(conn: sqlite3.Connection) -> int:
            return _prune(conn, clock, failed_retention)

        writer = _Writer(path, asyncio.get_running_loop(), prune, prune_interval)
        loaded = writer.submit(_load_pending)
        writer.start()
        try:
            rows = await loaded
        except BaseException:
            await writer.stop()
            raise
        index = JobIndex(clock)
        by_seq: dict[int, Entry] = {}
        bundles: dict[int, list[Entry]] = {}
        for seq, topic, job_id, partition, attempts, enqueued_at, not_before, grp, head in rows:
            entry = Entry(seq, job_id, partition, attempts, enqueued_at, not_before, None, grp)
            index.add(topic, entry)
            by_seq[seq] = entry
            if head is not None:
                bundles.setdefault(head, []).append(entry)
        for head, members in bundles.items():
            if head in by_seq:  # a bundle is deleted with its head, so this always holds
                index.record_bundle(by_seq[head], members)
        try:
            reader = _connect_reader(path)
        except BaseException:
            await writer.stop()
            raise
        return cls(writer, reader, index, clock, dedupe_window, failed_retention)

    @property
    def commits(self) -> int:
        """Transactions committed so far (group commit makes this far below the call count)."""
        return self._writer.commits

    def _add(self, topic: str, rows: Rows, seqs: list[int | None], now: float) -> None:
        for (job_id, partition, _, group), seq in zip(rows, seqs, strict=True):
            if seq is not None:
                self._index.add(topic, Entry(seq, job_id, partition, 0, now, 0.0, None, group))

    async def push(self, topic: str, jobs: Sequence[NewJob]) -> list[bool]:
        """See `Queue.push`."""
        now = self._clock()
        rows = [(job.id, job.partition, encode(job.payload), job.group) for job in jobs]

        def work(conn: sqlite3.Connection) -> list[int | None]:
            return _insert(conn, topic, rows, now)

        def apply(seqs: list[int | None]) -> None:
            self._add(topic, rows, seqs, now)

        seqs = await self._writer.submit(work, apply)
        return [seq is not None for seq in seqs]

    async def take(self, topic: str, limit: int, timeout: float | None = None) -> list[Job]:
        """See `Queue.take`."""
        entries = await self._index.take(topic, limit, timeout)
        seqs = [entry.seq for entry in entries]
        try:
            # Read on the loop's own connection: a WAL reader never waits for the writer,
            # and the rows were committed before their entries reached the index. Through
            # the writer thread, each take waited behind the fsync of the current batch.
            texts = _payloads(self._reader, seqs)
            return [job_of(topic, entry, decode(texts[entry.seq])) for entry in entries]
        except BaseException:
            # Cancelled or failed before the consumer saw them: they are still pending.
            self._index.release(topic, entries)
            raise

    async def ack(self, job: Job, follow_ups: Mapping[str, Sequence[NewJob]] | None = None) -> None:
        """See `Queue.ack`."""
        now = self._clock()
        batches = [
            (topic, [(j.id, j.partition, encode(j.payload), j.group) for j in jobs])
            for topic, jobs in (follow_ups or {}).items()
        ]
        entry = self._index.claim(job)
        settled = [entry, *(entry.bundle or ())]

        def work(conn: sqlite3.Connection) -> list[list[int | None]]:
            conn.executemany("DELETE FROM jobs WHERE seq = ?", [(e.seq,) for e in settled])
            expiry = now + self._dedupe_window
            conn.executemany(_REMEMBER, [(job.topic, e.id, expiry) for e in settled])
            return [_insert(conn, topic, rows, now) for topic, rows in batches]

        def apply(seqs: list[list[int | None]]) -> None:
            self._index.finish(job.topic, entry)
            for (topic, rows), topic_seqs in zip(batches, seqs, strict=True):
                self._add(topic, rows, topic_seqs, now)

        await self._writer.submit(work, apply, lambda: self._index.unclaim(entry))

    async def retry(self, job: Job, delay: float, error: str) -> None:
        """See `Queue.retry`."""
        entry = self._index.claim(job)
        ready_at = self._clock() + max(delay, 0.0)
        attempts = entry.attempts + 1

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE jobs SET attempts = ?, not_before = ?, last_error = ? WHERE seq = ?",
                (attempts, ready_at, error, entry.seq),
            )

        def apply(_: None) -> None:
            self._index.requeue(job.topic, entry, ready_at, attempts)

        await self._writer.submit(work, apply, lambda: self._index.unclaim(entry))

    async def fail(self, job: Job, error: str) -> None:
        """See `Queue.fail`."""
        entry = self._index.claim(job)
        now = self._clock()
        settled = [entry, *(entry.bundle or ())]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO failed (topic, id, partition, payload, attempts, enqueued_at,"
                " failed_at, error) SELECT topic, id, partition, payload, attempts, enqueued_at,"
                " ?, ? FROM jobs WHERE seq = ?",
                [(now, error, e.seq) for e in settled],
            )
            conn.executemany("DELETE FROM jobs WHERE seq = ?", [(e.seq,) for e in settled])
            expiry = now + self._dedupe_window
            conn.executemany(_REMEMBER, [(job.topic, e.id, expiry) for e in settled])

        def apply(_: None) -> None:
            self._index.finish(job.topic, entry)

        await self._writer.submit(work, apply, lambda: self._index.unclaim(entry))

    async def failed(self, topic: str, limit: int = 100) -> list[FailedJob]:
        """See `Queue.failed`."""
        after = self._clock() - self._failed_retention

        def work(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(
                "SELECT id, partition, payload, attempts, enqueued_at, failed_at, error"
                " FROM failed WHERE topic = ? AND failed_at > ? ORDER BY seq DESC LIMIT ?",
                (topic, after, limit),
            ).fetchall()

        rows = await self._writer.submit(work)
        return [
            FailedJob(topic, job_id, partition, decode(payload), attempts, enqueued, at, error)
            for job_id, partition, payload, attempts, enqueued, at, error in rows
        ]

    async def depth(self, topic: str) -> int:
        """See `Queue.depth`."""
        return self._index.depth(topic)

    async def group_info(self, job: Job) -> GroupInfo:
        """See `Queue.group_info`."""
        return self._index.group_info(job)

    async def take_group(self, job: Job, more_than: int, limit: int) -> list[Job]:
        """See `Queue.take_group`."""
        head, members = self._index.candidates(job, more_than, limit)
        if members:
            # A member is marked durably first, so a restart brings back the same bundle.
            marks = [(head.seq, m.seq) for m in members]

            def work(conn: sqlite3.Connection) -> None:
                conn.executemany("UPDATE jobs SET bundle = ? WHERE seq = ?", marks)

            def apply(_: None) -> None:
                self._index.record_bundle(head, members)

            await self._writer.submit(work, apply)
        bundle = head.bundle or []
        texts = _payloads(self._reader, [m.seq for m in bundle])
        return [job_of(job.topic, m, decode(texts[m.seq])) for m in bundle]

    async def add_new(self, keys: Sequence[str], ttl: float) -> list[bool]:
        """See `SeenStore.add_new`."""
        now = self._clock()

        def work(conn: sqlite3.Connection) -> list[bool]:
            # Inserts a new key, or revives an expired one; a live key changes nothing.
            sql = (
                "INSERT INTO seen (key, expires_at) VALUES (?, ?) ON CONFLICT (key)"
                " DO UPDATE SET expires_at = excluded.expires_at WHERE seen.expires_at <= ?"
            )
            return [conn.execute(sql, (key, now + ttl, now)).rowcount == 1 for key in keys]

        return await self._writer.submit(work)

    async def get_value(self, key: str) -> str | None:
        """See `ValueStore.get_value`."""
        now = self._clock()

        def work(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT value FROM kv WHERE key = ? AND expires_at > ?", (key, now)
            ).fetchone()
            return None if row is None else str(row[0])

        # Through the writer, so a read sees every write submitted before it.
        return await self._writer.submit(work)

    async def set_value(self, key: str, value: str, ttl: float) -> None:
        """See `ValueStore.set_value`."""
        expires_at = self._clock() + ttl

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO kv (key, value, expires_at) VALUES (?, ?, ?)",
                (key, value, expires_at),
            )

        await self._writer.submit(work)

    async def prune(self) -> int:
        """Delete every expired dedupe id, seen key and failed record now; how many went
        (this also happens on its own every `prune_interval`)."""

        def work(conn: sqlite3.Connection) -> int:
            total = 0
            while removed := _prune(conn, self._clock, self._failed_retention):
                total += removed
            return total

        return await self._writer.submit(work)

    async def close(self) -> None:
        """See `Queue.close`; queued writes are finished first."""
        self._index.close()
        await self._writer.stop()
        self._reader.close()
