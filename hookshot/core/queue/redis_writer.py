"""The Redis queue's writer: script calls run in submission order, those queued together in
one pipelined round trip, and each caller's future resolves only once Redis has applied its
script (or with the error that kept it from doing so). Adjacent pushes to one topic in a
round trip go as one push call, its reply split back among them: the same effects in the
same order, for one command's packing and parsing instead of one each."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar, cast

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from hookshot.core.queue.base import QueueClosed

logger = logging.getLogger(__name__)

T = TypeVar("T")
Arg = str | bytes | int | float
Loader = Callable[[Redis], Awaitable[dict[str, str]]]  # script name -> sha, after SCRIPT LOAD

_MAX_BATCH: Final = 1024  # scripts per pipeline: bounds the latency of one round trip
# The one script whose calls merge: its arguments are a head (prefix, group, consumer, topic),
# `now`, then (id, partition, group, record) quads; it answers one flag per quad, and dedupes
# within a call, so one call for several quad lists answers as the calls one after another.
_PUSH: Final = "push"
_HEAD: Final = 4


@dataclass(slots=True, eq=False)
class ScriptOp(Generic[T]):
    script: str
    args: list[Arg]
    future: asyncio.Future[T]
    apply: Callable[[Any], T]  # reply -> result; runs on the loop in submission order
    undo: Callable[[], None] | None  # runs if the reply never came


class ScriptWriter:
    """Runs script calls in submission order, those queued together in one pipeline."""

    def __init__(self, redis: Redis, shas: dict[str, str], load: Loader) -> None:
        self._redis = redis
        self._shas = shas
        self._load = load
        self._ops: asyncio.Queue[ScriptOp[Any] | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="hookshot-redis-writer")
        self.closing = False
        self.round_trips = 0
        self.script_calls = 0  # EVALSHAs sent: below the ops when pushes were merged
        self._reload = False

    def submit(
        self,
        script: str,
        args: list[Arg],
        apply: Callable[[Any], T],
        undo: Callable[[], None] | None = None,
    ) -> asyncio.Future[T]:
        """Queue a script call; the future resolves with `apply(reply)`."""
        if self.closing:
            raise QueueClosed("queue is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._ops.put_nowait(ScriptOp(script, args, future, apply, undo))
        return future

    async def stop(self) -> None:
        """Finish the queued calls, then stop."""
        if not self.closing:
            self.closing = True
            self._ops.put_nowait(None)
        await asyncio.shield(self._task)

    async def _run(self) -> None:
        stop = False
        while not stop:
            first = await self._ops.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < _MAX_BATCH and not self._ops.empty():
                op = self._ops.get_nowait()
                if op is None:
                    stop = True
                    break
                batch.append(op)
            await self._round(batch)

    async def _round(self, batch: list[ScriptOp[Any]]) -> None:
        while batch:
            try:
                replies = await self._send(batch)
            except Exception as exc:
                # The replies are lost, not necessarily the effects: at-least-once covers it.
                logger.warning("Redis queue round trip failed: %s", exc)
                for op in batch:
                    self._settle(op, None, exc)
                return
            again = []
            for op, reply in zip(batch, replies, strict=True):
                if isinstance(reply, NoScriptError):
                    again.append(op)  # Redis lost its script cache (restart?): it never ran
                    self._reload = True
                else:
                    self._settle(op, reply, reply if isinstance(reply, Exception) else None)
            batch = again

    async def _send(self, batch: list[ScriptOp[Any]]) -> list[Any]:
        """One reply per op of `batch`, in order (an error reply as its exception)."""
        if self._reload:
            self._shas.update(await self._load(self._redis))
            self._reload = False
        calls = _coalesce(batch)
        pipe = self._redis.pipeline(transaction=False)
        for call in calls:
            pipe.execute_command("EVALSHA", self._shas[call.script], 0, *call.args)
        replies = await pipe.execute(raise_on_error=False)
        self.round_trips += 1
        self.script_calls += len(calls)
        out: list[Any] = []
        for call, reply in zip(calls, replies, strict=True):
            if len(call.sizes) == 1:
                out.append(reply)
            elif isinstance(reply, Exception):
                # The merged pushes stand or fall together (a NoScriptError: all run again).
                out.extend([reply] * len(call.sizes))
            else:
                start = 0
                for size in call.sizes:
                    out.append(reply[start : start + size])
                    start += size
        return out

    @staticmethod
    def _settle(op: ScriptOp[Any], reply: Any, error: BaseException | None) -> None:
        if error is None:
            try:
                value = op.apply(reply)
            except Exception as exc:
                error = exc
        elif op.undo is not None:
            op.undo()
        if op.future.done():
            return  # the caller was cancelled; `apply`/`undo` above still had to run
        if error is None:
            op.future.set_result(value)
        else:
            op.future.set_exception(error)


@dataclass(slots=True)
class _Call:
    """One EVALSHA of a round trip: one op's, or adjacent pushes to one topic merged."""

    script: str
    args: list[Arg]
    sizes: list[int]  # reply items of each op in it; a single op gets the whole reply


def _coalesce(batch: list[ScriptOp[Any]]) -> list[_Call]:
    """`batch` as script calls in the same order, each run of adjacent pushes with the same
    head sent as one push of all their quads at the latest of their times. Packing each
    call's head and parsing each reply was most of redis-py's share of an intake's CPU."""
    calls: list[_Call] = []
    run: _Call | None = None  # the last call, while it is a push others may join
    for op in batch:
        args = op.args
        if op.script != _PUSH:
            calls.append(_Call(op.script, args, [1]))
            run = None
            continue
        size = (len(args) - _HEAD - 1) // 4
        if run is None or run.args[:_HEAD] != args[:_HEAD]:
            run = _Call(_PUSH, args, [size])
            calls.append(run)
            continue
        if len(run.sizes) == 1:
            run.args = list(run.args)  # the op's own list stays as it was, for a resend
        # A later `now` for the earlier quads is what they would see one call after another
        # a moment later; each job's record keeps its own enqueue time.
        run.args[_HEAD] = max(cast(float, run.args[_HEAD]), cast(float, args[_HEAD]))
        run.args += args[_HEAD + 1 :]
        run.sizes.append(size)
    return calls
