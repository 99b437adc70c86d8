"""Forgejo repositories through the widget API, against the real homeserver and bridge (and
the fake of Forgejo's REST API for creating): listed with their state, threads switched by an
update, malformed and hostile updates refused with the state parser's words, removal, who may
do what, and creating with the user's stored token as `!hookshot forgejo repo` does."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from conftest import UserFactory
from support.fake_forgejo import FakeForgejo
from support.flows import command, notice_from, room_with_bot
from support.threads import until
from support.widget_api import widget_api, widget_session

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
FORGEJO = "org.hookshot-python.forgejo.repository"


async def _listed(
    http: httpx.AsyncClient, bridge: BridgeProcess, auth: dict[str, str], room_id: str
) -> dict[str, Any]:
    resp = await http.get(widget_api(bridge, f"/{room_id}/connections/forgejo"), headers=auth)
    assert resp.status_code == 200, resp.text
    listing: dict[str, Any] = resp.json()
    return listing


async def _listed_item(
    http: httpx.AsyncClient, bridge: BridgeProcess, auth: dict[str, str], room_id: str
) -> dict[str, Any]:
    """The room's one Forgejo connection, once the bridge has applied its state."""
    found: list[dict[str, Any]] = []

    async def listed() -> bool:
        found[:] = (await _listed(http, bridge, auth, room_id))["connections"]
        return bool(found)

    await until(listed, "the Forgejo connection in the widget's listing")
    assert len(found) == 1, found
    return found[0]


async def _repo_room(user: MatrixUser, owner: str) -> tuple[str, str]:
    room_id = await room_with_bot(user, BOT)
    key = f"trygitea/{owner}/hello-world"
    content = {"instance": "trygitea", "owner": owner, "repo": "hello-world"}
    await user.send_state(room_id, FORGEJO, key, content)
    return room_id, key


async def test_a_repository_is_listed_switched_to_threads_and_removed(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    owner = f"o{uuid.uuid4().hex[:8]}"
    room_id, key = await _repo_room(user, owner)
    async with httpx.AsyncClient(timeout=30) as http:
        auth = {"Authorization": f"Bearer {await widget_session(http, bridge, user)}"}
        sections = await http.get(widget_api(bridge, "/config/sections"), headers=auth)
        assert sections.json()["forgejo"] is True
        item = await _listed_item(http, bridge, auth, room_id)
        assert (item["service"], item["type"], item["eventType"]) == (
            "forgejo",
            "ForgejoRepo",
            FORGEJO,
        )
        assert item["config"]["owner"] == owner and item["config"]["instance"] == "trygitea"
        assert item["canEdit"] is True and "threads" not in item["config"]
        # All of the room's connections list it too.
        everything = await http.get(widget_api(bridge, f"/{room_id}/connections"), headers=auth)
        assert [c["id"] for c in everything.json()] == [item["id"]]
        hooks = item["config"]["enableHooks"]

        path = widget_api(bridge, f"/{room_id}/connections/{item['id']}")
        on = await http.put(path, json={"threads": True, "ciReactions": True}, headers=auth)
        assert on.status_code == 200, on.text
        assert on.json()["config"]["threads"] is True
        state = await user.get_state(room_id, FORGEJO, key)
        assert state is not None
        assert (state["threads"], state["ciReactions"], state["enableHooks"]) == (True, True, hooks)

        async def threads_listed() -> bool:
            listed = (await _listed(http, bridge, auth, room_id))["connections"]
            return bool(listed) and listed[0]["config"].get("threads") is True

        await until(threads_listed, "threads: true in the listing")
        # Off as the widget turns it off: null unsets the keys.
        off = await http.patch(path, json={"threads": None, "ciReactions": None}, headers=auth)
        assert off.status_code == 200, off.text
        state = await user.get_state(room_id, FORGEJO, key)
        assert state is not None and "threads" not in state and "ciReactions" not in state

        deleted = await http.delete(path, headers=auth)
        assert deleted.status_code == 200 and deleted.json() == {"ok": True}
        assert await user.get_state(room_id, FORGEJO, key) == {"disabled": True}

        async def gone() -> bool:
            return not (await _listed(http, bridge, auth, room_id))["connections"]

        await until(gone, "the removed connection to leave the listing")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"threads": "yes"}, "'threads' must be a boolean"),
        ({"ciReactions": 1}, "'ciReactions' must be a boolean"),
        ({"enableHooks": "push"}, "'enableHooks' must be an array of strings"),
        ({"branches": ["x" * 201]}, "'branches' patterns may be at most 200 characters"),
        ({"commandPrefix": 7}, "'commandPrefix' must be a string"),
        ({"owner": "someone-else"}, "'owner' cannot be changed"),
        ({"instance": "giteacom"}, "'instance' cannot be changed"),
    ],
)
async def test_bad_updates_are_refused_with_the_parsers_words(
    bridge: BridgeProcess, new_user: UserFactory, body: dict[str, Any], error: str
) -> None:
    user = await new_user()
    owner = f"o{uuid.uuid4().hex[:8]}"
    room_id, key = await _repo_room(user, owner)
    before = await user.get_state(room_id, FORGEJO, key)
    async with httpx.AsyncClient(timeout=30) as http:
        auth = {"Authorization": f"Bearer {await widget_session(http, bridge, user)}"}
        item = await _listed_item(http, bridge, auth, room_id)
        resp = await http.put(
            widget_api(bridge, f"/{room_id}/connections/{item['id']}"), json=body, headers=auth
        )
        assert resp.status_code == 400, resp.text
        assert (resp.json()["errcode"], resp.json()["error"]) == ("HS_BAD_VALUE", error)
        # Not JSON, or not an object: refused before anything is looked at.
        for raw in (b"[true]", b'{"threads": tru', b"NaN"):
            bad = await http.put(
                widget_api(bridge, f"/{room_id}/connections/{item['id']}"),
                content=raw,
                headers={**auth, "Content-Type": "application/json"},
            )
            assert bad.status_code == 400, (raw, bad.text)
    assert await user.get_state(room_id, FORGEJO, key) == before


