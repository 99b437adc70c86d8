"""Intake for inbound (generic) webhooks: `/webhook/{hookId}` and the legacy `/{hookId}`.

Refusals are JSON `{"ok": false, "error": ...}` with a precise status. A 2xx means the
request is in the durable queue; with `waitForComplete` we answer after the message was sent.
Past a hook's rate limit the answer is 429 + Retry-After and nothing is stored; the delivery
log and the process log get the first refusal of a flood and then one sum a minute.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hookshot import wire
from hookshot.core.completions import WAITING_KEY, Completions
from hookshot.core.http import Prebuilt, TooLarge, read_limited, refuse, starting, too_many
from hookshot.core.queue.base import NewJob, Queue
from hookshot.core.rate_limit import UNSET, KeyedLimits, RateLimit, Report, retry_after
from hookshot.core.signatures import hook_secret_valid
from hookshot.core.unique import fresh_id
from hookshot.errors import WebhookError
from hookshot.ops.delivery_log import DeliveryRecorder
from hookshot.services.generic.body import parse_body, query_to_body
from hookshot.services.generic.hook_directory import DirectoryUnavailable, HookEntry, HookLookup
from hookshot.widget.errors import ErrCode

log = logging.getLogger(__name__)

# Ids of the jobs this intake queues (the delivery log has entries only for these).
JOB_PREFIX = "generic:"
# The methods routed to `handle`, which answers hookshot's 405 for those not enabled.
METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# `/webhook/{hook_id}`: the path of nearly every request, and so the hot route.
HOT_PREFIX: Final = "/webhook/"


# The common answer: `{"ok":true}` 202.
ACCEPTED: Final = Prebuilt({"ok": True}, status_code=202)


@dataclass(frozen=True)
class GenericIntakeSettings:
    enable_http_get: bool
    wait_for_complete: bool
    payload_size_limit: int
    # `generic.rateLimit`: each hook's bucket unless its state overrides it.
    rate_limit: RateLimit = UNSET
    # How long a waiting request is held before we answer 202 (the job is queued anyway).
    wait_timeout: float = 30.0


class GenericWebhookIntake:
    """Verifies a generic webhook request and queues it."""

    def __init__(
        self,
        *,
        settings: GenericIntakeSettings,
        hooks: HookLookup,
        queue: Queue,
        completions: Completions,
        ready: Callable[[], bool],
        log: DeliveryRecorder | None = None,
        limits: KeyedLimits | None = None,
        on_limited: Callable[[], None] = lambda: None,
    ) -> None:
        self._log = log
        self._limits = limits or KeyedLimits()
        self._on_limited = on_limited
        self._ready = ready
        self._settings = settings
        self._hooks = hooks
        self._queue = queue
        self._completions = completions

    def routes(self) -> list[BaseRoute]:
        methods = list(METHODS)
        return [
            Route("/webhook/{hook_id}", self.handle, methods=methods),
            # Older hookshot served hooks at the root; existing URLs keep working.
            Route("/{hook_id}", self.handle, methods=methods),
        ]

    def _record(
        self, hook_id: str, method: str, size: int, status: int, result: str, job: str | None
    ) -> None:
        if self._log is not None:
            self._log.record(hook_id, method, status, size, result, job)

    def _refused(
        self, hook_id: str, method: str, size: int, status: int, error: str
    ) -> JSONResponse:
        self._record(hook_id, method, size, status, f"refused: {error}", None)
        return refuse(status, error)

    def _over_limit(self, hook: HookEntry, method: str, size: int) -> Response | None:
        """429 when the hook's bucket is empty; None when the request may go on."""
        limit = hook.rate_limit.over(self._settings.rate_limit)
        if not limit.active:
            return None
        verdict = self._limits.check(hook.hook_id, limit)
        if verdict.report is not None:
            self._report(hook.hook_id, method, size, limit, verdict.report)
        if not verdict.wait:
            return None
        self._on_limited()
        return too_many(retry_after(verdict.wait))

    def _report(
        self, hook_id: str, method: str, size: int, limit: RateLimit, report: Report
    ) -> None:
        if report.count == 1 and not report.seconds:
            text = f"over {limit.describe()}; further refusals are summed here once a minute"
            log.warning("generic hook %s…: rate limited (%s)", hook_id[:6], limit.describe())
        else:
            text = f"{report.count} requests in {report.seconds:.0f} s"
            log.warning(
                "generic hook %s…: %d requests refused by its rate limit in %.0f s",
                hook_id[:6],
                report.count,
                report.seconds,
            )
        self._record(hook_id, method, size, 429, f"refused: rate limited: {text}", None)

    async def handle(self, request: Request) -> Response:
        method = request.method
        allowed = ("PUT", "GET", "POST") if self._settings.enable_http_get else ("PUT", "POST")
        if method not in allowed:
            # hookshot's answer, word for word: senders and their tooling parse it.
            expecting = ", ".join(allowed[:-1]) + " or " + allowed[-1]
            return JSONResponse(
                {
                    "errcode": ErrCode.METHOD_NOT_ALLOWED.value,
                    "error": f"Invalid Method. Expecting {expecting}",
                },
                status_code=405,
                headers={"Allow": ", ".join(allowed)},
            )
        if not self._ready():
            return starting()
        hook_id = request.path_params["hook_id"]
        try:
            hook = await self._hooks.find(hook_id)
        except DirectoryUnavailable:
            return starting()
        if hook is None:
            return refuse(404, "Webhook not found")  # hookshot's text
        if hook.expired():
            return self._refused(hook_id, method, 0, 404, "This hook has expired")
        # A hook with a secret counts only verified requests, so someone holding just the URL
        # cannot use up its sender's allowance; other hooks refuse before reading the body.
        if not hook.require_secret and (limited := self._over_limit(hook, method, 0)):
            return limited
        try:
            raw = await read_limited(request, self._settings.payload_size_limit)
        except TooLarge:
            return self._refused(hook_id, method, 0, 413, "Payload too large")
        if hook.require_secret:
            if hook.secret is None or not hook_secret_valid(hook.secret, request.headers, raw):
                return self._refused(hook_id, method, len(raw), 401, "Missing or invalid secret")
            if limited := self._over_limit(hook, method, len(raw)):
                return limited
        try:
            if method == "GET":
                body: object = query_to_body(request.query_params.multi_items())
            else:
                body = parse_body(request.headers.get("content-type"), raw)
        except WebhookError as err:
            return self._refused(hook_id, method, len(raw), err.status, err.message)

        # A sender's retry with the same Idempotency-Key is the same delivery.
        key = request.headers.get("idempotency-key")
        job_id = f"{JOB_PREFIX}{hook_id}:{key}" if key else f"{JOB_PREFIX}{fresh_id()}"
        wait = hook.wait_for_complete
        if wait is None:
            wait = self._settings.wait_for_complete
        waiter = self._completions.expect(job_id) if wait else None
        payload = {
            "kind": wire.KIND_GENERIC,
            "hook_id": hook_id,
            "room_id": hook.room_id,
            "state_key": hook.state_key,
            "body": body,
        }
        if waiter is not None:
            payload[WAITING_KEY] = True
        try:
            fresh = await self._queue.push(
                wire.TOPIC_WEBHOOK, [NewJob(id=job_id, partition=hook_id, payload=payload)]
            )
        except BaseException:
            if waiter is not None:
                self._completions.discard(job_id)
            raise
        if not fresh[0]:
            if waiter is not None:
                self._completions.discard(job_id)
            self._record(hook_id, method, len(raw), 200, "duplicate (already received)", None)
            return JSONResponse({"ok": True, "duplicate": True}, status_code=200)
        self._record(hook_id, method, len(raw), 200 if waiter else 202, "queued", job_id)
        if waiter is None:
            return ACCEPTED()
        try:
            outcome = await asyncio.wait_for(waiter, self._settings.wait_timeout)
        except TimeoutError:
            self._completions.discard(job_id)
            return JSONResponse({"ok": True, "queued": True}, status_code=202)
        if not outcome.ok:
            return refuse(500, outcome.error or "Failed to process webhook")
        if outcome.response is not None:
            # A transformation function chose the answer (hookshot's webhookResponse).
            return Response(
                str(outcome.response.get("body", "")),
                status_code=int(outcome.response.get("statusCode") or 200),
                media_type=str(outcome.response.get("contentType") or "text/plain"),
            )
        return JSONResponse({"ok": True}, status_code=200)
