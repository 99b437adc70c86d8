"""The widget API: routes over an in-memory backend, and the OpenID verifier against a real
userinfo server on loopback (plain HTTP via an override, and TLS with the address pinned)."""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from support import tls

from hookshot import wire
from hookshot.core.connections import Connection
from hookshot.errors import CommandError, MatrixError, PermissionDenied, StateError
from hookshot.services.generic import hook as generic_hook
from hookshot.services.github import repo as github_repo
from hookshot.widget import details as shapes
from hookshot.widget.details import connection_id
from hookshot.widget.errors import OpenIdError
from hookshot.widget.openid import (
    DEFAULT_DISALLOWED_IP_RANGES,
    OpenIdVerifier,
    is_disallowed,
    parse_networks,
)
from hookshot.widget.routes import Created, RoomPower, WidgetApi
from hookshot.widget.sessions import MemorySessionStore
from hookshot.widget.settings import parse_widget_settings

BOT = "@hookshot:example.org"
ADMIN = "@admin:example.org"
MOD = "@mod:example.org"
PLEB = "@pleb:example.org"
OUTSIDER = "@outsider:example.org"
ROOM = "!room:example.org"
HOOK_URL = "https://hooks.example.org/webhook/"
GENERIC = wire.GENERIC_HOOK
LEVELS = {"users": {ADMIN: 100, MOD: 50, BOT: 100}, "users_default": 0, "state_default": 50}


class FakeVerifier:
    """OpenID tokens a test hands out: token -> user id."""

    def __init__(self) -> None:
        self.users: dict[str, str] = {}

    async def verify(self, server_name: str, token: str) -> str:
        user = self.users.get(token)
        if user is None or not user.endswith(":" + server_name):
            raise OpenIdError(401, "Failed to exchange token")
        return user


class FakeBackend:
    """The bridge as the routes see it, in memory."""

    async def delivery_log(self, connection: Connection) -> list[Any] | None:
        return None

    bot_user_id = BOT

    def __init__(self) -> None:
        self.bot_rooms: set[str] = {ROOM}
        self.members: dict[str, set[str]] = {ROOM: {BOT, ADMIN, MOD, PLEB}}
        self.power: dict[str, RoomPower] = {ROOM: RoomPower(LEVELS)}
        self.conns: dict[str, list[Connection]] = {ROOM: []}
        self.services: dict[str, dict[str, Any]] = {
            "generic": {"allowJsTransformationFunctions": False, "requireExpiryTime": False},
            "github": {"userIdPrefix": "_github_"},
        }
        self.not_managers: set[str] = set()
        self.calls: list[tuple[str, ...]] = []
        self.fail_with: Exception | None = None  # raised by create

    def service_config(self, service: str) -> Mapping[str, Any] | None:
        return self.services.get(service)

    async def public_config(self, service: str) -> Mapping[str, Any] | None:
        return self.service_config(service)

    @property
    def extra_services(self) -> tuple[str, ...]:
        return tuple(name for name in self.services if name == "forgejo")

    def can_manage(self, user_id: str, service: str) -> bool:
        return user_id not in self.not_managers

    async def bot_joined(self, room_id: str) -> bool:
        return room_id in self.bot_rooms

    async def is_joined(self, room_id: str, user_id: str) -> bool:
        return user_id in self.members.get(room_id, set())

    async def room_power(self, room_id: str) -> RoomPower:
        return self.power[room_id]

    def connections(self, room_id: str) -> Sequence[Connection]:
        return list(self.conns.get(room_id, []))

    def hook_url(self, hook_id: str) -> str:
        return HOOK_URL + hook_id

    def _build(
        self, room_id: str, event_type: str, state_key: str, content: Mapping[str, Any], hook: str
    ) -> Connection:
        if event_type in wire.GENERIC_HOOK_TYPES:
            return generic_hook.from_state(room_id, event_type, state_key, content, hook)
        return github_repo.from_state(room_id, event_type, state_key, content)

    async def create(
        self, room_id: str, user_id: str, event_type: str, body: Mapping[str, Any]
    ) -> Created:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append(("create", room_id, user_id, event_type))
        if event_type == GENERIC:
            state = generic_hook.parse_state(body)
            conn = self._build(room_id, event_type, state.name, body, str(uuid.uuid4()))
            self.conns[room_id].append(conn)
            return Created(conn)
        state_key = f"{body.get('org')}/{body.get('repo')}"
        conn = self._build(room_id, event_type, state_key, body, "")
        self.conns[room_id].append(conn)
        return Created(conn, {"header": "Heads up", "message": "No webhook was created."})

    async def update(
        self, room_id: str, user_id: str, connection: Connection, content: Mapping[str, Any]
    ) -> Connection:
        self.calls.append(("update", room_id, user_id, connection.state_key))
        hook = getattr(connection, "hook_id", "")
        new = self._build(room_id, connection.event_type, connection.state_key, content, hook)
        self.conns[room_id] = [new if c is connection else c for c in self.conns[room_id]]
        return new

    async def remove(self, room_id: str, user_id: str, connection: Connection) -> None:
        self.calls.append(("remove", room_id, user_id, connection.state_key))
        self.conns[room_id] = [c for c in self.conns[room_id] if c is not connection]

    async def rotate(self, room_id: str, user_id: str, connection: Connection) -> Connection:
        self.calls.append(("rotate", room_id, user_id, connection.state_key))
        content = shapes.current_content(connection) or {}
        new = self._build(room_id, connection.event_type, connection.state_key, content, "rotated")
        self.conns[room_id] = [new if c is connection else c for c in self.conns[room_id]]
        return new

    async def targets(
        self, user_id: str, event_type: str, filters: Mapping[str, str]
    ) -> Sequence[Any] | None:
        if event_type == wire.GITHUB_REPO:
            return [{"name": "acme/widgets", "filters": dict(filters)}]
        return None


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    def __init__(self) -> None:
        self.backend = FakeBackend()
        self.verifier = FakeVerifier()
        self.clock = Clock()
        self.sessions = MemorySessionStore(clock=self.clock)
        self.api = WidgetApi(
            backend=self.backend,
            verifier=self.verifier,
            sessions=self.sessions,
            body_limit=4096,
            clock=self.clock,
        )
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=Starlette(routes=self.api.routes())),
            base_url="http://widgets.test",
        )

    async def login(self, user_id: str) -> dict[str, str]:
        """Authorization headers for `user_id`, via the real exchange route."""
        token = f"openid-{user_id}"
        self.verifier.users[token] = user_id
        resp = await self.http.post(
            "/widgetapi/v1/exchange_openid",
            json={"matrixServer": user_id.split(":", 1)[1], "openIdToken": token},
        )
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['token']}"}

    def add_hook(self, name: str, event_type: str = GENERIC, **content: Any) -> Connection:
        conn = generic_hook.from_state(
            ROOM, event_type, name, {"name": name, **content}, f"hook-{name}"
        )
        self.backend.conns[ROOM].append(conn)
        return conn


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    harness = Harness()
    yield harness
    await harness.http.aclose()


