"""Outbound hooks: room events queued per hook and POSTed (or PUT) to the hook's URL.

Unlike hookshot, which drops an event when the receiver fails, a delivery is retried with
backoff until it succeeds or fails for good (a 4xx, a refused target); the receiver may see a
repeat after a crash and can de-duplicate on `X-Matrix-Hookshot-EventId`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from hookshot import wire
from hookshot.core.connections import Connection
from hookshot.core.queue.base import Job, NewJob, Queue
from hookshot.core.sender import backoff
from hookshot.core.store import ConnectionStore
from hookshot.errors import HomeserverUnreachable, HookshotError
from hookshot.services.generic.outbound import build_request, deliver, media_reference
from hookshot.services.generic.outbound_hook import OutboundHook

log = logging.getLogger(__name__)


def outbound_jobs(event: Mapping[str, Any], hooks: Sequence[Connection]) -> list[NewJob]:
    """One job per outbound hook of the room; the id makes a replayed event a no-op."""
    room_id, event_id = str(event.get("room_id")), str(event.get("event_id"))
    return [
        NewJob(
            id=f"outbound:{event_id}:{hook.state_key}",
            # One hook's events arrive in room order; hooks do not wait for each other.
            partition=f"{room_id}|{hook.state_key}",
            payload={"room_id": room_id, "state_key": hook.state_key, "event": dict(event)},
        )
        for hook in hooks
        if isinstance(hook, OutboundHook)
    ]


class OutboundSender:
    """Delivers `outbound` jobs until stopped."""

    def __init__(
        self,
        queue: Queue,
        store: ConnectionStore,
        client: httpx.AsyncClient,
        download: Callable[[str], Awaitable[tuple[bytes, str]]] | None = None,
    ) -> None:
        self._download = download
        self._queue = queue
        self._store = store
        self._client = client
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            jobs = await self._queue.take(wire.TOPIC_OUTBOUND, 16, timeout=0.5)
            if jobs:
                await asyncio.gather(*(self._deliver(job) for job in jobs))

    async def _media(self, event: Mapping[str, Any]) -> tuple[bytes, str, str] | None:
        """The file of an image/file/audio/video event; without it (as in hookshot) when the
        download fails."""
        ref = media_reference(event)
        if ref is None or self._download is None:
            return None
        try:
            data, content_type = await self._download(ref.mxc)
        except (HookshotError, HomeserverUnreachable) as err:
            log.warning("outbound: could not download %s: %s", ref.mxc, err)
            return None
        return data, content_type, ref.filename

    async def _deliver(self, job: Job) -> None:
        room_id, state_key = str(job.payload["room_id"]), str(job.payload["state_key"])
        hook = self._store.get((room_id, wire.OUTBOUND_HOOK, state_key))
        if not isinstance(hook, OutboundHook):
            await self._queue.ack(job)  # the hook was removed meanwhile: nothing to do
            return
        event = job.payload["event"]
        request = build_request(
            event,
            url=hook.url,
            method=hook.method,
            token=hook.token,
            media=await self._media(event),
            secret_for_signature=hook.token,
        )
        result = await deliver(request, client=self._client)
        if result.ok:
            await self._queue.ack(job)
        elif result.retryable:
            delay = result.retry_after if result.retry_after is not None else backoff(job.attempts)
            log.info(
                "outbound %s to %s: %s; retry in %.1fs", job.id, hook.url, result.detail, delay
            )
            await self._queue.retry(job, delay, result.detail)
        else:
            log.warning("outbound %s to %s failed for good: %s", job.id, hook.url, result.detail)
            await self._queue.fail(job, result.detail)
