"""Turns queued webhook jobs into send jobs: the job's service renders it (finding the
connections the event is for, highest priority first), and the messages go to the send queue
in the same transaction that acknowledges the webhook job."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from hookshot import wire
from hookshot.core.completions import WAITING_KEY, Completions, Outcome, waited_for
from hookshot.core.connections import connection_id
from hookshot.core.outbox import send_jobs
from hookshot.core.queue.base import Job, Queue
from hookshot.core.service import JobRenderer, Rendered
from hookshot.ops.metrics import Metrics

log = logging.getLogger(__name__)


class WebhookRouter:
    """Consumes the `webhook` topic until stopped."""

    def __init__(
        self,
        *,
        queue: Queue,
        completions: Completions,
        renderers: Mapping[str, JobRenderer],
        metrics: Metrics | None = None,
        batch: int = 64,
    ) -> None:
        self._queue = queue
        self._completions = completions
        # Job payload `kind` -> the service that renders it.
        self._renderers = dict(renderers)
        self._metrics = metrics
        self._batch = batch
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()
        for renderer in self._renderers.values():
            renderer.stop()

    async def run(self) -> None:
        while not self._stopping.is_set():
            jobs = await self._queue.take(wire.TOPIC_WEBHOOK, self._batch, timeout=0.5)
            if jobs:
                await asyncio.gather(*(self._process(job) for job in jobs))

    async def _render(self, job: Job) -> Rendered:
        kind = job.payload.get("kind")
        renderer = self._renderers.get(str(kind))
        if renderer is None:
            log.warning("webhook job %s of unknown kind %r dropped", job.id, kind)
            return Rendered()
        return await renderer.render(job)

    async def _process(self, job: Job) -> None:
        # One bad job must not block the others: catch at the job boundary.
        try:
            rendered = await self._render(job)
        except Exception as err:
            log.exception("webhook job %s could not be rendered", job.id)
            if self._metrics is not None:
                kind = str(job.payload.get("kind"))
                self._metrics.connection_failed.labels(kind, _connection_label(job)).inc()
            await self._queue.fail(job, f"{type(err).__name__}: {err}")
            self._completions.resolve(
                job.id,
                Outcome(ok=False, error="Failed to process webhook"),
                announce=waited_for(job.payload),
            )
            return
        if rendered.held:
            return
        response = dict(rendered.response) if rendered.response is not None else None
        follow_ups = send_jobs(job.id, list(rendered.messages), origin=job.id)
        for new in follow_ups:
            # The sender answers a request waiting for completion (waitForComplete).
            if waited_for(job.payload):
                new.payload[WAITING_KEY] = True  # type: ignore[index]
            if response is not None:
                new.payload["webhook_response"] = response  # type: ignore[index]
        await self._queue.ack(job, {wire.TOPIC_SEND: follow_ups} if follow_ups else None)
        if not follow_ups:
            self._completions.resolve(
                job.id,
                Outcome(ok=True, response=response),
                announce=waited_for(job.payload),
            )


def _connection_label(job: Job) -> str:
    """hookshot's connectionId of a generic hook's job, never its hookId: /metrics would
    otherwise list the URL of every hook that failed."""
    p = job.payload
    if p.get("kind") == wire.KIND_GENERIC and "room_id" in p and "state_key" in p:
        return connection_id(str(p["room_id"]), wire.GENERIC_HOOK, str(p["state_key"]))
    return ""
