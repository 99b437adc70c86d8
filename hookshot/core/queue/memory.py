"""In-memory queue state: `JobIndex` schedules pending and in-flight jobs (shared with
`SqliteQueue`, which adds a disk underneath), and `MemoryQueue` is that index on its own."""

from __future__ import annotations

import asyncio
import heapq
import json
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from hookshot.core.queue.base import (
    DEDUPE_WINDOW,
    FAILED_RETENTION,
    FailedJob,
    Job,
    NewJob,
    NotInFlight,
    QueueClosed,
)

Clock = Callable[[], float]
K = TypeVar("K")


@dataclass(slots=True, eq=False)
class Entry:
    """One pending or in-flight job as the index sees it."""

    seq: int  # push order within the whole queue; a retried job keeps its seq
    id: str
    partition: str
    attempts: int
    enqueued_at: float
    ready_at: float  # clock time before which the job is not handed out
    payload: str | None  # JSON text, or None when the backend loads it on take
    in_flight: bool = False
    settling: bool = False  # an ack/retry/fail is being written


class _Topic:
    """Pending and in-flight jobs of one topic: which are ready, which wait, which block."""

    def __init__(self) -> None:
        self.jobs: dict[str, Entry] = {}
        self.lanes: dict[str, deque[Entry]] = {}  # partition -> its pending jobs, head first
        self.busy: set[str] = set()  # partitions with a job in flight
        # Candidate heaps with lazy deletion: entries are re-checked when popped.
        self.ready: list[tuple[int, str]] = []
        self.delayed: list[tuple[float, int, str]] = []
        self.changed = asyncio.Event()
        self.waiters = 0

    def notify(self) -> None:
        if self.waiters:
            # Waking every waiter and renewing the event is simpler than a Condition here.
            self.changed.set()
            self.changed = asyncio.Event()

    def schedule(self, entry: Entry, now: float) -> None:
        if entry.ready_at <= now:
            heapq.heappush(self.ready, (entry.seq, entry.id))
        else:
            heapq.heappush(self.delayed, (entry.ready_at, entry.seq, entry.id))
        self.notify()

    def add(self, entry: Entry, now: float) -> None:
        self.jobs[entry.id] = entry
        if not entry.partition:
            self.schedule(entry, now)
            return
        lane = self.lanes.setdefault(entry.partition, deque())
        lane.append(entry)
        if len(lane) == 1 and entry.partition not in self.busy:
            self.schedule(entry, now)

    def collect(self, limit: int, now: float) -> list[Entry]:
        while self.delayed and self.delayed[0][0] <= now:
            _, seq, job_id = heapq.heappop(self.delayed)
            heapq.heappush(self.ready, (seq, job_id))
        out: list[Entry] = []
        while self.ready and len(out) < limit:
            seq, job_id = heapq.heappop(self.ready)
            entry = self.jobs.get(job_id)
            if entry is None or entry.seq != seq or entry.in_flight or entry.ready_at > now:
                continue
            if entry.partition:
                lane = self.lanes[entry.partition]
                if entry.partition in self.busy or lane[0] is not entry:
                    continue
                lane.popleft()
                if not lane:
                    del self.lanes[entry.partition]
                self.busy.add(entry.partition)
            entry.in_flight = True
            out.append(entry)
        return out

    def next_ready_at(self) -> float | None:
        return self.delayed[0][0] if self.delayed else None

    def finish(self, entry: Entry, now: float) -> None:
        del self.jobs[entry.id]
        entry.in_flight = entry.settling = False
        if entry.partition:
            self.busy.discard(entry.partition)
            lane = self.lanes.get(entry.partition)
            if lane:
                self.schedule(lane[0], now)

    def requeue(self, entry: Entry, now: float) -> None:
        entry.in_flight = entry.settling = False
        if entry.partition:
            self.busy.discard(entry.partition)
            lane = self.lanes.get(entry.partition)
            if lane:
                lane.appendleft(entry)
            else:
                self.lanes[entry.partition] = deque([entry])
        self.schedule(entry, now)


