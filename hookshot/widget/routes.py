"""The widget API's HTTP routes (hookshot's src/Widgets/BridgeWidgetApi.ts and the
ProvisioningApi it extends), mounted at `/widgetapi` on listeners with the `widgets` resource.

    POST   /v1/exchange_openid                {matrixServer, openIdToken} -> {token, userId}
    GET    /v1/session                        -> {userId, type: "widget"}
    DELETE /v1/session | /v1/session/all      -> {ok: true}
    GET    /v1/config/sections                -> {general: true, github: bool, ...}
    GET    /v1/service/{service}/config       -> the service's public config
    GET    /v1/targets/{type}?filters         -> [target, ...] (from the backend)
    GET    /v1/{roomId}/connections           -> [item, ...]
    GET    /v1/{roomId}/connections/{service} -> {connections: [item, ...], canEdit}
    POST   /v1/{roomId}/connections/{type}    body = state -> item (+ warning)
    PUT|PATCH /v1/{roomId}/connections/{id}   body = partial state -> item
    DELETE /v1/{roomId}/connections/{id}      -> {ok: true}
    POST   /v1/{roomId}/connections/{id}/rotate  ours: a webhook's new URL -> item

Everything but exchange_openid needs `Authorization: Bearer <session token>`. Reading needs the
bot and the user joined to the room; changing needs the user at the level of state_default and
of the connection's event type (v12 creators are infinite), the bot at the event type's level,
and the user's `manageConnections` permission for the service. Errors are `{errcode, error}`.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from hookshot import wire
from hookshot.core.connections import Connection
from hookshot.core.http import TooLarge, read_limited
from hookshot.core.kinds import Kind
from hookshot.errors import (
    CommandError,
    HomeserverUnreachable,
    MatrixError,
    PermissionDenied,
    StateError,
)
from hookshot.matrix import power
from hookshot.ops.redaction import register_secret
from hookshot.services import registry
from hookshot.widget import details as shapes
from hookshot.widget.errors import ApiError, ErrCode, OpenIdError
from hookshot.widget.sessions import DEFAULT_LIFETIME_SECONDS, Session, SessionStore

log = logging.getLogger(__name__)

PREFIX = "/widgetapi"
DEFAULT_BODY_LIMIT = 100 * 1024  # express.json's default, which hookshot uses

JSONValue = Any


@dataclass(frozen=True)
class RoomPower:
    """A room's `m.room.power_levels` content (None: no such event) and its v12 creators."""

    levels: Mapping[str, Any] | None
    creators: frozenset[str] = frozenset()

    def level(self, user_id: str) -> float:
        return power.user_level(self.levels, user_id, creator_ids=self.creators)


@dataclass(frozen=True)
class Created:
    """A connection the backend created, and hookshot's optional `{header, message}` warning."""

    connection: Connection
    warning: Mapping[str, str] | None = None


