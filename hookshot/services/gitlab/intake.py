"""Intake for GitLab webhooks: `POST /gitlab/webhook` (and hookshot's legacy `POST /` when
`X-Gitlab-Token` is present).

The token is compared in constant time before anything is queued. GitLab retries a delivery
with the same `Idempotency-Key` (17.4+); older versions send `X-Gitlab-Event-UUID`, shared by
every hook of one event, which is the same event for us too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hookshot import wire
from hookshot.core.http import TooLarge, read_limited, refuse, starting
from hookshot.core.queue.base import NewJob, Queue
from hookshot.core.signatures import token_valid
from hookshot.errors import WebhookError
from hookshot.services.generic.body import parse_body
from hookshot.services.gitlab.format import event_name, project_ref

MAX_GITLAB_PAYLOAD = 25 * 1024 * 1024
# Review activity is batched per MR and user; it must not queue behind the project's events.
_UNORDERED = ("gitlab.note.", "gitlab.merge_request.approv", "gitlab.merge_request.unapprov")


class GitLabWebhookIntake:
    """Verifies and queues GitLab deliveries."""

    def __init__(self, *, secret: str, queue: Queue, ready: Callable[[], bool]) -> None:
        self._secret = secret
        self._queue = queue
        self._ready = ready

    def routes(self) -> list[BaseRoute]:
        return [Route("/gitlab/webhook", self.handle, methods=["POST"])]

    async def handle(self, request: Request) -> Response:
        if not self._ready():
            return starting()
        token = request.headers.get("x-gitlab-token")
        if token is None:
            return refuse(400, "Missing X-Gitlab-Token header")
        if not token_valid(self._secret, token):
            return refuse(403, "Invalid X-Gitlab-Token")
        # As hookshot: the body names its kind (`object_kind`), so a delivery without the
        # header, or sent as a "System Hook", is routed by it; the token was checked first.
        header = request.headers.get("x-gitlab-event") or None
        try:
            raw = await read_limited(request, MAX_GITLAB_PAYLOAD)
            payload = parse_body(request.headers.get("content-type") or "application/json", raw)
        except TooLarge:
            return refuse(413, "Payload too large")
        except WebhookError as err:
            return refuse(err.status, err.message)
        if not isinstance(payload, dict):
            return refuse(400, "The payload must be a JSON object")
        name = event_name(header, payload)
        if name is None:
            # System hooks, "Test" deliveries without an action, kinds we do not post.
            return JSONResponse({"ok": True, "ignored": True}, status_code=200)
        key = request.headers.get("idempotency-key") or request.headers.get("x-gitlab-event-uuid")
        project = project_ref(payload)
        partition = (
            ""
            if name.startswith(_UNORDERED) or project is None
            else (f"gitlab:{project.path.lower()}")
        )
        job = NewJob(
            id=f"gitlab:{key or uuid.uuid4()}",
            partition=partition,
            payload={
                "kind": wire.KIND_GITLAB,
                "name": name,
                "header": header,
                "instance": request.headers.get("x-gitlab-instance"),
                "body": payload,
            },
        )
        fresh = await self._queue.push(wire.TOPIC_WEBHOOK, [job])
        if not fresh[0]:
            return JSONResponse({"ok": True, "duplicate": True}, status_code=200)
        return JSONResponse({"ok": True}, status_code=202)


def is_gitlab_delivery(headers: Mapping[str, str]) -> bool:
    """hookshot's legacy root route took GitLab deliveries when this header was present."""
    return "x-gitlab-token" in headers