class JobIndex:
    """Scheduling state of every topic: push order per partition, one in flight per
    partition, retry times; `take` waits on it without polling."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._topics: dict[str, _Topic] = {}
        self.closed = False

    def _topic(self, topic: str) -> _Topic:
        state = self._topics.get(topic)
        if state is None:
            state = self._topics[topic] = _Topic()
        return state

    def contains(self, topic: str, job_id: str) -> bool:
        """Whether `job_id` is pending or in flight in `topic`."""
        state = self._topics.get(topic)
        return state is not None and job_id in state.jobs

    def add(self, topic: str, entry: Entry) -> None:
        """Make a durably stored job pending (entries of a partition arrive in seq order)."""
        self._topic(topic).add(entry, self._clock())

    def depth(self, topic: str) -> int:
        """Pending plus in-flight jobs of `topic`."""
        state = self._topics.get(topic)
        return len(state.jobs) if state else 0

    async def take(self, topic: str, limit: int, timeout: float | None) -> list[Entry]:
        """Mark up to `limit` ready entries in flight, waiting as `Queue.take` describes."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        state = self._topic(topic)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            if self.closed:
                raise QueueClosed("queue is closed")
            now = self._clock()
            entries = state.collect(limit, now)
            if entries:
                return entries
            wait = None if deadline is None else deadline - loop.time()
            if wait is not None and wait <= 0:
                return []
            next_at = state.next_ready_at()
            if next_at is not None:
                wait = next_at - now if wait is None else min(wait, next_at - now)
            changed = state.changed
            state.waiters += 1
            try:
                async with asyncio.timeout(wait):
                    await changed.wait()
            except TimeoutError:
                pass
            finally:
                state.waiters -= 1

    def claim(self, job: Job) -> Entry:
        """Reserve the in-flight entry of `job` for one ack/retry/fail."""
        if self.closed:
            raise QueueClosed("queue is closed")
        state = self._topics.get(job.topic)
        entry = state.jobs.get(job.id) if state else None
        if entry is None or not entry.in_flight or entry.settling or entry.attempts != job.attempts:
            raise NotInFlight(f"job {job.topic}/{job.id} is not in flight")
        entry.settling = True
        return entry

    def unclaim(self, entry: Entry) -> None:
        """The settle of a claimed entry did not happen; it stays in flight."""
        entry.settling = False

    def finish(self, topic: str, entry: Entry) -> None:
        """The job is acked or failed: forget it and unblock its partition."""
        self._topic(topic).finish(entry, self._clock())

    def requeue(self, topic: str, entry: Entry, ready_at: float, attempts: int) -> None:
        """Put an in-flight job back at the head of its partition."""
        entry.ready_at = ready_at
        entry.attempts = attempts
        self._topic(topic).requeue(entry, self._clock())

    def release(self, topic: str, entries: Sequence[Entry]) -> None:
        """Return entries that were taken but never handed to a consumer."""
        state = self._topic(topic)
        now = self._clock()
        for entry in reversed(entries):
            state.requeue(entry, now)

    def close(self) -> None:
        """Wake every waiting `take` so it raises QueueClosed."""
        self.closed = True
        for state in self._topics.values():
            state.changed.set()


def _expire(store: dict[K, float], now: float) -> int:
    expired = [key for key, expires in store.items() if expires <= now]
    for key in expired:
        del store[key]
    return len(expired)


def encode(payload: Mapping[str, Any]) -> str:
    """JSON text of a payload; raises TypeError/ValueError before anything is stored."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def decode(text: str) -> dict[str, Any]:
    """A fresh dict from stored JSON text."""
    return cast(dict[str, Any], json.loads(text))


def job_of(topic: str, entry: Entry, payload: dict[str, Any]) -> Job:
    """The consumer's view of an in-flight entry."""
    return Job(topic, entry.id, entry.partition, payload, entry.attempts, entry.enqueued_at)


