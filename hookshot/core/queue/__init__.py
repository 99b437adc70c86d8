"""Durable job queues between the bridge's stages (see `base` for the protocol)."""

from hookshot.core.queue.base import (
    DEDUPE_WINDOW,
    FAILED_RETENTION,
    FailedJob,
    Job,
    NewJob,
    NotInFlight,
    Queue,
    QueueClosed,
    QueueError,
    SeenStore,
)
from hookshot.core.queue.memory import MemoryQueue
from hookshot.core.queue.sqlite import SqliteQueue

__all__ = [
    "DEDUPE_WINDOW",
    "FAILED_RETENTION",
    "FailedJob",
    "Job",
    "MemoryQueue",
    "NewJob",
    "NotInFlight",
    "Queue",
    "QueueClosed",
    "QueueError",
    "SeenStore",
    "SqliteQueue",
]
