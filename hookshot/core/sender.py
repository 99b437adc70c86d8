"""The only part that sends timeline events: takes send jobs, delivers them, acks them.

Delivery policy: the txn id is derived from the job id, so a retry never makes a second
event. Synapse remembers txn ids only in memory, so a send whose answer was lost to a
homeserver restart would be made again: every event carries its txn id in its content
(`wire.TXN_KEY`), and a retried job first looks for it among the room's latest events.
429 waits `retry_after_ms`; 5xx and network errors back off exponentially (capped, with
jitter); other 4xx fail for good and are recorded. At most `max_in_flight` sends run at
once (Synapse gains nothing past ~16-32), and at most one per room, which keeps room order.

Digests: a job of a connection with `digest` on whose group has more than its threshold
waiting heads a bundle (`Queue.take_group`, recorded before the send) and is sent as one
notice for all of them, under a txn id of its own; the ack settles the whole bundle, and a
redelivered head finds the same bundle, so a digest is never sent twice or differently.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from hookshot import wire
from hookshot.core.completions import Completions, Outcome, waited_for
from hookshot.core.digest import DEFAULT_MAX_EVENTS, DEFAULT_THRESHOLD, DigestTag
from hookshot.core.digest_message import digest_content
from hookshot.core.queue.base import Job, Queue
from hookshot.core.threads import ThreadRef, Threads
from hookshot.errors import MatrixError, RateLimited
from hookshot.matrix.client import MatrixClient
from hookshot.ops.metrics import Metrics

log = logging.getLogger(__name__)

BACKOFF_BASE = 0.5
RECENT_LOOKBACK = 50  # events a retried send reads back to find its earlier attempt
BACKOFF_CAP = 10.0
DIGEST_TXN = "digest:"  # a digest's txn id is derived from this and its head's job id


def txn_id_for(job_id: str) -> str:
    """A stable, URL-safe transaction id for a job."""
    return "hs" + hashlib.sha256(job_id.encode()).hexdigest()[:40]


def backoff(attempts: int) -> float:
    """Exponential delay with full jitter above a floor, capped."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2.0**attempts))
    return ceiling / 2 + random.random() * ceiling / 2


class VirtualUsers:
    """Registers virtual senders, sets their display names and joins them to rooms, once."""

    def __init__(self, client: MatrixClient) -> None:
        self._client = client
        self._registered: set[str] = set()
        self._names: dict[str, str] = {}
        self._joined: set[tuple[str, str]] = set()

    async def ensure(self, user_id: str, displayname: str | None, room_id: str) -> None:
        if user_id not in self._registered:
            await self._client.register_appservice_user(user_id[1:].split(":", 1)[0])
            self._registered.add(user_id)
        if displayname and self._names.get(user_id) != displayname:
            profile: dict[str, Any] = {}
            try:
                profile = await self._client.get_profile(user_id)
            except MatrixError as err:
                if err.status != 404:
                    raise
            if profile.get("displayname") != displayname:
                await self._client.set_displayname(user_id, displayname)
            self._names[user_id] = displayname
        if (user_id, room_id) not in self._joined:
            try:
                await self._client.join(room_id, user_id=user_id)
            except MatrixError as err:
                if err.status != 403:
                    raise
                # Not invited yet (private room): the bot invites, then the user joins.
                await self._client.invite(room_id, user_id)
                await self._client.join(room_id, user_id=user_id)
            self._joined.add((user_id, room_id))

    def forget_membership(self, user_id: str, room_id: str) -> None:
        self._joined.discard((user_id, room_id))