def conns_url(suffix: str = "") -> str:
    return f"/widgetapi/v1/{ROOM}/connections{suffix}"


def hook_id_of(name: str, room: str = ROOM) -> str:
    return hashlib.md5(f"{room}/{GENERIC}/{name}".encode()).hexdigest()


def assert_error(resp: httpx.Response, status: int, errcode: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert body["errcode"] == errcode
    assert isinstance(body["error"], str) and body["error"]
    return body


# --- sessions --------------------------------------------------------------------------------


async def test_exchange_then_session(h: Harness) -> None:
    h.verifier.users["tok"] = ADMIN
    resp = await h.http.post(
        "/widgetapi/v1/exchange_openid", json={"matrixServer": "example.org", "openIdToken": "tok"}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["userId"] == ADMIN
    assert body["token"].startswith("hookshot_") and len(body["token"]) == 41
    auth = {"Authorization": f"Bearer {body['token']}"}
    resp = await h.http.get("/widgetapi/v1/session", headers=auth)
    assert resp.json() == {"userId": ADMIN, "type": "widget"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"openIdToken": "x"}', 400),
        (b'{"matrixServer": "example.org"}', 400),
        (b'{"matrixServer": 5, "openIdToken": "x"}', 400),
        (b"{not json", 400),
        (b'["example.org", "x"]', 400),
        (b'{"matrixServer": NaN, "openIdToken": "x"}', 400),
        (b'{"matrixServer": "' + b"a" * 5000 + b'", "openIdToken": "x"}', 413),
    ],
)
async def test_exchange_bad_bodies(h: Harness, body: bytes, status: int) -> None:
    resp = await h.http.post("/widgetapi/v1/exchange_openid", content=body)
    assert_error(resp, status, "M_AS_BAD_VALUE")


async def test_exchange_refused_by_homeserver(h: Harness) -> None:
    resp = await h.http.post(
        "/widgetapi/v1/exchange_openid",
        json={"matrixServer": "example.org", "openIdToken": "forged"},
    )
    assert_error(resp, 401, "M_AS_BAD_OPENID")
    assert len(h.sessions) == 0


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "No Authorization header"),
        ({"Authorization": "Bearer hookshot_00000000000000000000000000000000"}, "Token not found"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Authorization must be a Bearer token"),
        ({"Authorization": "Bearer "}, "Authorization must be a Bearer token"),
    ],
)
async def test_auth_refused(h: Harness, headers: dict[str, str], message: str) -> None:
    for method, path in [
        ("GET", "/widgetapi/v1/session"),
        ("GET", "/widgetapi/v1/config/sections"),
        ("GET", conns_url()),
        ("POST", conns_url(f"/{GENERIC}")),
        ("DELETE", conns_url("/abc")),
    ]:
        resp = await h.http.request(method, path, headers=headers)
        assert assert_error(resp, 401, "M_AS_BAD_TOKEN")["error"] == message


