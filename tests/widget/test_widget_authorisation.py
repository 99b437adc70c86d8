"""Who may do what through the widget API, on the real Synapse: a table over five roles and
the API's operations, each cell the exact status (and errcode) expected; and sessions that
never act for anyone but the user whose OpenID token made them.

Roles, for one room with the bot: a member (power 0), a moderator (50, the room's
state_default: hookshot lets whoever may change room settings manage connections), an admin
(100, not the creator), a user not in the room, and the admin of another room with the bot.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from support.flows import room_with_bot

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
ROLES = ("member", "moderator", "admin", "outsider", "other_admin")
OK = (200, None)
NOT_IN_ROOM = (403, "HS_NOT_IN_ROOM")
FORBIDDEN = (403, "HS_FORBIDDEN_USER")

# (operation, role) -> (status, errcode or None for a 2xx)
EXPECTED: dict[str, dict[str, tuple[int, str | None]]] = {
    "list": {
        "member": OK,
        "moderator": OK,
        "admin": OK,
        "outsider": NOT_IN_ROOM,
        "other_admin": NOT_IN_ROOM,
    },
    "create": {
        "member": FORBIDDEN,
        "moderator": OK,
        "admin": OK,
        "outsider": NOT_IN_ROOM,
        "other_admin": NOT_IN_ROOM,
    },
    "update": {
        "member": FORBIDDEN,
        "moderator": OK,
        "admin": OK,
        "outsider": NOT_IN_ROOM,
        "other_admin": NOT_IN_ROOM,
    },
    "rotate": {
        "member": FORBIDDEN,
        "moderator": OK,
        "admin": OK,
        "outsider": NOT_IN_ROOM,
        "other_admin": NOT_IN_ROOM,
    },
    "delete": {
        "member": FORBIDDEN,
        "moderator": OK,
        "admin": OK,
        "outsider": NOT_IN_ROOM,
        "other_admin": NOT_IN_ROOM,
    },
    # The bridge's public settings for the generic service (no room, nothing secret), which
    # the widget reads before it shows a room: any signed-in user, as in hookshot.
    "service_config": {role: OK for role in ROLES},
}
CELLS = [(op, role) for op, by_role in EXPECTED.items() for role in by_role]


@dataclass
class World:
    synapse: LocalSynapse
    base: str
    room_id: str
    other_room_id: str
    owner: MatrixUser
    users: dict[str, MatrixUser]
    tokens: dict[str, str]
    http: httpx.AsyncClient
    hooks: dict[str, str] = field(default_factory=dict)  # hook name -> connection id
    urls: dict[str, str] = field(default_factory=dict)  # hook name -> its URL when made

    def api(self, path: str) -> str:
        return f"{self.base}/widgetapi/v1{path}"

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def add_hook(self, name: str) -> str:
        """A webhook made by the room's owner through the API; its connection id."""
        resp = await self.http.post(
            self.api(f"/{self.room_id}/connections/{HOOK}"),
            json={"name": name},
            headers={"Authorization": f"Bearer {self.tokens['owner']}"},
        )
        assert resp.status_code == 200, resp.text
        self.hooks[name] = str(resp.json()["id"])
        self.urls[name] = str(resp.json()["secrets"]["url"])
        return self.hooks[name]

    async def url_of(self, name: str) -> str | None:
        """The hook's URL as the owner's listing shows it now."""
        resp = await self.http.get(
            self.api(f"/{self.room_id}/connections/generic"),
            headers={"Authorization": f"Bearer {self.tokens['owner']}"},
        )
        for item in resp.json()["connections"]:
            if item["config"]["name"] == name:
                return str(item["secrets"]["url"])
        return None