class WidgetBackend(Protocol):
    """What the routes need from the bridge. Errors it raises are mapped as: ApiError as is,
    PermissionDenied -> 403 HS_FORBIDDEN_USER, CommandError/StateError -> 400 HS_BAD_VALUE,
    MatrixError 403 -> 403 HS_FORBIDDEN_BOT, other MatrixError/unreachable -> 502 HS_UNKNOWN."""

    @property
    def bot_user_id(self) -> str: ...

    def service_config(self, service: str) -> Mapping[str, Any] | None:
        """hookshot's public config of `service` ("generic", "github", ...); None when off."""
        ...

    async def public_config(self, service: str) -> Mapping[str, Any] | None:
        """`service_config` plus what has to be asked for (GitHub's `newInstallationUrl`)."""
        ...

    @property
    def extra_services(self) -> tuple[str, ...]:
        """Services beyond hookshot's (services/__init__.py) that are switched on."""
        ...

    def can_manage(self, user_id: str, service: str) -> bool:
        """`permissions`: may the user manageConnections for `service` ("webhooks", ...)?"""
        ...

    async def bot_joined(self, room_id: str) -> bool:
        """Whether the bot is joined (accepting a pending invite first, as hookshot does)."""
        ...

    async def is_joined(self, room_id: str, user_id: str) -> bool: ...

    async def room_power(self, room_id: str) -> RoomPower: ...

    def connections(self, room_id: str) -> Sequence[Connection]:
        """The room's live connections, highest priority first (ConnectionStore.in_room)."""
        ...

    def hook_url(self, hook_id: str) -> str: ...

    async def create(
        self, room_id: str, user_id: str, event_type: str, body: Mapping[str, Any]
    ) -> Created:
        """Validate `body` as new state of `event_type` (canonical) and write it."""
        ...

    async def update(
        self, room_id: str, user_id: str, connection: Connection, content: Mapping[str, Any]
    ) -> Connection:
        """Validate `content` (the full new state) and write it; return the new connection."""
        ...

    async def remove(self, room_id: str, user_id: str, connection: Connection) -> None: ...

    async def rotate(self, room_id: str, user_id: str, connection: Connection) -> Connection:
        """Ours: give a webhook a new hookId (the old URL stops working); the new connection."""
        ...

    async def delivery_log(self, connection: Connection) -> Sequence[JSONValue] | None:
        """Ours: recent deliveries of a webhook, newest first; None for other kinds."""
        ...

    async def targets(
        self, user_id: str, event_type: str, filters: Mapping[str, str]
    ) -> Sequence[JSONValue] | None:
        """Possible targets for a new connection (e.g. the user's repos); None: unsupported."""
        ...


class TokenVerifier(Protocol):
    async def verify(self, server_name: str, token: str) -> str: ...


Handler = Callable[[Request, Session], Awaitable[JSONValue]]


