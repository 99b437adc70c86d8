"""Turns queued webhook jobs into send jobs: finds the connections an event is for (highest
priority first), lets each render its messages, and hands them to the send queue in the same
transaction that acknowledges the webhook job."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from hookshot import wire
from hookshot.completions import Completions, Outcome
from hookshot.connections.base import OutgoingMessage
from hookshot.connections.github_notices import GitHubDefaults, notices
from hookshot.connections.github_repo import GitHubRepo
from hookshot.formatting.generic import render_generic
from hookshot.metrics import Metrics
from hookshot.outbox import send_jobs
from hookshot.queue.base import Job, Queue
from hookshot.store import ConnectionStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RouterSettings:
    domain: str
    user_id_prefix: str | None
    include_hook_body: bool
    github: GitHubDefaults


class WebhookRouter:
    """Consumes the `webhook` topic until stopped."""

    def __init__(
        self,
        *,
        queue: Queue,
        store: ConnectionStore,
        completions: Completions,
        settings: RouterSettings,
        metrics: Metrics | None = None,
        batch: int = 64,
    ) -> None:
        self._metrics = metrics
        self._queue = queue
        self._store = store
        self._completions = completions
        self._settings = settings
        self._batch = batch
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            jobs = await self._queue.take(wire.TOPIC_WEBHOOK, self._batch, timeout=0.5)
            if jobs:
                await asyncio.gather(*(self._process(job) for job in jobs))

    def messages_for(self, job: Job) -> Sequence[OutgoingMessage]:
        """What a webhook job turns into; pure apart from reading the store."""
        payload = job.payload
        if payload.get("kind") == "generic":
            hook = self._store.hook(str(payload.get("hook_id")))
            if hook is None:
                log.info("webhook job %s: hook was removed before delivery", job.id)
                return []
            content = render_generic(
                payload.get("body"), include_hook_body=self._settings.include_hook_body
            )
            return [
                hook.message(
                    content,
                    user_id_prefix=self._settings.user_id_prefix,
                    domain=self._settings.domain,
                )
            ]
        if payload.get("kind") == "github":
            return self._github_messages(job)
        log.warning("webhook job %s of unknown kind %r dropped", job.id, payload.get("kind"))
        return []

    def _github_messages(self, job: Job) -> list[OutgoingMessage]:
        body = job.payload.get("body")
        name = str(job.payload.get("name"))
        repo = body.get("repository") if isinstance(body, dict) else None
        full_name = repo.get("full_name") if isinstance(repo, dict) else None
        if not isinstance(body, dict) or not isinstance(full_name, str):
            return []
        messages = []
        for conn in self._store.routed(f"github:{full_name.lower()}"):
            if not isinstance(conn, GitHubRepo):
                continue
            for content in notices(conn, name, body, self._settings.github):
                messages.append(OutgoingMessage(room_id=conn.room_id, content=content))
        return messages

    async def _process(self, job: Job) -> None:
        # One bad job must not block the others: catch at the job boundary.
        try:
            messages = self.messages_for(job)
        except Exception as err:
            log.exception("webhook job %s could not be rendered", job.id)
            if self._metrics is not None:
                kind = str(job.payload.get("kind"))
                self._metrics.connection_failed.labels(
                    kind, str(job.payload.get("hook_id", ""))
                ).inc()
            await self._queue.fail(job, f"{type(err).__name__}: {err}")
            self._completions.resolve(job.id, Outcome(ok=False, error="Failed to process webhook"))
            return
        follow_ups = send_jobs(job.id, messages, origin=job.id)
        await self._queue.ack(job, {wire.TOPIC_SEND: follow_ups} if follow_ups else None)
        if not follow_ups:
            self._completions.resolve(job.id, Outcome(ok=True))
