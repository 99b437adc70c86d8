"""HTTP wiring: which routes each listener serves. No logic lives here.

hookshot serves the appservice API on `bridge.port` and each of `webhooks`, `widgets` and
`metrics` on the listeners that name them; listeners sharing a port share one app.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookshot.bridge import Bridge
from hookshot.core.hot_path import HotPaths, mounted
from hookshot.core.http import stopping, unavailable
from hookshot.core.queue.base import QueueError
from hookshot.matrix.appservice import AppserviceApi
from hookshot.ops.roles import APPSERVICE
from hookshot.widget.static import static_mount

log = logging.getLogger(__name__)


@dataclass
class Site:
    """One bound address and what it serves."""

    host: str
    port: int
    mounts: list[tuple[str, str]] = field(default_factory=list)  # (prefix, resource)


def plan_sites(bridge: Bridge) -> list[Site]:
    """Group the appservice and the configured listeners by (host, port), keeping only the
    resources this process's role serves."""
    cfg = bridge.config
    sites: dict[tuple[str, int], Site] = {}
    served = bridge.plan.resources

    def add(host: str, port: int, prefix: str, resource: str) -> None:
        if resource not in served:
            return
        site = sites.setdefault((host, port), Site(host, port))
        site.mounts.append((prefix, resource))

    add(cfg.bridge.bind_address, cfg.bridge.port, "", APPSERVICE)
    for listener in cfg.listeners:
        for resource in listener.resources:
            add(listener.bind_address, listener.port, listener.prefix, resource)
    return list(sites.values())


def health_routes(readiness: Callable[[], Awaitable[dict[str, bool]]]) -> list[BaseRoute]:
    async def live(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def is_ready(_: Request) -> Response:
        checks = await readiness()
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    return [Route("/live", live), Route("/ready", is_ready)]


def appservice_api(bridge: Bridge) -> AppserviceApi:
    return AppserviceApi(
        hs_token=bridge.registration.hs_token,
        queue=bridge.queue,
        is_our_user=bridge.is_bridge_user,
        ensure_user=bridge.ensure_user,
        on_events=bridge.metrics.appservice_events.inc,
        on_refused=bridge.transactions_refused,
    )


def resource_routes(
    bridge: Bridge, resource: str, appservice: AppserviceApi | None
) -> list[BaseRoute]:
    """The routes of one resource (`appservice`: the site's API instance, which its hot
    route serves too)."""
    if resource == APPSERVICE:
        return appservice.routes() if appservice is not None else []
    if resource == "webhooks":
        return webhook_routes(bridge)
    if resource == "metrics":
        return bridge.metrics.routes(refresh=bridge.refresh_metrics)
    if resource == "widgets":
        if bridge.widget_api is None:
            return []
        return [static_mount(), *bridge.widget_api.routes()]
    return []


def webhook_routes(bridge: Bridge) -> list[BaseRoute]:
    """The services' intake routes, then hookshot's legacy root POST, then the routes that
    match any single segment (generic hooks' legacy `/{hookId}`)."""
    routes: list[BaseRoute] = []
    runtimes = list(bridge.services.values())
    # The process holding room state keeps routes that need the users' admin rooms (OAuth).
    held = [route for r in runtimes for route in r.state_routes] if bridge.plan.room_state else []
    if not bridge.plan.intake:
        return held
    for runtime in runtimes:
        routes += runtime.intake_routes
    routes += held
    legacy = [r.legacy_root for r in bridge.services.values() if r.legacy_root is not None]

    async def legacy_root(request: Request) -> Response:
        for service in legacy:
            if service.claims(request.headers):
                return await service.handle(request)
        return await _not_found(request, Exception())

    routes.append(Route("/", legacy_root, methods=["POST"]))
    # Last: they match any single segment (generic hooks' legacy `/{hookId}`).
    for runtime in runtimes:
        routes += runtime.catch_all_routes
    return routes


def create_site_app(bridge: Bridge, site: Site) -> ASGIApp:
    """The ASGI app for one address: health first, then each resource under its prefix."""
    routes: list[BaseRoute] = health_routes(bridge.readiness)
    served = {resource for _, resource in site.mounts}
    api = appservice_api(bridge) if APPSERVICE in served else None
    # The webhooks resource ends in a catch-all (`/{hookId}`), so it goes last.
    for prefix, resource in sorted(site.mounts, key=lambda m: m[1] == "webhooks"):
        inner = resource_routes(bridge, resource, api)
        routes += [Mount(prefix, routes=inner)] if prefix else inner
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        404: _not_found,
        405: _not_allowed,
        QueueError: _queue_down,
    }
    if bridge.shared is not None:
        from redis.exceptions import RedisError  # loaded only where Redis is used

        handlers[RedisError] = _queue_down
    app: ASGIApp = Starlette(routes=routes, exception_handlers=handlers)
    webhooks = [prefix for prefix, resource in site.mounts if resource == "webhooks"]
    shortcuts = mounted(api.hot_routes(), [""]) if api is not None else []
    if webhooks and bridge.plan.intake:
        intake = [r for runtime in bridge.services.values() for r in runtime.hot_routes]
        shortcuts += mounted(intake, webhooks)
    hot = HotPaths(app, shortcuts, handlers) if shortcuts else None
    if webhooks:
        return WebhooksFront(app, hot, bridge)
    return hot or app


class WebhooksFront:
    """In front of a listener with the webhooks resource: refuses requests while stopping,
    serves the hot routes, and counts every request by route family, method and status
    (hookshot's metric). One layer rather than three: each ASGI wrapper added an await to
    every request and every `send`, a few % of a webhook's CPU under load.

    Once a stop began, webhooks get 503 + Retry-After (the listener closes a moment later):
    a 2xx now would promise a delivery the stopping workers no longer take."""

    def __init__(self, app: ASGIApp, hot: HotPaths | None, bridge: Bridge) -> None:
        self.app = app
        self._hot = hot
        self._bridge = bridge
        self._counter = bridge.metrics.webhook_requests
        self._children: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response: Response | None = None
        if self._bridge.stopping and scope["path"] not in ("/live", "/ready", "/metrics"):
            response = stopping()
        elif self._hot is not None and (found := self._hot.match(scope)) is not None:
            response = await self._hot.respond(found, scope, receive, send)
        if response is not None:
            self._count(scope, response.status_code)
            await response(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self._count(scope, status)

    def _count(self, scope: Scope, status: int) -> None:
        labels = (_route_family(scope["path"]), scope["method"], status)
        child = self._children.get(labels)
        if child is None:
            # `labels()` validates and locks on every call (a few % of a request).
            # Keys are bounded: route families x methods x statuses.
            child = self._counter.labels(labels[0], labels[1], str(status))
            self._children[labels] = child
        child.inc()


def _route_family(path: str) -> str:
    if path.startswith("/webhook/"):
        return "/webhook/{hookId}"
    if path in ("/github/webhook", "/gitlab/webhook", "/", "/live", "/ready", "/metrics"):
        return path
    return "/{hookId}" if path.count("/") == 1 else "other"


async def _not_found(_: Request, __: Exception) -> Response:
    return JSONResponse({"ok": False, "error": "Not found"}, status_code=404)


async def _queue_down(_: Request, err: Exception) -> Response:
    """Redis is unreachable: 503 + Retry-After, so the sender retries and nothing is lost."""
    log.warning("answering 503: %s", err)
    return unavailable("the queue cannot be reached")


async def _not_allowed(_: Request, __: Exception) -> Response:
    return JSONResponse({"ok": False, "error": "Method not allowed"}, status_code=405)
