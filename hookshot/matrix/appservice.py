"""The application service API the homeserver calls (hosted in starlette).

Every event of a transaction is persisted in the `matrix` queue under its event_id before we
answer, so a replayed transaction is answered without reprocessing, across bridge restarts,
while a reused transaction id (Synapse restarts from 1) with new events is still processed.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hookshot import wire
from hookshot.core.hot_path import HotRoute
from hookshot.core.http import Prebuilt, TooLarge, read_limited
from hookshot.core.queue.base import NewJob, Queue

log = logging.getLogger(__name__)

TRANSACTIONS = "/_matrix/app/v1/transactions/"
# The answer to every accepted call; the transaction's comes once per delivered message.
OK: Final = Prebuilt({})
MAX_TRANSACTION_BYTES = 32 * 1024 * 1024  # Synapse caps a transaction at 100 PDUs + 50 EDUs


def _error(status: int, errcode: str, message: str) -> JSONResponse:
    return JSONResponse({"errcode": errcode, "error": message}, status_code=status)


class AppserviceApi:
    """Routes for PUT /transactions, GET /users, GET /rooms and POST /ping."""

    def __init__(
        self,
        *,
        hs_token: str,
        queue: Queue,
        is_our_user: Callable[[str], bool],
        ensure_user: Callable[[str], Any],
        on_ping: Callable[[str | None], None] | None = None,
        on_events: Callable[[int], None] | None = None,
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        self._on_events = on_events
        self._on_refused = on_refused
        self._hs_token = hs_token.encode()
        self._queue = queue
        self._is_our_user = is_our_user
        self._ensure_user = ensure_user
        self._on_ping = on_ping

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = []
        for prefix in ("/_matrix/app/v1", ""):  # "" = the legacy unprefixed paths
            routes += [
                Route(f"{prefix}/transactions/{{txn_id}}", self.transaction, methods=["PUT"]),
                Route(f"{prefix}/users/{{user_id}}", self.user_query, methods=["GET"]),
                Route(f"{prefix}/rooms/{{alias}}", self.room_query, methods=["GET"]),
            ]
        routes.append(Route("/_matrix/app/v1/ping", self.ping, methods=["POST"]))
        return routes

    def hot_routes(self) -> list[HotRoute]:
        """Of `routes`, the one every delivered message costs a call of (its echo arrives in
        a transaction): served before starlette's router, whose layers were ~6% of the
        bridge's CPU per message."""
        return [HotRoute(TRANSACTIONS, "txn_id", frozenset({"PUT"}), self.transaction)]

    def _auth(self, request: Request) -> JSONResponse | None:
        """Spec errors: no token 401 M_UNAUTHORIZED, wrong token 403 M_FORBIDDEN."""
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else None
        if token is None:
            token = request.query_params.get("access_token")  # legacy homeservers
        if not token:
            return _error(401, "M_UNAUTHORIZED", "Missing hs_token")
        if not hmac.compare_digest(token.encode(), self._hs_token):
            return _error(403, "M_FORBIDDEN", "Bad hs_token")
        return None

    async def transaction(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        try:
            raw = await read_limited(request, MAX_TRANSACTION_BYTES)
        except TooLarge:
            return _error(413, "M_TOO_LARGE", "Transaction too large")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return _error(400, "M_NOT_JSON", "Transaction body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("events", []), list):
            return _error(400, "M_BAD_JSON", "Transaction must be an object with an events list")
        jobs = []
        for event in body.get("events", []):
            if not isinstance(event, dict):
                continue
            event_id, room_id = event.get("event_id"), event.get("room_id")
            if "state_key" not in event and self._is_our_user(str(event.get("sender", ""))):
                # The echo of a message we sent: nothing handles those (commands, outbound
                # hooks and reactions ignore the bridge's users; state events are kept), and
                # queueing each would cost three writes per delivered message.
                continue
            if isinstance(event_id, str) and isinstance(room_id, str):
                jobs.append(NewJob(id=event_id, partition=room_id, payload=event))
        if self._on_events is not None:
            self._on_events(len(jobs))
        if jobs:
            try:
                fresh = await self._queue.push(wire.TOPIC_MATRIX, jobs)
            except Exception:
                # Answered 503 by the app; the homeserver retries, after a back-off.
                if self._on_refused is not None:
                    self._on_refused()
                raise
            log.debug(
                "txn %s: %d events, %d new", request.path_params["txn_id"], len(jobs), sum(fresh)
            )
        return OK()

    async def user_query(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        user_id = request.path_params["user_id"]
        if not self._is_our_user(user_id):
            return _error(404, "M_NOT_FOUND", "Not a user of this bridge")
        await self._ensure_user(user_id)
        return OK()

    async def room_query(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        return _error(404, "M_NOT_FOUND", "This bridge provides no room aliases")

    async def ping(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        try:
            body = json.loads(await read_limited(request, 65536) or b"{}")
        except (ValueError, TooLarge):
            return _error(400, "M_NOT_JSON", "Ping body is not JSON")
        txn = body.get("transaction_id") if isinstance(body, dict) else None
        if self._on_ping is not None:
            self._on_ping(txn if isinstance(txn, str) else None)
        return OK()