class MemoryQueue:
    """`Queue` and `SeenStore` in process memory: same semantics, no durability (tests)."""

    def __init__(
        self,
        *,
        dedupe_window: float = DEDUPE_WINDOW,
        failed_retention: float = FAILED_RETENTION,
        prune_interval: float = 600.0,
        clock: Clock = time.time,
    ) -> None:
        self._clock = clock
        self._dedupe_window = dedupe_window
        self._failed_retention = failed_retention
        self._prune_interval = prune_interval
        self._next_prune = clock() + prune_interval
        self._index = JobIndex(clock)
        self._seq = 0
        self._done: dict[tuple[str, str], float] = {}  # (topic, id) -> dedupe expiry
        self._failed: dict[str, list[FailedJob]] = {}
        self._seen: dict[str, float] = {}  # key -> expiry
        self._values: dict[str, tuple[str, float]] = {}  # key -> (value, expiry)

    def _check_open(self) -> float:
        if self._index.closed:
            raise QueueClosed("queue is closed")
        now = self._clock()
        if now >= self._next_prune:
            self.prune()
        return now

    def prune(self) -> int:
        """Forget expired dedupe ids, seen keys and failed records; returns how many."""
        now = self._clock()
        self._next_prune = now + self._prune_interval
        removed = _expire(self._done, now) + _expire(self._seen, now)
        for topic, records in self._failed.items():
            kept = [r for r in records if r.failed_at > now - self._failed_retention]
            removed += len(records) - len(kept)
            self._failed[topic] = kept
        return removed

    def _push(self, topic: str, jobs: Sequence[tuple[NewJob, str]], now: float) -> list[bool]:
        results = []
        for job, text in jobs:
            if self._index.contains(topic, job.id) or self._done.get((topic, job.id), 0) > now:
                results.append(False)
                continue
            self._seq += 1
            entry = Entry(self._seq, job.id, job.partition, 0, now, 0.0, text)
            self._index.add(topic, entry)
            results.append(True)
        return results

    async def push(self, topic: str, jobs: Sequence[NewJob]) -> list[bool]:
        """See `Queue.push`."""
        now = self._check_open()
        encoded = [(job, encode(job.payload)) for job in jobs]
        return self._push(topic, encoded, now)

    async def take(self, topic: str, limit: int, timeout: float | None = None) -> list[Job]:
        """See `Queue.take`."""
        entries = await self._index.take(topic, limit, timeout)
        return [job_of(topic, e, decode(cast(str, e.payload))) for e in entries]

    async def ack(self, job: Job, follow_ups: Mapping[str, Sequence[NewJob]] | None = None) -> None:
        """See `Queue.ack`."""
        now = self._check_open()
        encoded = {t: [(j, encode(j.payload)) for j in js] for t, js in (follow_ups or {}).items()}
        entry = self._index.claim(job)
        self._done[(job.topic, job.id)] = now + self._dedupe_window
        self._index.finish(job.topic, entry)
        for topic, jobs in encoded.items():
            self._push(topic, jobs, now)

    async def retry(self, job: Job, delay: float, error: str) -> None:
        """See `Queue.retry`."""
        now = self._check_open()
        entry = self._index.claim(job)
        self._index.requeue(job.topic, entry, now + max(delay, 0.0), entry.attempts + 1)

    async def fail(self, job: Job, error: str) -> None:
        """See `Queue.fail`."""
        now = self._check_open()
        entry = self._index.claim(job)
        record = FailedJob(
            job.topic,
            job.id,
            job.partition,
            decode(cast(str, entry.payload)),
            entry.attempts,
            entry.enqueued_at,
            now,
            error,
        )
        self._failed.setdefault(job.topic, []).append(record)
        self._done[(job.topic, job.id)] = now + self._dedupe_window
        self._index.finish(job.topic, entry)

    async def failed(self, topic: str, limit: int = 100) -> list[FailedJob]:
        """See `Queue.failed`."""
        return self._failed.get(topic, [])[::-1][:limit]

    async def depth(self, topic: str) -> int:
        """See `Queue.depth`."""
        return self._index.depth(topic)

    async def add_new(self, keys: Sequence[str], ttl: float) -> list[bool]:
        """See `SeenStore.add_new`."""
        now = self._check_open()
        results = []
        for key in keys:
            new = self._seen.get(key, 0) <= now
            if new:
                self._seen[key] = now + ttl
            results.append(new)
        return results

    async def get_value(self, key: str) -> str | None:
        """See `ValueStore.get_value`."""
        now = self._check_open()
        value, expires_at = self._values.get(key, ("", 0.0))
        return value if expires_at > now else None

    async def set_value(self, key: str, value: str, ttl: float) -> None:
        """See `ValueStore.set_value`."""
        self._values[key] = (value, self._check_open() + ttl)

    async def close(self) -> None:
        """See `Queue.close`."""
        self._index.close()