async def test_only_those_who_may_change_the_room_may_change_its_repositories(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    owner_user, member, outsider = await new_user(), await new_user(), await new_user()
    owner = f"o{uuid.uuid4().hex[:8]}"
    room_id, key = await _repo_room(owner_user, owner)
    await owner_user.invite(room_id, member.user_id)
    await member.join(room_id)
    before = await owner_user.get_state(room_id, FORGEJO, key)
    async with httpx.AsyncClient(timeout=30) as http:
        mine = {"Authorization": f"Bearer {await widget_session(http, bridge, owner_user)}"}
        theirs = {"Authorization": f"Bearer {await widget_session(http, bridge, member)}"}
        stranger = {"Authorization": f"Bearer {await widget_session(http, bridge, outsider)}"}
        item = await _listed_item(http, bridge, mine, room_id)
        path = widget_api(bridge, f"/{room_id}/connections/{item['id']}")

        listing = await _listed(http, bridge, theirs, room_id)
        assert listing["canEdit"] is False and listing["connections"][0]["canEdit"] is False
        for resp in (
            await http.put(path, json={"threads": True}, headers=theirs),
            await http.delete(path, headers=theirs),
            await http.post(
                widget_api(bridge, f"/{room_id}/connections/{FORGEJO}"),
                json={"instance": "fake", "owner": owner, "repo": "x"},
                headers=theirs,
            ),
        ):
            assert resp.status_code == 403 and resp.json()["errcode"] == "HS_FORBIDDEN_USER"
        for resp in (
            await http.get(widget_api(bridge, f"/{room_id}/connections/forgejo"), headers=stranger),
            await http.put(path, json={"threads": True}, headers=stranger),
            await http.delete(path, headers=stranger),
        ):
            assert resp.status_code == 403 and resp.json()["errcode"] == "HS_NOT_IN_ROOM"
        no_session = await http.put(path, json={"threads": True})
        assert no_session.status_code == 401
    assert await owner_user.get_state(room_id, FORGEJO, key) == before


async def _store_token(user: MatrixUser, token: str) -> None:
    dm = await user.create_room(
        invite=[BOT], is_direct=True, power_level_content_override={"users": {BOT: 50}}
    )
    await user.wait_for_event(dm, notice_from(BOT, "Hello!"))
    await command(user, dm, f"forgejo personaltoken fake {token}")


async def test_a_repository_is_created_with_the_users_token(
    bridge: BridgeProcess, fake_forgejo: FakeForgejo, new_user: UserFactory
) -> None:
    user = await new_user()
    login = f"u{uuid.uuid4().hex[:6]}"
    token = fake_forgejo.add_user(login).token
    fake_forgejo.add_repo(login, "Widgets", pushers={login})
    fake_forgejo.add_repo(login, "read-only", pushers=set())
    room_id = await room_with_bot(user, BOT)
    async with httpx.AsyncClient(timeout=30) as http:
        auth = {"Authorization": f"Bearer {await widget_session(http, bridge, user)}"}
        create = widget_api(bridge, f"/{room_id}/connections/{FORGEJO}")

        async def refused(body: Any, starts: str) -> None:
            resp = await http.post(create, json=body, headers=auth)
            assert resp.status_code == 400, resp.text
            assert resp.json()["errcode"] == "HS_BAD_VALUE"
            assert resp.json()["error"].startswith(starts), resp.json()

        widgets = {"instance": "fake", "owner": login, "repo": "widgets"}
        await refused(widgets, "You have no token for this Forgejo instance")
        await _store_token(user, token)
        await refused({**widgets, "repo": "read-only"}, "You must at least have write")
        await refused({**widgets, "repo": "missing"}, "Not found (404)")
        await refused({**widgets, "instance": "nowhere"}, "Instance name not recognised")
        await refused({**widgets, "owner": 5}, "'owner' must be a string")
        await refused({**widgets, "repo": " "}, "'repo' must not be empty")
        await refused({**widgets, "threads": "on"}, "'threads' must be a boolean")
        await refused({**widgets, "enableHooks": ["everything"]}, "'enableHooks' must only")
        await refused({"instance": "fake"}, "Missing 'owner'")
        targets = await http.get(widget_api(bridge, f"/targets/{FORGEJO}"), headers=auth)
        assert targets.status_code == 404, targets.text

        made = await http.post(create, json={**widgets, "threads": True}, headers=auth)
        assert made.status_code == 200, made.text
        item = made.json()
        assert item["service"] == "forgejo"
        # As the instance spells it; the key lower-cased, as the command writes it.
        key = f"fake/{login}/widgets"
        assert (item["config"]["repo"], item["config"]["threads"]) == ("Widgets", True)
        state = await user.get_state(room_id, FORGEJO, key)
        assert state is not None
        assert (state["owner"], state["repo"], state["threads"]) == (login, "Widgets", True)
        listed = await _listed_item(http, bridge, auth, room_id)
        assert listed["id"] == item["id"]
    assert fake_forgejo.requests[-1].headers.get("authorization") == f"token {token}"