class Sender:
    """Delivers send jobs to the homeserver until stopped."""

    def __init__(
        self,
        client: MatrixClient,
        queue: Queue,
        completions: Completions,
        *,
        max_in_flight: int = 16,
        metrics: Metrics | None = None,
        on_sent: Callable[[dict[str, Any], str], None] | None = None,
        threads: Threads | None = None,
        digest_threshold: int = DEFAULT_THRESHOLD,
        digest_max_events: int = DEFAULT_MAX_EVENTS,
    ) -> None:
        self._threads = threads
        self._digest_threshold = digest_threshold
        self._digest_max = digest_max_events
        self._metrics = metrics
        self._on_sent = on_sent
        self._client = client
        self._queue = queue
        self._completions = completions
        self._max = max_in_flight
        self._users = VirtualUsers(client)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.sent = 0
        self.failed = 0
        self.digested = 0  # jobs delivered as part of a digest

    async def run(self) -> None:
        """Take and deliver jobs until `stop()`; in-flight sends finish first."""
        while not self._stopping.is_set():
            free = self._max - len(self._tasks)
            if free <= 0:
                await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
                continue
            jobs = await self._queue.take(wire.TOPIC_SEND, free, timeout=0.5)
            for job in jobs:
                task = asyncio.create_task(self._deliver(job))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        if self._tasks:
            await asyncio.wait(self._tasks)

    def stop(self) -> None:
        self._stopping.set()

    async def _deliver(self, job: Job) -> None:
        p = job.payload
        room_id = str(p["room_id"])
        sender = p.get("sender") if isinstance(p.get("sender"), str) else None
        bundle: list[Job] = []  # the jobs a digest headed by `job` stands for
        try:
            if sender is not None:
                await self._users.ensure(sender, p.get("displayname"), room_id)
            txn_id = txn_id_for(job.id)
            event_type = str(p.get("event_type", wire.M_ROOM_MESSAGE))
            content = dict(p["content"])
            ref = ThreadRef.from_payload(p.get(wire.THREAD_KEY))
            planned = None
            if ref is not None and self._threads is not None:
                planned = await self._threads.plan(room_id, ref, p, sender, txn_id)
                if planned is None:
                    await self._queue.ack(job)
                    self._completions.resolve(
                        _origin(job), Outcome(ok=True), announce=waited_for(p)
                    )
                    return
                event_type, content, sender = planned.event_type, planned.content, planned.sender
            event_id = None
            check = job.attempts > 0
            tag = DigestTag.from_payload(job.group, p.get(wire.DIGEST_KEY)) if ref is None else None
            if tag is not None:
                bundle, resumed, event_id = await self._bundle(job, tag, room_id, sender, txn_id)
                if bundle:
                    txn_id = txn_id_for(DIGEST_TXN + job.id)
                    event_type = wire.M_ROOM_MESSAGE
                    content = digest_content(tag.label, [_content(j) for j in (job, *bundle)])
                    check = check or resumed
            if event_id is None and check:
                event_id = await self._earlier_send(room_id, sender, txn_id)
            if event_id is None:
                event_id = await self._client.send_event(
                    room_id, event_type, {**content, wire.TXN_KEY: txn_id}, txn_id, user_id=sender
                )
            if planned is not None and self._threads is not None:
                await self._threads.sent(room_id, planned, event_id, txn_id)
        except RateLimited as err:
            self._count_retry("ratelimited")
            await self._queue.retry(job, err.retry_after_ms / 1000, str(err))
        except MatrixError as err:
            if not err.permanent:
                await self._retry(job, str(err), "server")
            elif sender is not None and err.status == 403 and job.attempts < 3:
                # Maybe kicked since we last joined: rejoin on the next attempt.
                self._users.forget_membership(sender, room_id)
                self._count_retry("forbidden")
                await self._queue.retry(job, backoff(job.attempts), str(err))
            else:
                log.error("send job %s failed for good: %s", job.id, err)
                self.failed += 1 + len(bundle)
                if self._metrics is not None:
                    self._metrics.send_failures.inc(1 + len(bundle))
                await self._queue.fail(job, str(err))  # and its bundle
                for done in (job, *bundle):
                    self._completions.resolve(
                        _origin(done),
                        Outcome(ok=False, error=str(err)),
                        announce=waited_for(done.payload),
                    )
        except OSError as err:  # HomeserverUnreachable among them
            await self._retry(job, f"{type(err).__name__}: {err}", "network")
        except Exception as err:
            # A bug must not kill the sender loop; the job is kept for a later try.
            log.exception("send job %s crashed", job.id)
            await self._retry(job, f"{type(err).__name__}: {err}", "bug")
        else:
            self.sent += 1
            if bundle:
                self.digested += 1 + len(bundle)
            await self._queue.ack(job)  # and its bundle
            for done in (job, *bundle):
                self._delivered(done, event_id)

    def _delivered(self, job: Job, event_id: str) -> None:
        """Tell whoever waits for `job` (its webhook, a service) where it landed."""
        p = job.payload
        if self._metrics is not None:
            self._metrics.delivery_latency.observe(max(0.0, time.time() - job.enqueued_at))
        response = p.get("webhook_response")
        self._completions.resolve(
            _origin(job),
            Outcome(
                ok=True,
                event_id=event_id,
                response=response if isinstance(response, dict) else None,
            ),
            announce=waited_for(p),
        )
        if self._on_sent is not None:
            self._on_sent(p, event_id)

    async def _bundle(
        self, job: Job, tag: DigestTag, room_id: str, sender: str | None, single_txn: str
    ) -> tuple[list[Job], bool, str | None]:
        """The jobs a digest headed by `job` stands for (none: send it alone), whether an
        earlier delivery recorded them (and so may have sent the digest), and the event an
        earlier send of `job` alone made, if one landed before a crash kept it from its ack."""
        threshold = tag.threshold or self._digest_threshold
        info = await self._queue.group_info(job)
        if not info.bundled:
            if info.size <= threshold:
                return [], False, None
            # Sent alone before a crash? Then it must not be summarised as well (one read of
            # the room per new digest, never per job).
            alone = await self._earlier_send(room_id, sender, single_txn)
            if alone is not None:
                return [], False, alone
        members = await self._queue.take_group(job, threshold, self._digest_max)
        return members, info.bundled, None

    async def _earlier_send(self, room_id: str, sender: str | None, txn_id: str) -> str | None:
        """The event an earlier attempt of this job made, if the room has it. Per-room order
        means it is among the sender's latest events there."""
        try:
            events = await self._client.recent_events(room_id, sender, RECENT_LOOKBACK)
        except MatrixError as err:
            if not err.permanent:
                raise
            log.warning("cannot read %s to check for an earlier send: %s", room_id, err)
            return None
        for event in events:
            content = event.get("content")
            if isinstance(content, dict) and content.get(wire.TXN_KEY) == txn_id:
                log.info("send %s had already landed as %s", txn_id, event.get("event_id"))
                return str(event.get("event_id", ""))
        return None

    def _count_retry(self, reason: str) -> None:
        if self._metrics is not None:
            self._metrics.send_retries.labels(reason).inc()

    async def _retry(self, job: Job, error: str, reason: str) -> None:
        self._count_retry(reason)
        delay = backoff(job.attempts)
        log.warning("send job %s: %s; retry %d in %.1fs", job.id, error, job.attempts + 1, delay)
        await self._queue.retry(job, delay, error)


def _origin(job: Job) -> str | None:
    origin = job.payload.get("origin")
    return origin if isinstance(origin, str) else None


def _content(job: Job) -> dict[str, Any]:
    content = job.payload.get("content")
    return content if isinstance(content, dict) else {}