class WidgetApi:
    """The `/widgetapi` routes over a backend, an OpenID verifier and a session store."""

    def __init__(
        self,
        *,
        backend: WidgetBackend,
        verifier: TokenVerifier,
        sessions: SessionStore,
        session_lifetime_seconds: float = DEFAULT_LIFETIME_SECONDS,
        body_limit: int = DEFAULT_BODY_LIMIT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._backend = backend
        self._verifier = verifier
        self._sessions = sessions
        self._lifetime = session_lifetime_seconds
        self._body_limit = body_limit
        self._clock = clock
        self.app: ASGIApp = Starlette(
            routes=self._routes(),
            middleware=[
                # Bearer tokens, not cookies: any origin may host the widget.
                Middleware(
                    CORSMiddleware,
                    allow_origins=["*"],
                    allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                    allow_headers=["Authorization", "Content-Type"],
                )
            ],
            exception_handlers={404: _not_found, 405: _not_allowed},
        )

    def routes(self) -> list[BaseRoute]:
        """One mount at /widgetapi, for the listener's route list."""
        return [Mount(PREFIX, app=self.app)]

    def _routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/exchange_openid", self._open(self._exchange), methods=["POST"]),
            Route("/v1/session", self._authed(self._session), methods=["GET", "DELETE"]),
            Route("/v1/session/all", self._authed(self._logout_all), methods=["DELETE"]),
            Route("/v1/config/sections", self._authed(self._sections), methods=["GET"]),
            Route(
                "/v1/service/{service}/config", self._authed(self._service_config), methods=["GET"]
            ),
            Route("/v1/targets/{type}", self._authed(self._targets), methods=["GET"]),
            Route("/v1/{roomId}/connections", self._authed(self._list_all), methods=["GET"]),
            Route(
                "/v1/{roomId}/connections/{key}",
                self._authed(self._connection),
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
            # Ours: a webhook's delivery log, for whoever may edit the hook.
            Route("/v1/{roomId}/connections/{key}/log", self._authed(self._log), methods=["GET"]),
            Route(
                "/v1/{roomId}/connections/{key}/rotate",
                self._authed(self._rotate),
                methods=["POST"],
            ),
        ]

    # --- boundaries ---------------------------------------------------------------------------

    def _open(
        self, handler: Callable[[Request], Awaitable[JSONValue]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await _answer(request, handler(request))

        return endpoint

    def _authed(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            async def run() -> JSONValue:
                return await handler(request, await self._authenticate(request))

            return await _answer(request, run())

        return endpoint

    async def _authenticate(self, request: Request) -> Session:
        header = request.headers.get("authorization")
        if not header:
            raise ApiError("No Authorization header", ErrCode.AS_BAD_TOKEN)
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError("Authorization must be a Bearer token", ErrCode.AS_BAD_TOKEN)
        session = await self._sessions.get(token)
        if session is None:
            raise ApiError("Token not found", ErrCode.AS_BAD_TOKEN)
        register_secret(token)  # a session another process issued (sessions in Redis)
        if session.expired(self._clock()):
            await self._sessions.delete(token)
            raise ApiError("Token expired", ErrCode.AS_BAD_TOKEN)
        return session

    async def _json_object(self, request: Request, bad_value: ErrCode) -> dict[str, Any]:
        try:
            raw = await read_limited(request, self._body_limit)
        except TooLarge:
            raise ApiError("Request body is too large", bad_value, 413) from None
        if not raw.strip():
            return {}  # express.json leaves an empty body as {}
        try:
            body = json.loads(raw, parse_constant=_refuse_constant)
        except ValueError:
            raise ApiError("Request body is not valid JSON", bad_value) from None
        if not isinstance(body, dict):
            raise ApiError("A JSON body must be provided", bad_value)
        return body

    # --- session ------------------------------------------------------------------------------

    async def _exchange(self, request: Request) -> JSONValue:
        body = await self._json_object(request, ErrCode.AS_BAD_VALUE)
        server = body.get("matrixServer")
        token = body.get("openIdToken")
        if not isinstance(server, str) or not server:
            raise ApiError("Missing/invalid matrixServer in body", ErrCode.AS_BAD_VALUE)
        if not isinstance(token, str) or not token:
            raise ApiError("Missing/invalid openIdToken in body", ErrCode.AS_BAD_VALUE)
        register_secret(token)
        try:
            user_id = await self._verifier.verify(server, token)
        except OpenIdError as err:
            log.info("widget: OpenID exchange for %s refused: %s", server, err.message)
            raise ApiError(err.message, ErrCode.AS_BAD_OPENID, err.status) from None
        session = await self._sessions.create(user_id, self._lifetime)
        register_secret(session.token)
        return {"token": session.token, "userId": user_id}

    async def _session(self, request: Request, session: Session) -> JSONValue:
        if request.method == "DELETE":
            await self._sessions.delete(session.token)
            return {"ok": True}
        return {"userId": session.user_id, "type": "widget"}

    async def _logout_all(self, _: Request, session: Session) -> JSONValue:
        await self._sessions.delete_all(session.user_id)
        return {"ok": True}

    # --- config -------------------------------------------------------------------------------

    async def _sections(self, _: Request, __: Session) -> JSONValue:
        names = (*shapes.CONFIG_SECTIONS, *self._backend.extra_services)
        sections = {name: self._backend.service_config(name) is not None for name in names}
        return {"general": True, **sections}

    async def _service_config(self, request: Request, _: Session) -> JSONValue:
        service = request.path_params["service"]
        if service not in shapes.KNOWN_SERVICES and service not in self._backend.extra_services:
            raise ApiError(
                "Not a known service, or service doesn't expose a config", ErrCode.NOT_FOUND
            )
        config = await self._backend.public_config(service)
        if config is None:
            raise ApiError("Service is not enabled", ErrCode.DISABLED_FEATURE)
        return dict(config)

    async def _targets(self, request: Request, session: Session) -> JSONValue:
        event_type = request.path_params["type"]
        unknown = "Connection type doesn't support getting targets or is not known"
        found = shapes.kind_info(event_type)
        if found is None:
            raise ApiError(unknown, ErrCode.NOT_FOUND)
        kind, info = found
        if self._backend.service_config(info.service) is None:
            raise ApiError(f"{info.service} is not configured", ErrCode.DISABLED_FEATURE)
        if not self._backend.can_manage(session.user_id, kind.service):
            raise ApiError(
                f"User is not permitted to provision connections for {info.service}",
                ErrCode.FORBIDDEN_USER,
            )
        filters = dict(request.query_params)
        result = await self._backend.targets(session.user_id, info.event_type, filters)
        if result is None:
            raise ApiError(unknown, ErrCode.NOT_FOUND)
        return list(result)

    # --- connections --------------------------------------------------------------------------

    async def _list_all(self, request: Request, session: Session) -> JSONValue:
        listed = await self._listing(request.path_params["roomId"], session.user_id, None)
        return listed["connections"]

    async def _connection(self, request: Request, session: Session) -> JSONValue:
        room_id = request.path_params["roomId"]
        key = request.path_params["key"]
        if request.method == "GET":
            return await self._listing(room_id, session.user_id, key)
        if request.method == "POST":
            return await self._create(request, room_id, session.user_id, key)
        if request.method in ("PUT", "PATCH"):
            return await self._update(request, room_id, session.user_id, key)
        return await self._remove(room_id, session.user_id, key)

    async def _log(self, request: Request, session: Session) -> JSONValue:
        room_id = request.path_params["roomId"]
        room = await self._room_access(room_id, session.user_id)
        connection = self._find(room_id, request.path_params["key"])
        if not self._can_edit(room, session.user_id, connection.event_type):
            raise ApiError("You may not see this connection's log.", ErrCode.FORBIDDEN_USER)
        entries = await self._backend.delivery_log(connection)
        if entries is None:
            raise ApiError("This connection keeps no delivery log.", ErrCode.NOT_FOUND)
        return {"deliveries": list(entries)}

    async def _rotate(self, request: Request, session: Session) -> JSONValue:
        room_id = request.path_params["roomId"]
        room = await self._room_access(room_id, session.user_id)
        connection = self._find(room_id, request.path_params["key"])
        kind, _ = _known(connection)
        if connection.address is None:
            raise ApiError("Only webhooks have a URL to rotate", ErrCode.UNSUPPORTED_OPERATION)
        self._require_write(room, session.user_id, connection.event_type)
        self._require_manage(session.user_id, kind.service)
        rotated = await self._backend.rotate(room_id, session.user_id, connection)
        item = self._item(rotated, secrets=True)
        if item is None:
            raise ApiError("The connection cannot be shown", ErrCode.UNKNOWN)
        return item

    async def _room_access(self, room_id: str, user_id: str) -> RoomPower:
        """The room's power levels, once the bot and the user are known to be joined."""
        if not await self._backend.bot_joined(room_id):
            raise ApiError("Bot is not joined to the room.", ErrCode.NOT_IN_ROOM)
        if not await self._backend.is_joined(room_id, user_id):
            raise ApiError("User is not joined to the room.", ErrCode.NOT_IN_ROOM)
        return await self._backend.room_power(room_id)

    def _can_edit(self, room: RoomPower, user_id: str, event_type: str) -> bool:
        needed = max(power.state_level(room.levels, ""), power.state_level(room.levels, event_type))
        return room.level(user_id) >= needed

    def _require_write(self, room: RoomPower, user_id: str, event_type: str) -> None:
        bot = self._backend.bot_user_id
        bot_needs = power.state_level(room.levels, event_type)
        if room.level(bot) < bot_needs:
            raise ApiError(
                f"Bot has a PL of {_pl(room.level(bot))} but needs at least {bot_needs}.",
                ErrCode.FORBIDDEN_BOT,
            )
        if not self._can_edit(room, user_id, event_type):
            needs = max(
                power.state_level(room.levels, ""), power.state_level(room.levels, event_type)
            )
            raise ApiError(
                f"User has a PL of {_pl(room.level(user_id))} but needs at least {needs}.",
                ErrCode.FORBIDDEN_USER,
            )

    def _require_manage(self, user_id: str, permission_service: str) -> None:
        if not self._backend.can_manage(user_id, permission_service):
            raise ApiError(
                "User is not permitted to provision connections for this type of service.",
                ErrCode.FORBIDDEN_USER,
            )

    def _item(self, connection: Connection, *, secrets: bool) -> dict[str, Any] | None:
        return shapes.details(
            connection,
            bot_user_id=self._backend.bot_user_id,
            hook_url=self._backend.hook_url,
            show_secrets=secrets,
            now=datetime.fromtimestamp(self._clock(), UTC),
        )

    async def _listing(self, room_id: str, user_id: str, service: str | None) -> dict[str, Any]:
        room = await self._room_access(room_id, user_id)
        bot_sends = room.level(self._backend.bot_user_id) >= power.event_level(
            room.levels, wire.M_ROOM_MESSAGE
        )
        items: list[dict[str, Any]] = []
        for connection in self._backend.connections(room_id):
            item = self._item(connection, secrets=True)
            found = shapes.kind_info(connection.event_type)
            if item is None or found is None or (service and item["service"] != service):
                continue
            can_edit = self._can_edit(
                room, user_id, connection.event_type
            ) and self._backend.can_manage(user_id, found[0].service)
            item["canEdit"] = can_edit
            item["canSendMessages"] = bot_sends
            if not can_edit:
                item.pop("secrets", None)  # the webhook URL is a credential
            items.append(item)
        can_edit_room = room.level(user_id) >= power.state_level(room.levels, "")
        permission = _permission_service(service) if service else None
        if permission is not None:
            can_edit_room = can_edit_room and self._backend.can_manage(user_id, permission)
        return {"connections": items, "canEdit": can_edit_room}

    def _find(self, room_id: str, connection_id: str) -> Connection:
        for connection in self._backend.connections(room_id):
            if shapes.id_of(connection) == connection_id:
                return connection
        raise ApiError("Connection does not exist", ErrCode.NOT_FOUND)

    def _check_prefix(
        self, room_id: str, body: Mapping[str, Any], current: Connection | None
    ) -> None:
        """hookshot's validateCommandPrefix: one command prefix per room."""
        prefix = body.get("commandPrefix")
        if not isinstance(prefix, str):
            return
        for other in self._backend.connections(room_id):
            if other is current or getattr(other, "command_prefix", None) != prefix:
                continue
            raise ApiError(
                f'Command prefix "{prefix}" is already used in this room. '
                "Please choose another prefix.",
                ErrCode.CONFLICTING_CONNECTION,
                extra={"existingConnection": self._item(other, secrets=False)},
            )

    async def _create(
        self, request: Request, room_id: str, user_id: str, event_type: str
    ) -> JSONValue:
        body = await self._json_object(request, ErrCode.BAD_VALUE)
        found = shapes.kind_info(event_type)
        if found is None:
            raise ApiError("Unknown event type", ErrCode.NOT_FOUND)
        kind, info = found
        if self._backend.service_config(info.service) is None:
            raise ApiError(f"{info.service} is not enabled", ErrCode.DISABLED_FEATURE)
        room = await self._room_access(room_id, user_id)
        self._require_write(room, user_id, info.event_type)
        self._require_manage(user_id, kind.service)
        self._check_prefix(room_id, body, None)
        created = await self._backend.create(room_id, user_id, info.event_type, body)
        item = self._item(created.connection, secrets=True)
        if item is None:
            raise ApiError("The new connection cannot be shown", ErrCode.UNKNOWN)
        if created.warning:
            item["warning"] = dict(created.warning)
        return item

    async def _update(
        self, request: Request, room_id: str, user_id: str, connection_id: str
    ) -> JSONValue:
        body = await self._json_object(request, ErrCode.BAD_VALUE)
        room = await self._room_access(room_id, user_id)
        connection = self._find(room_id, connection_id)
        kind, info = _known(connection)
        self._require_write(room, user_id, connection.event_type)
        self._require_manage(user_id, kind.service)
        current = shapes.current_content(connection)
        if current is None:
            raise ApiError(
                "Connection type does not support updates", ErrCode.UNSUPPORTED_OPERATION
            )
        for key in info.identity:
            if key in body and body[key] != current.get(key):
                raise ApiError(f"'{key}' cannot be changed", ErrCode.BAD_VALUE)
        # As hookshot: the body is laid over the current state; null unsets a key.
        merged = {**current, **{k: v for k, v in body.items() if k != "hookId"}}
        content = {k: v for k, v in merged.items() if v is not None}
        self._check_prefix(room_id, body, connection)
        updated = await self._backend.update(room_id, user_id, connection, content)
        item = self._item(updated, secrets=True)
        if item is None:
            raise ApiError("The connection cannot be shown", ErrCode.UNKNOWN)
        return item

    async def _remove(self, room_id: str, user_id: str, connection_id: str) -> JSONValue:
        room = await self._room_access(room_id, user_id)
        connection = self._find(room_id, connection_id)
        kind, _ = _known(connection)
        self._require_write(room, user_id, connection.event_type)
        self._require_manage(user_id, kind.service)
        await self._backend.remove(room_id, user_id, connection)
        return {"ok": True}


def _known(connection: Connection) -> tuple[Kind, shapes.KindInfo]:
    found = shapes.kind_info(connection.event_type)
    if found is None:
        raise ApiError("Connection type does not support this", ErrCode.UNSUPPORTED_OPERATION)
    return found


def _permission_service(service: str) -> str | None:
    """The `permissions` service guarding hookshot's service category ("generic" -> "webhooks")."""
    for kind in registry.KINDS:
        info = shapes.KINDS.get(kind.name)
        if info is not None and info.service == service:
            return kind.service
    return None


def _pl(level: float) -> str:
    return "infinite" if math.isinf(level) else str(int(level))


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


async def _answer(request: Request, work: Awaitable[JSONValue]) -> Response:
    """Run one request; every failure becomes `{errcode, error}` (one request, one boundary)."""
    try:
        return JSONResponse(await work)
    except ApiError as err:
        return _error(request, err)
    except PermissionDenied as err:
        return _error(request, ApiError(str(err), ErrCode.FORBIDDEN_USER))
    except (CommandError, StateError) as err:
        return _error(request, ApiError(str(err), ErrCode.BAD_VALUE))
    except MatrixError as err:
        if err.status == 403:
            failure = ApiError(f"The homeserver refused: {err.message}", ErrCode.FORBIDDEN_BOT)
        else:
            failure = ApiError("The homeserver failed the request", ErrCode.UNKNOWN, 502)
        log.warning("widget: %s %s: %s", request.method, request.url.path, err)
        return _error(request, failure)
    except (HomeserverUnreachable, httpx.HTTPError) as err:
        log.warning("widget: %s %s: %s", request.method, request.url.path, err)
        return _error(request, ApiError("The homeserver could not be reached", status=502))
    except Exception:
        log.exception("widget: %s %s failed", request.method, request.url.path)
        return _error(request, ApiError("An internal error occurred"))


def _error(request: Request, err: ApiError) -> Response:
    log.log(
        logging.WARNING if err.status >= 500 else logging.DEBUG,
        "widget: %s %s -> %d %s %s",
        request.method,
        request.url.path,
        err.status,
        err.errcode,
        err.message,
    )
    return JSONResponse(err.body(), status_code=err.status)


async def _not_found(_: Request, __: Exception) -> Response:
    return JSONResponse({"errcode": ErrCode.NOT_FOUND, "error": "Not found"}, status_code=404)


async def _not_allowed(_: Request, __: Exception) -> Response:
    return JSONResponse(
        {"errcode": ErrCode.METHOD_NOT_ALLOWED, "error": "Method not allowed"}, status_code=405
    )