async def test_expired_session_is_refused_and_forgotten(h: Harness) -> None:
    auth = await h.login(ADMIN)
    h.clock.now += 24 * 3600 - 1
    assert (await h.http.get("/widgetapi/v1/session", headers=auth)).status_code == 200
    h.clock.now += 1
    resp = await h.http.get("/widgetapi/v1/session", headers=auth)
    assert assert_error(resp, 401, "M_AS_BAD_TOKEN")["error"] == "Token expired"
    assert len(h.sessions) == 0


async def test_logout_and_logout_everywhere(h: Harness) -> None:
    first, second, other = await h.login(ADMIN), await h.login(ADMIN), await h.login(MOD)
    resp = await h.http.delete("/widgetapi/v1/session", headers=first)
    assert resp.json() == {"ok": True}
    assert (await h.http.get("/widgetapi/v1/session", headers=first)).status_code == 401
    assert (await h.http.get("/widgetapi/v1/session", headers=second)).status_code == 200
    resp = await h.http.delete("/widgetapi/v1/session/all", headers=second)
    assert resp.json() == {"ok": True}
    assert (await h.http.get("/widgetapi/v1/session", headers=second)).status_code == 401
    assert (await h.http.get("/widgetapi/v1/session", headers=other)).status_code == 200


# --- config ----------------------------------------------------------------------------------


async def test_config_sections_and_service_config(h: Harness) -> None:
    auth = await h.login(PLEB)
    resp = await h.http.get("/widgetapi/v1/config/sections", headers=auth)
    assert resp.json() == {
        "general": True,
        "github": True,
        "gitlab": False,
        "generic": True,
        "genericOutbound": False,
        "jira": False,
        "figma": False,
        "feeds": False,
        "openproject": False,
    }
    resp = await h.http.get("/widgetapi/v1/service/github/config", headers=auth)
    assert resp.json() == {"userIdPrefix": "_github_"}
    resp = await h.http.get("/widgetapi/v1/service/gitlab/config", headers=auth)
    assert_error(resp, 404, "HS_DISABLED_FEATURE")
    resp = await h.http.get("/widgetapi/v1/service/nonsense/config", headers=auth)
    assert_error(resp, 404, "HS_NOTFOUND")


async def test_services_beyond_hookshots_have_sections_and_config(h: Harness) -> None:
    h.backend.services["forgejo"] = {"instances": {"codeberg": "https://codeberg.org"}}
    auth = await h.login(PLEB)
    resp = await h.http.get("/widgetapi/v1/config/sections", headers=auth)
    assert resp.json()["forgejo"] is True and resp.json()["github"] is True
    resp = await h.http.get("/widgetapi/v1/service/forgejo/config", headers=auth)
    assert resp.json() == {"instances": {"codeberg": "https://codeberg.org"}}


async def test_unknown_routes_and_methods_answer_json(h: Harness) -> None:
    auth = await h.login(ADMIN)
    assert_error(await h.http.get("/widgetapi/v2/whatever", headers=auth), 404, "HS_NOTFOUND")
    resp = await h.http.post("/widgetapi/v1/config/sections", headers=auth)
    assert_error(resp, 405, "HS_METHOD_NOT_ALLOWED")


