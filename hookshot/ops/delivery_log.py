"""Ours (hookshot#479): the last requests of each generic hook and what became of them, so a
room admin can see why a message did not arrive. It explains recent deliveries, it is not an
audit trail: kept in memory in one process, in Redis (`delivery_log_redis.py`) when a cache
or the scale-out roles are configured."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Delivery:
    at: float
    method: str
    status: int
    size: int
    result: str = ""  # "queued", "sent $event", "failed: …", or why it was refused
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.at))
        extra = "; ".join([self.result, *self.notes]).strip("; ")
        return f"{when} UTC {self.method} → {self.status} ({self.size} bytes) {extra}".rstrip()


class DeliveryRecorder(Protocol):
    """Writes never block or fail the caller (a log must not cost a delivery)."""

    def record(
        self, hook_id: str, method: str, status: int, size: int, result: str, job_id: str | None
    ) -> None: ...

    def note(self, job_id: str, text: str) -> None: ...

    def settle(self, job_id: str, result: str) -> None: ...

    async def entries(self, hook_id: str) -> list[Delivery]:
        """Oldest first."""
        ...


class DeliveryLog:
    """In memory: per hook, the last `per_hook` deliveries (and at most `hooks` hooks)."""

    def __init__(self, per_hook: int = 20, hooks: int = 10_000) -> None:
        self._per_hook = per_hook
        self._hooks = hooks
        self._by_hook: OrderedDict[str, deque[Delivery]] = OrderedDict()
        self._by_job: dict[str, Delivery] = {}

    def record(
        self, hook_id: str, method: str, status: int, size: int, result: str, job_id: str | None
    ) -> None:
        entries = self._by_hook.get(hook_id)
        if entries is None:
            entries = self._by_hook[hook_id] = deque(maxlen=self._per_hook)
            if len(self._by_hook) > self._hooks:
                self._by_hook.popitem(last=False)
        if len(entries) == entries.maxlen:
            dropped = entries[0]
            self._by_job = {k: v for k, v in self._by_job.items() if v is not dropped}
        entry = Delivery(time.time(), method, status, size, result)
        entries.append(entry)
        if job_id is not None:
            self._by_job[job_id] = entry

    def note(self, job_id: str, text: str) -> None:
        entry = self._by_job.get(job_id)
        if entry is not None:
            entry.notes.append(text)

    def settle(self, job_id: str, result: str) -> None:
        entry = self._by_job.pop(job_id, None)
        if entry is not None:
            entry.result = result

    async def entries(self, hook_id: str) -> list[Delivery]:
        return list(self._by_hook.get(hook_id, ()))