async def _session(http: httpx.AsyncClient, base: str, user: MatrixUser) -> str:
    openid = await user.openid_token()
    resp = await http.post(
        f"{base}/widgetapi/v1/exchange_openid",
        json={"matrixServer": openid["matrix_server_name"], "openIdToken": openid["access_token"]},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["userId"] == user.user_id
    return str(resp.json()["token"])


@pytest.fixture(scope="module")
async def world(bridge: BridgeProcess, synapse: LocalSynapse) -> AsyncIterator[World]:
    made = [await MatrixUser.create(synapse.base_url, synapse.shared_secret) for _ in range(6)]
    owner, member, moderator, admin, outsider, other_admin = made
    room_id = await room_with_bot(owner, BOT)
    for user in (member, moderator, admin):
        await owner.invite(room_id, user.user_id)
        await user.join(room_id)
    await owner.set_power_level(room_id, moderator.user_id, 50)
    await owner.set_power_level(room_id, admin.user_id, 100)
    other_room_id = await room_with_bot(other_admin, BOT)
    users = {
        "member": member,
        "moderator": moderator,
        "admin": admin,
        "outsider": outsider,
        "other_admin": other_admin,
    }
    base = bridge.files.webhook_base
    async with httpx.AsyncClient(timeout=30) as http:
        tokens = {"owner": await _session(http, base, owner)}
        for role, user in users.items():
            tokens[role] = await _session(http, base, user)
        made_world = World(synapse, base, room_id, other_room_id, owner, users, tokens, http)
        await made_world.add_hook("listed")
        yield made_world
    for user in made:
        await user.aclose()


async def _call(world: World, op: str, role: str) -> httpx.Response:
    """One cell: `role` performs `op` on the room (on a hook of its own where it changes)."""
    http, room, auth = world.http, world.room_id, world.auth(role)
    if op == "list":
        return await http.get(world.api(f"/{room}/connections"), headers=auth)
    if op == "create":
        body = {"name": f"made-by-{role}"}
        return await http.post(world.api(f"/{room}/connections/{HOOK}"), json=body, headers=auth)
    if op == "service_config":
        return await http.get(world.api("/service/generic/config"), headers=auth)
    conn = await world.add_hook(f"{op}-{role}-{uuid.uuid4().hex[:6]}")
    path = world.api(f"/{room}/connections/{conn}")
    if op == "update":
        return await http.put(path, json={"waitForComplete": True}, headers=auth)
    if op == "rotate":
        return await http.post(f"{path}/rotate", headers=auth)
    assert op == "delete", op
    return await http.delete(path, headers=auth)


@pytest.mark.parametrize(("op", "role"), CELLS, ids=[f"{op}-{role}" for op, role in CELLS])
async def test_cell(world: World, op: str, role: str) -> None:
    status, errcode = EXPECTED[op][role]
    resp = await _call(world, op, role)
    assert resp.status_code == status, resp.text
    body: Any = resp.json()
    if errcode is not None:
        assert body["errcode"] == errcode, body
        await _nothing_changed(world, op, role)
        return
    if op == "rotate":
        (name,) = [n for n in world.hooks if n.startswith(f"rotate-{role}-")]
        assert body["secrets"]["url"] != world.urls[name]
        assert (await world.http.post(world.urls[name], json={})).status_code == 404
    if op == "list":
        hooks = [item for item in body if item["service"] == "generic"]
        assert hooks, body
        # The URL is a credential: only those who may edit the hook see it.
        may_edit = role != "member"
        assert all(("secrets" in item) is may_edit for item in hooks), hooks
        assert all(item["canEdit"] is may_edit for item in hooks), hooks


async def _nothing_changed(world: World, op: str, role: str) -> None:
    """A refused cell left the room as it was."""
    if op == "create":
        assert await world.owner.get_state(world.room_id, HOOK, f"made-by-{role}") is None
        return
    if op in ("update", "rotate", "delete"):
        (name,) = [n for n in world.hooks if n.startswith(f"{op}-{role}-")]
        assert await world.owner.get_state(world.room_id, HOOK, name) == {"name": name}
        assert await world.url_of(name) == world.urls[name]


async def test_a_connection_is_reached_only_through_its_own_room(world: World) -> None:
    """The other room's admin names this room's connection under their own room: not found
    (ids are looked up among the named room's connections, never across rooms)."""
    conn = await world.add_hook(f"cross-{uuid.uuid4().hex[:6]}")
    path = world.api(f"/{world.other_room_id}/connections/{conn}")
    auth = world.auth("other_admin")
    for resp in (
        await world.http.put(path, json={"waitForComplete": True}, headers=auth),
        await world.http.post(f"{path}/rotate", headers=auth),
        await world.http.delete(path, headers=auth),
    ):
        assert (resp.status_code, resp.json()["errcode"]) == (404, "HS_NOTFOUND"), resp.text


async def test_a_session_acts_only_for_its_own_user(world: World) -> None:
    http, room = world.http, world.room_id
    member, admin = world.users["member"], world.users["admin"]
    member_auth = world.auth("member")
    create = world.api(f"/{room}/connections/{HOOK}")

    # The member's session, whatever it claims about someone else, is the member.
    claims: list[dict[str, Any]] = [
        {"params": {"user_id": admin.user_id}},  # the appservice masquerade parameter
        {"params": {"userId": admin.user_id}},
        {"json": {"name": "claims-body", "userId": admin.user_id, "sender": admin.user_id}},
        {"headers": {"X-Matrix-User": admin.user_id}},
    ]
    for n, claim in enumerate(claims):
        headers = {**member_auth, **claim.get("headers", {})}
        body = claim.get("json", {"name": f"claims-{n}"})
        resp = await http.post(create, json=body, headers=headers, params=claim.get("params"))
        assert (resp.status_code, resp.json()["errcode"]) == (403, "HS_FORBIDDEN_USER"), claim
        session = await http.get(world.api("/session"), headers=headers)
        assert session.json() == {"userId": member.user_id, "type": "widget"}
    assert [e for e in await world.owner.room_state(room) if "claims" in e["state_key"]] == []

    # A token is only a session token: a user id, an OpenID token or a forged one are not.
    openid = await member.openid_token()
    for token in (admin.user_id, openid["access_token"], "0" * 43):
        resp = await http.get(world.api("/session"), headers={"Authorization": f"Bearer {token}"})
        assert (resp.status_code, resp.json()["errcode"]) == (401, "M_AS_BAD_TOKEN"), token

    # The member's OpenID token cannot be passed off as another homeserver's: the bridge
    # asks the homeserver named, and an address of our own network is never asked.
    resp = await http.post(
        world.api("/exchange_openid"),
        json={"matrixServer": "127.0.0.1:8448", "openIdToken": openid["access_token"]},
    )
    assert (resp.status_code, resp.json()["errcode"]) == (403, "M_AS_BAD_OPENID"), resp.text
    resp = await http.post(
        world.api("/exchange_openid"),
        json={"matrixServer": "localhost", "openIdToken": openid["access_token"]},
    )
    assert resp.json()["userId"] == member.user_id  # the same token, honestly named

    # Signing out everywhere ends that user's sessions only.
    spare = resp.json()["token"]
    out = await http.delete(world.api("/session/all"), headers={"Authorization": f"Bearer {spare}"})
    assert out.json() == {"ok": True}
    for token in (spare, world.tokens["member"]):
        resp = await http.get(world.api("/session"), headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, resp.text
    world.tokens["member"] = await _session(http, world.base, member)
    still = await http.get(world.api("/session"), headers=world.auth("admin"))
    assert still.json() == {"userId": admin.user_id, "type": "widget"}