async def test_cors_preflight(h: Harness) -> None:
    resp = await h.http.options(
        conns_url(),
        headers={
            "Origin": "https://element.example",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "PUT" in resp.headers["access-control-allow-methods"]


# --- listing ---------------------------------------------------------------------------------


async def test_members_only(h: Harness) -> None:
    h.add_hook("alerts")
    auth = await h.login(OUTSIDER)
    resp = await h.http.get(conns_url(), headers=auth)
    assert assert_error(resp, 403, "HS_NOT_IN_ROOM")["error"] == "User is not joined to the room."
    h.backend.bot_rooms.clear()
    resp = await h.http.get(conns_url(), headers=await h.login(ADMIN))
    assert assert_error(resp, 403, "HS_NOT_IN_ROOM")["error"] == "Bot is not joined to the room."


async def test_listing_shapes_and_secret_visibility(h: Harness) -> None:
    h.add_hook("alerts", expirationDate="2023-11-15T00:00:00.000Z")
    resp = await h.http.get(conns_url(), headers=await h.login(ADMIN))
    assert resp.status_code == 200
    expected = {
        "service": "generic",
        "eventType": GENERIC,
        "type": "Webhook",
        "botUserId": BOT,
        "id": hook_id_of("alerts"),
        "config": {
            "name": "alerts",
            "waitForComplete": False,
            "expirationDate": "2023-11-15T00:00:00.000Z",
        },
        "secrets": {
            "url": HOOK_URL + "hook-alerts",
            "hookId": "hook-alerts",
            # 2023-11-15T00:00Z minus the clock (2023-11-14T22:13:20Z)
            "timeRemainingMs": 6_400_000,
        },
        "canEdit": True,
        "canSendMessages": True,
    }
    assert resp.json() == [expected]

    # Below state_default: sees the connection, not its URL.
    resp = await h.http.get(conns_url(), headers=await h.login(PLEB))
    (item,) = resp.json()
    assert item["canEdit"] is False and "secrets" not in item
    assert item["config"] == expected["config"]

    # Enough power but no manageConnections permission: not editable either.
    h.backend.not_managers.add(MOD)
    resp = await h.http.get(conns_url(), headers=await h.login(MOD))
    assert resp.json()[0]["canEdit"] is False and "secrets" not in resp.json()[0]


async def test_listing_by_service(h: Harness) -> None:
    h.add_hook("alerts")
    gh = github_repo.from_state(
        ROOM, wire.GITHUB_REPO, "acme/widgets", {"org": "acme", "repo": "widgets"}
    )
    h.backend.conns[ROOM].append(gh)
    auth = await h.login(MOD)
    resp = await h.http.get(conns_url("/github"), headers=auth)
    body = resp.json()
    assert body["canEdit"] is True
    assert [c["type"] for c in body["connections"]] == ["GithubRepo"]
    assert body["connections"][0]["config"]["org"] == "acme"
    assert body["connections"][0]["id"] == connection_id(ROOM, wire.GITHUB_REPO, "acme/widgets")
    resp = await h.http.get(conns_url("/generic"), headers=await h.login(PLEB))
    assert resp.json()["canEdit"] is False
    assert [c["config"]["name"] for c in resp.json()["connections"]] == ["alerts"]
    resp = await h.http.get(conns_url("/jira"), headers=auth)
    assert resp.json() == {"connections": [], "canEdit": True}


async def test_v12_creator_has_infinite_power(h: Harness) -> None:
    creator = "@creator:example.org"
    h.backend.members[ROOM].add(creator)
    h.backend.power[ROOM] = RoomPower(
        {**LEVELS, "state_default": 100}, creators=frozenset({creator})
    )
    h.add_hook("alerts")
    resp = await h.http.get(conns_url(), headers=await h.login(creator))
    assert resp.json()[0]["canEdit"] is True
    resp = await h.http.post(
        conns_url(f"/{GENERIC}"), headers=await h.login(creator), json={"name": "second"}
    )
    assert resp.status_code == 200, resp.text


async def test_legacy_connection_ids_use_the_canonical_type(h: Harness) -> None:
    h.add_hook("old", event_type=wire.GENERIC_HOOK_LEGACY)
    resp = await h.http.get(conns_url(), headers=await h.login(ADMIN))
    assert resp.json()[0]["id"] == hook_id_of("old")
    assert resp.json()[0]["eventType"] == GENERIC


# --- create ----------------------------------------------------------------------------------


async def test_create_webhook(h: Harness) -> None:
    resp = await h.http.post(
        conns_url(f"/{GENERIC}"), headers=await h.login(MOD), json={"name": "deploys"}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    (conn,) = h.backend.conns[ROOM]
    hook_id = getattr(conn, "hook_id", None)
    assert body == {
        "service": "generic",
        "eventType": GENERIC,
        "type": "Webhook",
        "botUserId": BOT,
        "id": hook_id_of("deploys"),
        "config": {"name": "deploys", "waitForComplete": False},
        "secrets": {"url": HOOK_URL + str(hook_id), "hookId": hook_id},
    }
    assert h.backend.calls == [("create", ROOM, MOD, GENERIC)]


async def test_create_with_legacy_type_writes_canonical(h: Harness) -> None:
    resp = await h.http.post(
        conns_url(f"/{wire.GENERIC_HOOK_LEGACY}"), headers=await h.login(MOD), json={"name": "x12"}
    )
    assert resp.status_code == 200
    assert h.backend.calls == [("create", ROOM, MOD, GENERIC)]


async def test_create_github_repo_carries_warning(h: Harness) -> None:
    resp = await h.http.post(
        conns_url(f"/{wire.GITHUB_REPO}"),
        headers=await h.login(ADMIN),
        json={"org": "acme", "repo": "widgets"},
    )
    body = resp.json()
    assert body["type"] == "GithubRepo" and body["service"] == "github"
    assert body["config"]["org"] == "acme" and "secrets" not in body
    assert body["warning"] == {"header": "Heads up", "message": "No webhook was created."}


@pytest.mark.parametrize(
    ("user", "levels", "errcode"),
    [
        (PLEB, LEVELS, "HS_FORBIDDEN_USER"),
        (MOD, {**LEVELS, "events": {GENERIC: 75}}, "HS_FORBIDDEN_USER"),
        (ADMIN, {**LEVELS, "users": {ADMIN: 100, BOT: 0}}, "HS_FORBIDDEN_BOT"),
        (ADMIN, {**LEVELS, "events": {GENERIC: 101}}, "HS_FORBIDDEN_BOT"),
    ],
)
async def test_create_needs_power(
    h: Harness, user: str, levels: dict[str, Any], errcode: str
) -> None:
    h.backend.power[ROOM] = RoomPower(levels)
    resp = await h.http.post(
        conns_url(f"/{GENERIC}"), headers=await h.login(user), json={"name": "deploys"}
    )
    assert "PL of" in assert_error(resp, 403, errcode)["error"]
    assert h.backend.calls == []


async def test_create_needs_permission(h: Harness) -> None:
    h.backend.not_managers.add(ADMIN)
    resp = await h.http.post(
        conns_url(f"/{GENERIC}"), headers=await h.login(ADMIN), json={"name": "deploys"}
    )
    assert_error(resp, 403, "HS_FORBIDDEN_USER")
    assert h.backend.calls == []


@pytest.mark.parametrize(
    ("path", "body", "status", "errcode"),
    [
        (f"/{GENERIC}", b"{oops", 400, "HS_BAD_VALUE"),
        (f"/{GENERIC}", b'"a string"', 400, "HS_BAD_VALUE"),
        (f"/{GENERIC}", b"[1, 2]", 400, "HS_BAD_VALUE"),
        (f"/{GENERIC}", b'{"name": "' + b"x" * 5000 + b'"}', 413, "HS_BAD_VALUE"),
        (f"/{GENERIC}", b'{"name": "ab"}', 400, "HS_BAD_VALUE"),
        (f"/{GENERIC}", b"", 400, "HS_BAD_VALUE"),
        ("/uk.half-shot.matrix-hookshot.nonsense", b'{"name": "abc"}', 404, "HS_NOTFOUND"),
        (f"/{wire.GITLAB_REPO}", b'{"instance": "x", "path": "y"}', 404, "HS_DISABLED_FEATURE"),
    ],
)
async def test_create_refusals(
    h: Harness, path: str, body: bytes, status: int, errcode: str
) -> None:
    resp = await h.http.post(
        conns_url(path),
        headers={**await h.login(ADMIN), "Content-Type": "application/json"},
        content=body,
    )
    assert_error(resp, status, errcode)
    assert h.backend.conns[ROOM] == []


async def test_create_refuses_a_taken_command_prefix(h: Harness) -> None:
    existing = github_repo.from_state(
        ROOM, wire.GITHUB_REPO, "acme/a", {"org": "acme", "repo": "a", "commandPrefix": "!acme"}
    )
    h.backend.conns[ROOM].append(existing)
    resp = await h.http.post(
        conns_url(f"/{wire.GITHUB_REPO}"),
        headers=await h.login(ADMIN),
        json={"org": "acme", "repo": "b", "commandPrefix": "!acme"},
    )
    body = assert_error(resp, 409, "HS_CONFLICTING_CONNECTION")
    assert body["existingConnection"]["config"]["repo"] == "a"


# --- update and delete -----------------------------------------------------------------------


async def test_update_merges_onto_current_state(h: Harness) -> None:
    h.add_hook("alerts", waitForComplete=True, expirationDate="2030-01-01T00:00:00.000Z")
    auth = await h.login(MOD)
    resp = await h.http.put(
        conns_url(f"/{hook_id_of('alerts')}"),
        headers=auth,
        json={"name": "alerts", "waitForComplete": False, "hookId": "stolen"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["config"] == {
        "name": "alerts",
        "waitForComplete": False,
        "expirationDate": "2030-01-01T00:00:00.000Z",
    }
    assert body["secrets"]["hookId"] == "hook-alerts"
    # PATCH does the same; null unsets a key.
    resp = await h.http.patch(
        conns_url(f"/{hook_id_of('alerts')}"), headers=auth, json={"expirationDate": None}
    )
    assert resp.json()["config"] == {"name": "alerts", "waitForComplete": False}
    assert "timeRemainingMs" not in resp.json()["secrets"]


async def test_update_refusals(h: Harness) -> None:
    h.add_hook("alerts")
    url = conns_url(f"/{hook_id_of('alerts')}")
    resp = await h.http.put(url, headers=await h.login(ADMIN), json={"name": "renamed"})
    assert assert_error(resp, 400, "HS_BAD_VALUE")["error"] == "'name' cannot be changed"
    resp = await h.http.put(url, headers=await h.login(ADMIN), json={"waitForComplete": "yes"})
    assert_error(resp, 400, "HS_BAD_VALUE")
    resp = await h.http.put(url, headers=await h.login(PLEB), json={"waitForComplete": True})
    assert_error(resp, 403, "HS_FORBIDDEN_USER")
    resp = await h.http.put(url, headers=await h.login(OUTSIDER), json={})
    assert_error(resp, 403, "HS_NOT_IN_ROOM")
    resp = await h.http.put(conns_url("/0123abcd"), headers=await h.login(ADMIN), json={})
    assert_error(resp, 404, "HS_NOTFOUND")
    resp = await h.http.put(url, headers=await h.login(ADMIN), content=b"{]")
    assert_error(resp, 400, "HS_BAD_VALUE")
    # Only the well-formed edit reached the backend (which refused the bad value).
    assert h.backend.calls == [("update", ROOM, ADMIN, "alerts")]


async def test_update_github_thread_switches(h: Harness) -> None:
    """The widget's threads / CI reactions toggle: kept, validated, listed, and unset by null."""
    gh = github_repo.from_state(
        ROOM, wire.GITHUB_REPO, "acme/widgets", {"org": "acme", "repo": "widgets"}
    )
    h.backend.conns[ROOM].append(gh)
    auth = await h.login(MOD)
    url = conns_url(f"/{connection_id(ROOM, wire.GITHUB_REPO, 'acme/widgets')}")
    resp = await h.http.put(url, headers=auth, json={"threads": True, "ciReactions": True})
    assert resp.status_code == 200, resp.text
    config = resp.json()["config"]
    assert (config["threads"], config["ciReactions"]) == (True, True)
    assert config["enableHooks"] == list(github_repo.DEFAULT_HOOKS)  # untouched
    listed = (await h.http.get(conns_url("/github"), headers=auth)).json()["connections"]
    assert listed[0]["config"]["threads"] is True and listed[0]["config"]["ciReactions"] is True
    # A non-boolean is refused with the state parser's message; nothing changes.
    for key in ("threads", "ciReactions"):
        resp = await h.http.patch(url, headers=auth, json={key: "yes"})
        assert assert_error(resp, 400, "HS_BAD_VALUE")["error"] == f"'{key}' must be a boolean"
    # Other edits keep them (the body is laid over the current state) ...
    resp = await h.http.patch(url, headers=auth, json={"commandPrefix": "!acme"})
    assert resp.json()["config"]["threads"] is True
    # ... and off, as the widget sends it, is the key unset.
    resp = await h.http.put(url, headers=auth, json={"threads": None, "ciReactions": None})
    config = resp.json()["config"]
    assert "threads" not in config and "ciReactions" not in config
    assert config["commandPrefix"] == "!acme"
    resp = await h.http.patch(url, headers=auth, json={"threads": False})
    assert resp.json()["config"]["threads"] is False


async def test_delete(h: Harness) -> None:
    h.add_hook("alerts")
    url = conns_url(f"/{hook_id_of('alerts')}")
    resp = await h.http.delete(url, headers=await h.login(PLEB))
    assert_error(resp, 403, "HS_FORBIDDEN_USER")
    resp = await h.http.delete(url, headers=await h.login(MOD))
    assert resp.status_code == 200 and resp.json() == {"ok": True}
    assert h.backend.calls == [("remove", ROOM, MOD, "alerts")]
    resp = await h.http.delete(url, headers=await h.login(MOD))
    assert_error(resp, 404, "HS_NOTFOUND")


async def test_rotate(h: Harness) -> None:
    h.add_hook("alerts")
    url = conns_url(f"/{hook_id_of('alerts')}/rotate")
    resp = await h.http.post(url, headers=await h.login(PLEB))
    assert_error(resp, 403, "HS_FORBIDDEN_USER")
    resp = await h.http.post(url, headers=await h.login(OUTSIDER))
    assert_error(resp, 403, "HS_NOT_IN_ROOM")
    resp = await h.http.get(url, headers=await h.login(MOD))
    assert_error(resp, 405, "HS_METHOD_NOT_ALLOWED")
    resp = await h.http.post(url, headers=await h.login(MOD))
    assert resp.status_code == 200, resp.text
    assert resp.json()["secrets"] == {"url": HOOK_URL + "rotated", "hookId": "rotated"}
    assert h.backend.calls == [("rotate", ROOM, MOD, "alerts")]
    # Repositories have no URL to rotate.
    repo = github_repo.from_state(ROOM, wire.GITHUB_REPO, "a/b", {"org": "a", "repo": "b"})
    h.backend.conns[ROOM].append(repo)
    repo_url = conns_url(f"/{shapes.id_of(repo)}/rotate")
    resp = await h.http.post(repo_url, headers=await h.login(MOD))
    assert_error(resp, 400, "HS_UNSUPPORTED_OPERATION")


@pytest.mark.parametrize(
    ("failure", "status", "errcode"),
    [
        (RuntimeError("boom"), 500, "HS_UNKNOWN"),
        (StateError("'waitForComplete' must be a boolean"), 400, "HS_BAD_VALUE"),
        (CommandError('A webhook named "abc" already exists in this room.'), 400, "HS_BAD_VALUE"),
        (PermissionDenied("You are not permitted to provision"), 403, "HS_FORBIDDEN_USER"),
        (MatrixError(403, "M_FORBIDDEN", "no power"), 403, "HS_FORBIDDEN_BOT"),
        (MatrixError(500, "M_UNKNOWN", "oops"), 502, "HS_UNKNOWN"),
        (httpx.ConnectError("refused"), 502, "HS_UNKNOWN"),
    ],
)
async def test_backend_failures_are_json(
    h: Harness, failure: Exception, status: int, errcode: str
) -> None:
    h.backend.fail_with = failure
    resp = await h.http.post(
        conns_url(f"/{GENERIC}"), headers=await h.login(ADMIN), json={"name": "abc"}
    )
    body = assert_error(resp, status, errcode)
    if status < 500:
        shown = failure.message if isinstance(failure, MatrixError) else str(failure)
        assert shown in body["error"]


# --- targets ---------------------------------------------------------------------------------


async def test_targets(h: Harness) -> None:
    auth = await h.login(ADMIN)
    resp = await h.http.get(f"/widgetapi/v1/targets/{wire.GITHUB_REPO}?orgName=acme", headers=auth)
    assert resp.json() == [{"name": "acme/widgets", "filters": {"orgName": "acme"}}]
    resp = await h.http.get(f"/widgetapi/v1/targets/{GENERIC}", headers=auth)
    assert_error(resp, 404, "HS_NOTFOUND")
    resp = await h.http.get("/widgetapi/v1/targets/nonsense", headers=auth)
    assert_error(resp, 404, "HS_NOTFOUND")
    resp = await h.http.get(f"/widgetapi/v1/targets/{wire.GITLAB_REPO}", headers=auth)
    assert_error(resp, 404, "HS_DISABLED_FEATURE")
    h.backend.not_managers.add(ADMIN)
    resp = await h.http.get(f"/widgetapi/v1/targets/{wire.GITHUB_REPO}", headers=auth)
    assert_error(resp, 403, "HS_FORBIDDEN_USER")


# --- settings --------------------------------------------------------------------------------


def test_widget_settings() -> None:
    settings, problems, warnings = parse_widget_settings(
        {
            "publicUrl": "https://example.com/widgetapi/v1/static",
            "roomSetupWidget": {"addOnInvite": True},
            "allowedIpRanges": ["10.1.0.0/16"],
            "openIdOverrides": {"localhost": "http://127.0.0.1:8008"},
            "branding": {"widgetTitle": "Hooks"},
            "colour": "blue",
        }
    )
    assert problems == ()
    assert warnings == ("widgets.colour is not a known key and is ignored",)
    assert settings is not None
    assert settings.public_url == "https://example.com/widgetapi/v1/static/"
    assert settings.room_setup_widget and settings.add_setup_widget_on_invite
    assert settings.widget_title == "Hooks"
    assert dict(settings.openid_overrides) == {"localhost": "http://127.0.0.1:8008"}
    assert settings.disallowed_ip_ranges == parse_networks(DEFAULT_DISALLOWED_IP_RANGES)
    assert settings.allowed_ip_ranges == (ipaddress.ip_network("10.1.0.0/16"),)


def test_widget_settings_problems() -> None:
    settings, problems, _ = parse_widget_settings(
        {
            "disallowedIpRanges": ["10.0.0.0/8", "not-a-range"],
            "allowedIpRanges": "10.0.0.0/8",
            "openIdOverrides": {"localhost": "localhost:8008"},
            "addToAdminRooms": "yes",
        }
    )
    assert settings is None
    assert sorted(p.key for p in problems) == [
        "widgets.addToAdminRooms",
        "widgets.allowedIpRanges",
        "widgets.disallowedIpRanges",
        "widgets.openIdOverrides.localhost",
        "widgets.publicUrl",
    ]


# --- OpenID against a real userinfo server ---------------------------------------------------


class Userinfo:
    """A homeserver's userinfo endpoint on loopback: token -> user id; records Host headers."""

    def __init__(self, *, cert: tuple[Path, Path] | None = None) -> None:
        self.users: dict[str, str] = {}
        self.hosts: list[str] = []
        self.cert = cert
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    async def _userinfo(self, request: Request) -> Response:
        self.hosts.append(request.headers.get("host", ""))
        user = self.users.get(request.query_params.get("access_token", ""))
        if user is None:
            return JSONResponse({"errcode": "M_UNKNOWN_TOKEN", "error": "?"}, status_code=401)
        return JSONResponse({"sub": user})

    def __enter__(self) -> Userinfo:
        app = Starlette(routes=[Route("/_matrix/federation/v1/openid/userinfo", self._userinfo)])
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        self._socket = sock
        self.port = sock.getsockname()[1]
        tls: dict[str, Any] = (
            {"ssl_certfile": str(self.cert[0]), "ssl_keyfile": str(self.cert[1])}
            if self.cert
            else {}
        )
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", access_log=False, http="h11", ws="none", **tls
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None and self._thread is not None and self._socket
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@pytest.fixture(scope="module")
def userinfo() -> Iterator[Userinfo]:
    with Userinfo() as server:
        yield server


@pytest.fixture(scope="module")
def localhost_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name `localhost` only (no IP address in it)."""
    return tls.localhost_cert(tmp_path_factory.mktemp("tls"))


LOOPBACK = parse_networks(["127.0.0.0/8", "::1/128"])


async def test_openid_override_round_trip(userinfo: Userinfo) -> None:
    userinfo.users["good"] = "@alice:localhost"
    userinfo.users["liar"] = "@admin:matrix.org"
    verifier = OpenIdVerifier(overrides={"localhost": f"http://127.0.0.1:{userinfo.port}/ignored"})
    assert await verifier.verify("localhost", "good") == "@alice:localhost"
    with pytest.raises(OpenIdError) as refused:
        await verifier.verify("localhost", "bogus")
    assert refused.value.status == 401
    # A homeserver may only vouch for its own users.
    with pytest.raises(OpenIdError) as lied:
        await verifier.verify("localhost", "liar")
    assert lied.value.status == 401


async def test_openid_override_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request
    verifier = OpenIdVerifier(overrides={"localhost": f"http://127.0.0.1:{port}"})
    with pytest.raises(OpenIdError) as err:
        await verifier.verify("localhost", "good")
    assert err.value.status == 502


@pytest.mark.parametrize("server_name", ["localhost", "localhost:{port}", "127.0.0.1:{port}"])
async def test_openid_refuses_loopback_without_override(
    userinfo: Userinfo, server_name: str
) -> None:
    userinfo.users["good"] = "@alice:localhost"
    seen = len(userinfo.hosts)
    verifier = OpenIdVerifier()
    with pytest.raises(OpenIdError) as err:
        await verifier.verify(server_name.format(port=userinfo.port), "good")
    assert (err.value.status, err.value.message) == (403, "Server is disallowed")
    assert len(userinfo.hosts) == seen  # refused before any request


async def test_openid_checks_every_resolved_address() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return {"mixed.test": ["93.184.215.14", "10.0.0.7"], "mapped.test": ["::ffff:127.0.0.1"]}[
            host
        ]

    verifier = OpenIdVerifier(resolver=resolver)
    for name in ("mixed.test", "mapped.test", "[::1]:8448", "0.0.0.0"):
        with pytest.raises(OpenIdError) as err:
            await verifier.verify(name, "token")
        assert err.value.status == 403, name


@pytest.mark.parametrize(
    "server_name", ["", "evil.test/path", "user@evil.test", "evil.test:99999", "[nonsense]", "a b"]
)
async def test_openid_refuses_malformed_server_names(server_name: str) -> None:
    with pytest.raises(OpenIdError) as err:
        await OpenIdVerifier().verify(server_name, "token")
    assert err.value.status == 400


async def test_openid_pins_the_checked_address_and_verifies_the_name(
    localhost_cert: tuple[Path, Path],
) -> None:
    """Allowed loopback, no override: the request goes to the checked address over TLS, with the
    certificate checked against the server name and Host naming the server."""
    trust = ssl.create_default_context(cafile=str(localhost_cert[0]))
    with Userinfo(cert=localhost_cert) as server:
        name = f"localhost:{server.port}"
        server.users["good"] = f"@alice:{name}"
        verifier = OpenIdVerifier(allowed=LOOPBACK, ssl_context=trust)
        assert await verifier.verify(name, "good") == f"@alice:{name}"
        assert server.hosts[-1] == name

        # Another name resolving to the same address fails: the certificate is for localhost.
        async def resolver(host: str, port: int) -> list[str]:
            return ["127.0.0.1"]

        other = OpenIdVerifier(allowed=LOOPBACK, ssl_context=trust, resolver=resolver)
        requests = len(server.hosts)
        with pytest.raises(OpenIdError) as err:
            await other.verify(f"elsewhere.test:{server.port}", "good")
        assert err.value.status == 502
        assert len(server.hosts) == requests


def test_ip_ranges() -> None:
    default = parse_networks(DEFAULT_DISALLOWED_IP_RANGES)
    assert is_disallowed("127.0.0.1", default)
    assert is_disallowed("::ffff:10.1.2.3", default)
    assert is_disallowed("fd00::1", default)
    assert not is_disallowed("93.184.215.14", default)
    assert not is_disallowed("2606:4700::1111", default)
    assert not is_disallowed("10.1.2.3", default, parse_networks(["10.1.0.0/16"]))
    assert is_disallowed("not an address", default)


async def test_openid_unresolvable_server() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(OpenIdError) as err:
        await OpenIdVerifier(resolver=resolver).verify("nowhere.test", "token")
    assert err.value.status == 502


async def test_mounted_under_a_listener_prefix(h: Harness) -> None:
    app = Starlette(routes=[Mount("/hookshot", routes=h.api.routes())])
    auth = await h.login(ADMIN)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://widgets.test"
    ) as http:
        resp = await http.get("/hookshot/widgetapi/v1/session", headers=auth)
    assert resp.json() == {"userId": ADMIN, "type": "widget"}
