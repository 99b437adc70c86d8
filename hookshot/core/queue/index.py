"""The in-memory scheduling state of a queue (`JobIndex`): which jobs are pending, in flight,
waiting for their retry time or bundled under another, shared by `MemoryQueue` and
`SqliteQueue` (which adds a disk underneath)."""

from __future__ import annotations

import asyncio
import heapq
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hookshot.core.queue.base import GroupInfo, Job, NotInFlight, QueueClosed

Clock = Callable[[], float]


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
    group: str = ""
    in_flight: bool = False
    settling: bool = False  # an ack/retry/fail is being written
    bundle: list[Entry] | None = None  # the members it heads (take_group), in push order
    bundled: bool = False  # a member of another entry's bundle: settled with its head


class _Topic:
    """Pending and in-flight jobs of one topic: which are ready, which wait, which block."""

    def __init__(self) -> None:
        self.jobs: dict[str, Entry] = {}
        self.lanes: dict[str, deque[Entry]] = {}  # partition -> its pending jobs, head first
        self.busy: set[str] = set()  # partitions with a job in flight
        self.groups: dict[tuple[str, str], int] = {}  # (partition, group) -> unsettled jobs
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
        if entry.group:
            key = (entry.partition, entry.group)
            self.groups[key] = self.groups.get(key, 0) + 1
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

    def _forget(self, entry: Entry) -> None:
        del self.jobs[entry.id]
        if entry.group and entry.partition:
            key = (entry.partition, entry.group)
            left = self.groups.get(key, 1) - 1
            if left > 0:
                self.groups[key] = left
            else:
                self.groups.pop(key, None)

    def _unlane(self, partition: str, members: Sequence[Entry]) -> None:
        """Take settled bundle members out of their lane (usually its first entries)."""
        lane = self.lanes.get(partition)
        if not lane:
            return
        gone = set(members)
        removed = 0
        while lane and lane[0] in gone:
            lane.popleft()
            removed += 1
        if removed < len(gone):
            lane = self.lanes[partition] = deque(e for e in lane if e not in gone)
        if not lane:
            del self.lanes[partition]

    def finish(self, entry: Entry, now: float) -> None:
        self._forget(entry)
        if entry.bundle:
            for member in entry.bundle:
                self._forget(member)
            self._unlane(entry.partition, entry.bundle)
        entry.in_flight = entry.settling = False
        if entry.partition:
            self.busy.discard(entry.partition)
            lane = self.lanes.get(entry.partition)
            if lane:
                self.schedule(lane[0], now)

    def requeue(self, entry: Entry, now: float) -> None:
        # A bundle stays with its head: the next delivery must send the same bundle.
        entry.in_flight = entry.settling = False
        if entry.partition:
            self.busy.discard(entry.partition)
            lane = self.lanes.get(entry.partition)
            if lane:
                lane.appendleft(entry)
            else:
                self.lanes[entry.partition] = deque([entry])
        self.schedule(entry, now)

    def candidates(self, head: Entry, more_than: int, limit: int) -> list[Entry]:
        """Pending jobs of `head`'s group for a new bundle, if the group is large enough."""
        if not head.group or not head.partition or limit < 2:
            return []
        if self.groups.get((head.partition, head.group), 0) <= more_than:
            return []
        found: list[Entry] = []
        for entry in self.lanes.get(head.partition, ()):
            if entry.group == head.group and not entry.bundled:
                found.append(entry)
                if len(found) >= limit - 1:
                    break
        return found


class JobIndex:
    """Scheduling state of every topic: push order per partition, one in flight per
    partition, retry times, bundles; `take` waits on it without polling."""

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

    def get(self, topic: str, job_id: str) -> Entry | None:
        """The pending or in-flight entry of `job_id`."""
        state = self._topics.get(topic)
        return state.jobs.get(job_id) if state else None

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

    def in_flight(self, job: Job) -> Entry:
        """The in-flight entry of `job`, not being settled; NotInFlight otherwise."""
        if self.closed:
            raise QueueClosed("queue is closed")
        state = self._topics.get(job.topic)
        entry = state.jobs.get(job.id) if state else None
        if entry is None or not entry.in_flight or entry.settling or entry.attempts != job.attempts:
            raise NotInFlight(f"job {job.topic}/{job.id} is not in flight")
        return entry

    def claim(self, job: Job) -> Entry:
        """Reserve the in-flight entry of `job` for one ack/retry/fail."""
        entry = self.in_flight(job)
        entry.settling = True
        return entry

    def unclaim(self, entry: Entry) -> None:
        """The settle of a claimed entry did not happen; it stays in flight."""
        entry.settling = False

    def group_info(self, job: Job) -> GroupInfo:
        """See `Queue.group_info`."""
        entry = self.in_flight(job)
        state = self._topic(job.topic)
        size = state.groups.get((entry.partition, entry.group), 0) if entry.group else 0
        return GroupInfo(size, entry.bundle is not None)

    def candidates(self, job: Job, more_than: int, limit: int) -> tuple[Entry, list[Entry]]:
        """In-flight `job`'s entry and the members a new bundle under it would have (none
        when it already heads one: see `Entry.bundle`)."""
        entry = self.in_flight(job)
        if entry.bundle is not None:
            return entry, []
        return entry, self._topic(job.topic).candidates(entry, more_than, limit)

    def record_bundle(self, head: Entry, members: list[Entry]) -> None:
        """`members` (pending, of head's group and partition) are now settled with `head`."""
        head.bundle = members
        for member in members:
            member.bundled = True

    def finish(self, topic: str, entry: Entry) -> None:
        """The job (and its bundle) is acked or failed: forget it and unblock its partition."""
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
