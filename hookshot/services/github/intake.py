"""Intake for GitHub webhooks: `POST /github/webhook` (and hookshot's legacy `POST /`).

Unlike hookshot, which answers 200 before it checks anything, the signature is verified
over the raw body first, so a misconfigured secret shows up as 401 in GitHub's delivery log.
GitHub redelivers with the same `X-GitHub-Delivery`; that id is the job id, so a redelivery
is recognised and not posted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hookshot import wire
from hookshot.core.http import TooLarge, read_limited, refuse, starting
from hookshot.core.queue.base import NewJob, Queue
from hookshot.core.signatures import github_signature_valid
from hookshot.errors import WebhookError
from hookshot.services.generic.body import parse_body

log = logging.getLogger(__name__)

# GitHub caps payloads at 25 MB.
MAX_GITHUB_PAYLOAD = 25 * 1024 * 1024


def event_name(event: str, payload: Mapping[str, Any]) -> str:
    """`github.<event>[.<action>]`, the name connections filter on."""
    action = payload.get("action")
    return f"github.{event}.{action}" if isinstance(action, str) and action else f"github.{event}"


def decode_payload(content_type: str | None, raw: bytes) -> dict[str, Any]:
    """The JSON payload of a delivery, sent as JSON or form-encoded (`payload=`)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    body = parse_body(content_type, raw)
    if media == "application/x-www-form-urlencoded":
        inner = body.get("payload") if isinstance(body, dict) else None
        if not isinstance(inner, str):
            raise WebhookError(400, "Form-encoded delivery without a payload field")
        body = parse_body("application/json", inner.encode())
    if not isinstance(body, dict):
        raise WebhookError(400, "The payload must be a JSON object")
    return body


class GitHubWebhookIntake:
    """Verifies and queues GitHub deliveries."""

    def __init__(self, *, secret: str, queue: Queue, ready: Callable[[], bool]) -> None:
        self._secret = secret
        self._queue = queue
        self._ready = ready

    def routes(self) -> list[BaseRoute]:
        return [Route("/github/webhook", self.handle, methods=["POST"])]

    async def handle(self, request: Request) -> Response:
        if not self._ready():
            return starting()
        event = request.headers.get("x-github-event")
        delivery = request.headers.get("x-github-delivery")
        if not event:
            return refuse(400, "Missing X-GitHub-Event header")
        if not delivery:
            return refuse(400, "Missing X-GitHub-Delivery header")
        signature = request.headers.get("x-hub-signature-256")
        if not signature:
            return refuse(401, "Missing X-Hub-Signature-256 header")
        try:
            raw = await read_limited(request, MAX_GITHUB_PAYLOAD)
        except TooLarge:
            return refuse(413, "Payload too large")
        if not github_signature_valid(self._secret, raw, signature):
            log.warning("GitHub delivery %s: invalid signature", delivery)
            return refuse(401, "Invalid signature")
        try:
            payload = decode_payload(request.headers.get("content-type"), raw)
        except WebhookError as err:
            return refuse(err.status, err.message)
        repo = payload.get("repository")
        full_name = repo.get("full_name") if isinstance(repo, dict) else None
        name = event_name(event, payload)
        job = NewJob(
            id=f"github:{delivery}",
            # One repository's events stay in order; others proceed in parallel.
            # Label events wait in a debounce window; they must not hold the repository up.
            partition=(
                f"github:{str(full_name).lower()}"
                if full_name and name != "github.issues.labeled"
                else ""
            ),
            payload={
                "kind": wire.KIND_GITHUB,
                "event": event,
                "name": name,
                "delivery": delivery,
                "body": payload,
            },
        )
        fresh = await self._queue.push(wire.TOPIC_WEBHOOK, [job])
        if not fresh[0]:
            return JSONResponse({"ok": True, "duplicate": True}, status_code=200)
        return JSONResponse({"ok": True}, status_code=202)


def is_github_delivery(headers: Mapping[str, str]) -> bool:
    """hookshot's legacy root route took GitHub deliveries when this header was present."""
    return "x-github-delivery" in headers
