"""`MemoryQueue`: the scheduling index (`index.JobIndex`) on its own, without a disk; and the
payload encoding every backend shares."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

from hookshot.core.queue.base import (
    DEDUPE_WINDOW,
    FAILED_RETENTION,
    FailedJob,
    GroupInfo,
    Job,
    NewJob,
    QueueClosed,
)
from hookshot.core.queue.index import Clock, Entry, JobIndex

__all__ = ["Clock", "Entry", "JobIndex", "MemoryQueue", "decode", "encode", "job_of"]

K = TypeVar("K")


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
    return Job(
        topic, entry.id, entry.partition, payload, entry.attempts, entry.enqueued_at, entry.group
    )


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
            entry = Entry(self._seq, job.id, job.partition, 0, now, 0.0, text, job.group)
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
        for settled in [entry, *(entry.bundle or ())]:
            self._done[(job.topic, settled.id)] = now + self._dedupe_window
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
        for settled in [entry, *(entry.bundle or ())]:
            record = FailedJob(
                job.topic,
                settled.id,
                settled.partition,
                decode(cast(str, settled.payload)),
                settled.attempts,
                settled.enqueued_at,
                now,
                error,
            )
            self._failed.setdefault(job.topic, []).append(record)
            self._done[(job.topic, settled.id)] = now + self._dedupe_window
        self._index.finish(job.topic, entry)

    async def failed(self, topic: str, limit: int = 100) -> list[FailedJob]:
        """See `Queue.failed`."""
        return self._failed.get(topic, [])[::-1][:limit]

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
            self._index.record_bundle(head, members)
        return [job_of(job.topic, m, decode(cast(str, m.payload))) for m in head.bundle or ()]

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
