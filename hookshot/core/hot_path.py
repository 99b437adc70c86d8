"""The listeners' shortcut: requests on a hot route (generic's `/webhook/{hookId}`, the
appservice's `PUT /transactions/{txnId}`) go straight to its endpoint, past starlette's router
and middleware.

Under wrk those layers cost about as much CPU as the handler and the queue together: the
router tries every route's regex in turn (the generic routes come last, behind the
catch-all ordering), and each middleware adds an await layer to every receive and send. The
answers are the same: the endpoint is the one the router would call, errors map through the
app's exception handlers, and anything else falls through to the app.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

Handler = Callable[[Request, Exception], Awaitable[Response]]


@dataclass(frozen=True)
class HotRoute:
    """An intake route served before starlette's router: `prefix` plus one path segment
    (handed to `endpoint` as the path parameter `param`), for `methods`. The router and its
    middleware stack were about a third of a generic webhook's CPU; the route is also in the
    router, which serves whatever this does not match."""

    prefix: str  # e.g. "/webhook/"
    param: str
    methods: frozenset[str]
    endpoint: Callable[[Request], Awaitable[Response]]


def mounted(routes: Sequence[HotRoute], mounts: Sequence[str]) -> list[tuple[str, HotRoute]]:
    """Each of `routes` under each of a resource's `mounts` prefixes: (full prefix, route)."""
    return [(m.rstrip("/") + r.prefix, r) for m in mounts for r in routes]


class HotPaths:
    """Serves `routes` (full prefix, route); the rest goes to `app`."""

    def __init__(
        self,
        app: ASGIApp,
        routes: Sequence[tuple[str, HotRoute]],
        handlers: Mapping[Any, Handler],
    ) -> None:
        self.app = app
        self._routes = list(routes)
        # Exception classes only: status-code handlers (404, 405) are the router's business.
        self._handlers = [(k, h) for k, h in handlers.items() if isinstance(k, type)]

    def match(self, scope: Scope) -> tuple[HotRoute, str] | None:
        """The hot route for an HTTP request and its path segment, or None."""
        path: str = scope["path"]
        for prefix, route in self._routes:
            if path.startswith(prefix) and scope["method"] in route.methods:
                segment = path[len(prefix) :]
                if segment and "/" not in segment:
                    return route, segment
        return None

    async def respond(
        self, found: tuple[HotRoute, str], scope: Scope, receive: Receive, send: Send
    ) -> Response:
        """The matched endpoint's response, not yet sent (the caller counts its status
        without wrapping `send`)."""
        route, segment = found
        scope["path_params"] = {route.param: segment}
        request = Request(scope, receive, send)
        try:
            return await route.endpoint(request)
        except Exception as err:
            return await self._error(request, err)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.match(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        response = await self.respond(found, scope, receive, send)
        await response(scope, receive, send)

    async def _error(self, request: Request, err: Exception) -> Response:
        for cls, handler in self._handlers:
            if isinstance(err, cls):
                return await handler(request, err)
        # What starlette's ServerErrorMiddleware answers, logged the same way.
        log.error("Exception in ASGI application", exc_info=err)
        return PlainTextResponse("Internal Server Error", status_code=500)
