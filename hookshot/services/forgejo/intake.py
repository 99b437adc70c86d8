"""Intake for Forgejo and Gitea webhooks: `POST /forgejo/webhook` (also `/gitea/webhook`).

The signature (`X-Forgejo-Signature` or `X-Gitea-Signature`: hex HMAC-SHA256 of the raw body
under the configured secret) is checked before anything is stored, so a wrong secret shows as
401 in the forge's delivery log. The delivery UUID is the job id: a redelivery is not posted
twice."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hookshot import wire
from hookshot.core.http import TooLarge, read_limited, refuse, starting
from hookshot.core.queue.base import NewJob, Queue
from hookshot.core.signatures import hmac_sha256_valid
from hookshot.errors import WebhookError
from hookshot.services.forgejo.events import hook_name, read_delivery
from hookshot.services.forgejo.format import repository_of
from hookshot.services.forgejo.wire import SERVICE
from hookshot.services.generic.body import parse_body

log = logging.getLogger(__name__)

# Forgejo's default webhook payload limit is far below this; it bounds what we read.
MAX_PAYLOAD = 25 * 1024 * 1024


class ForgejoWebhookIntake:
    """Verifies and queues Forgejo/Gitea deliveries."""

    def __init__(self, *, secret: str, queue: Queue, ready: Callable[[], bool]) -> None:
        self._secret = secret
        self._queue = queue
        self._ready = ready

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"/{SERVICE}/webhook", self.handle, methods=["POST"]),
            Route("/gitea/webhook", self.handle, methods=["POST"]),
        ]

    async def handle(self, request: Request) -> Response:
        if not self._ready():
            return starting()
        try:
            delivery = read_delivery(request.headers)
        except WebhookError as err:
            return refuse(err.status, err.message)
        if not delivery.signature:
            return refuse(401, "Missing X-Forgejo-Signature or X-Gitea-Signature header")
        try:
            raw = await read_limited(request, MAX_PAYLOAD)
        except TooLarge:
            return refuse(413, "Payload too large")
        if not hmac_sha256_valid(self._secret, raw, delivery.signature):
            log.warning("Forgejo delivery %s: invalid signature", delivery.delivery)
            return refuse(401, "Invalid signature")
        try:
            body = parse_body(request.headers.get("content-type"), raw)
        except WebhookError as err:
            return refuse(err.status, err.message)
        if not isinstance(body, dict):
            return refuse(400, "The payload must be a JSON object")
        full_name = repository_of(body).get("full_name")
        job = NewJob(
            id=f"{SERVICE}:{delivery.delivery}",
            # One repository's events stay in order; other repositories proceed in parallel.
            partition=f"{SERVICE}:{str(full_name).lower()}" if full_name else "",
            payload={
                "kind": SERVICE,
                "event_type": delivery.event_type,
                "name": hook_name(delivery.event_type, body),
                "delivery": delivery.delivery,
                "body": body,
            },
        )
        fresh = await self._queue.push(wire.TOPIC_WEBHOOK, [job])
        if not fresh[0]:
            return JSONResponse({"ok": True, "duplicate": True}, status_code=200)
        return JSONResponse({"ok": True}, status_code=202)
