"""The job queue protocol: durable, deduplicated, ordered per partition, at-least-once.

A job moves pending -> in flight (take) -> done (ack) / pending again (retry) / failed (fail).
Backends: `SqliteQueue` (default, embedded), `MemoryQueue` (tests), `RedisQueue` (scale-out).

Groups and bundles (digests): a job may name a `group` within its partition (a connection in
a room). The consumer of an in-flight job may bundle the pending jobs of its group with it
(`take_group`); the bundle is recorded durably and settled with its head, so one message can
stand for all of them and a redelivered head finds exactly the same bundle again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from hookshot.errors import HookshotError

# How long a finished job id keeps refusing a duplicate push (webhook senders retry for days).
DEDUPE_WINDOW: Final = 7 * 24 * 3600.0
# How long permanently failed jobs stay listed by `failed()`.
FAILED_RETENTION: Final = 30 * 24 * 3600.0


class QueueError(HookshotError):
    """The queue cannot do what was asked."""


class QueueClosed(QueueError):
    """The queue was closed; no more jobs go in or out."""


class NotInFlight(QueueError):
    """ack/retry/fail of a job this queue is not currently handing out (already settled?)."""


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to push: `id` is its idempotency key within the topic, `partition` its ordering
    key (e.g. a room id; "" = no ordering), `payload` a JSON-serialisable mapping."""

    id: str
    partition: str
    payload: Mapping[str, Any]
    group: str = ""  # a subset of the partition that `take_group` may bundle ("" = none)


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """What `group_info` knows about an in-flight job's group."""

    size: int  # unsettled (pending or in flight) jobs of its group in its partition, it included
    bundled: bool  # it heads a bundle recorded by an earlier `take_group`, not settled since


@dataclass(frozen=True, slots=True)
class Job:
    """A job handed out by `take`; settle it with ack, retry or fail on the same queue.

    `attempts` counts earlier `retry` calls (0 on first delivery); a redelivery after a crash
    does not count, so consumers must be idempotent by `id` anyway.
    """

    topic: str
    id: str
    partition: str
    payload: dict[str, Any]
    attempts: int
    enqueued_at: float
    group: str = ""


@dataclass(frozen=True, slots=True)
class FailedJob:
    """A job that failed permanently, as listed by `failed()`."""

    topic: str
    id: str
    partition: str
    payload: dict[str, Any]
    attempts: int
    enqueued_at: float
    failed_at: float
    error: str


class Queue(Protocol):
    """Durable topics of jobs; see the module docstring for the life of a job."""

    async def push(self, topic: str, jobs: Sequence[NewJob]) -> list[bool]:
        """Store jobs durably (all or none) before returning; False for an id already pending,
        in flight, or finished within the dedupe window (including an earlier one in `jobs`)."""
        ...

    async def take(self, topic: str, limit: int, timeout: float | None = None) -> list[Job]:
        """Hand out 1..limit ready jobs, waiting up to `timeout` seconds (None = forever; then
        []). At most one job per non-empty partition is in flight; a partition yields its jobs
        in push order, and a job waiting for its retry time holds back the rest of its
        partition. Raises QueueClosed once the queue is closed.

        `timeout` is a parameter, not `asyncio.timeout()`, because a backend-side wait (Redis
        `XREADGROUP BLOCK`) cannot lose jobs, where cancelling a read in progress could."""
        ...

    async def ack(self, job: Job, follow_ups: Mapping[str, Sequence[NewJob]] | None = None) -> None:
        """Mark `job` done (its id stays deduplicated) and push `follow_ups` (topic -> jobs) in
        the same transaction; follow-ups that are duplicates are dropped silently, so derive
        their ids from `job.id`."""
        ...

    async def retry(self, job: Job, delay: float, error: str) -> None:
        """Put `job` back at the head of its partition, ready after `delay` seconds, with
        attempts + 1."""
        ...

    async def fail(self, job: Job, error: str) -> None:
        """Give up on `job`: remove it, record it for `failed()`, keep its id deduplicated and
        unblock its partition."""
        ...

    async def failed(self, topic: str, limit: int = 100) -> list[FailedJob]:
        """Permanently failed jobs of `topic`, newest first."""
        ...

    async def group_info(self, job: Job) -> GroupInfo:
        """The size of in-flight `job`'s group and whether it heads a recorded bundle; cheap
        (a counter, no scan). Raises NotInFlight for a job not in flight here."""
        ...

    async def take_group(self, job: Job, more_than: int, limit: int) -> list[Job]:
        """Bundle pending jobs of in-flight `job`'s group (same partition) with it: its recorded
        bundle if it heads one; else, when more than `more_than` jobs of the group are
        unsettled, up to `limit` - 1 of the pending ones in push order, recorded durably
        before returning; else none. Members are never handed out by `take`: `ack` and `fail`
        of the head settle every member too (ids deduplicated, failures listed), and after
        `retry` (or a crash) the head's next delivery finds the same bundle again."""
        ...

    async def depth(self, topic: str) -> int:
        """Jobs of `topic` not yet acked or failed (pending and in flight)."""
        ...

    async def close(self) -> None:
        """Stop handing out jobs and release resources; unsettled jobs stay pending."""
        ...


@runtime_checkable
class SeenStore(Protocol):
    """Durable set of keys with expiry, for idempotency of incoming events."""

    async def add_new(self, keys: Sequence[str], ttl: float) -> list[bool]:
        """Remember `keys` for `ttl` seconds; True for each key that was not already there."""
        ...


@runtime_checkable
class ValueStore(Protocol):
    """Durable key -> text with expiry, for small records that must survive a restart (a
    subject's thread root)."""

    async def get_value(self, key: str) -> str | None:
        """The live value of `key`, or None."""
        ...

    async def set_value(self, key: str, value: str, ttl: float) -> None:
        """Store `value` under `key` for `ttl` seconds, replacing what was there."""
        ...


class QueueWrapper:
    """A Queue that hands every call to `inner`; wrappers override only what they change."""

    def __init__(self, inner: Queue) -> None:
        self.inner = inner

    async def push(self, topic: str, jobs: Sequence[NewJob]) -> list[bool]:
        return await self.inner.push(topic, jobs)

    async def take(self, topic: str, limit: int, timeout: float | None = None) -> list[Job]:
        return await self.inner.take(topic, limit, timeout)

    async def ack(self, job: Job, follow_ups: Mapping[str, Sequence[NewJob]] | None = None) -> None:
        await self.inner.ack(job, follow_ups)

    async def retry(self, job: Job, delay: float, error: str) -> None:
        await self.inner.retry(job, delay, error)

    async def fail(self, job: Job, error: str) -> None:
        await self.inner.fail(job, error)

    async def failed(self, topic: str, limit: int = 100) -> list[FailedJob]:
        return await self.inner.failed(topic, limit)

    async def depth(self, topic: str) -> int:
        return await self.inner.depth(topic)

    async def group_info(self, job: Job) -> GroupInfo:
        return await self.inner.group_info(job)

    async def take_group(self, job: Job, more_than: int, limit: int) -> list[Job]:
        return await self.inner.take_group(job, more_than, limit)

    async def close(self) -> None:
        await self.inner.close()
