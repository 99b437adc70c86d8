"""The quiet-room switches (`threads`, `ciReactions`) of GitHub repositories and GitLab
projects through the widget API, against the real homeserver and bridge: a connection created
with them carries them in its state, an update switches them on and null unsets them, and a
value that is not a boolean is refused with the state parser's words (400 HS_BAD_VALUE) with
nothing written."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from conftest import UserFactory
from support.flows import room_with_bot
from support.threads import until
from support.widget_api import widget_api, widget_session

from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
GITHUB = "uk.half-shot.matrix-hookshot.github.repository"
GITLAB = "uk.half-shot.matrix-hookshot.gitlab.repository"


def _new(event_type: str) -> tuple[dict[str, Any], str]:
    """A fresh repository's (or project's) state for a create, and its state key."""
    name = f"r{uuid.uuid4().hex[:8]}"
    if event_type == GITHUB:
        return {"org": "acme", "repo": name}, f"acme/{name}"
    return {"instance": "fake", "path": f"group/{name}"}, f"fake/group/{name}"


FORGES = [pytest.param(GITHUB, "github", id="github"), pytest.param(GITLAB, "gitlab", id="gitlab")]


@pytest.mark.parametrize(("event_type", "service"), FORGES)
async def test_created_with_the_switches_on(
    bridge: BridgeProcess, new_user: UserFactory, event_type: str, service: str
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    where, key = _new(event_type)
    async with httpx.AsyncClient(timeout=30) as http:
        auth = {"Authorization": f"Bearer {await widget_session(http, bridge, user)}"}
        create = widget_api(bridge, f"/{room_id}/connections/{event_type}")
        made = await http.post(
            create, json={**where, "threads": True, "ciReactions": True}, headers=auth
        )
        assert made.status_code == 200, made.text
        item = made.json()
        assert item["service"] == service
        assert (item["config"]["threads"], item["config"]["ciReactions"]) == (True, True)
        state = await user.get_state(room_id, event_type, key)
        assert state is not None
        assert (state["threads"], state["ciReactions"]) == (True, True)

        async def listed() -> bool:
            resp = await http.get(
                widget_api(bridge, f"/{room_id}/connections/{service}"), headers=auth
            )
            found = resp.json()["connections"]
            return bool(found) and found[0]["config"].get("threads") is True

        await until(listed, "the new connection listed with threads on")
        # Without them, a new connection's state has neither key (as a room that never asked).
        plain, plain_key = _new(event_type)
        made = await http.post(create, json=plain, headers=auth)
        assert made.status_code == 200, made.text
        state = await user.get_state(room_id, event_type, plain_key)
        assert state is not None and "threads" not in state and "ciReactions" not in state


@pytest.mark.parametrize(("event_type", "service"), FORGES)
@pytest.mark.parametrize(
    ("switches", "error"),
    [
        ({"threads": "yes"}, "'threads' must be a boolean"),
        ({"threads": True, "ciReactions": 1}, "'ciReactions' must be a boolean"),
        ({"ciReactions": "on"}, "'ciReactions' must be a boolean"),
    ],
)
async def test_a_create_with_a_bad_switch_is_refused(
    bridge: BridgeProcess,
    new_user: UserFactory,
    event_type: str,
    service: str,
    switches: dict[str, Any],
    error: str,
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    where, key = _new(event_type)
    async with httpx.AsyncClient(timeout=30) as http:
        auth = {"Authorization": f"Bearer {await widget_session(http, bridge, user)}"}
        resp = await http.post(
            widget_api(bridge, f"/{room_id}/connections/{event_type}"),
            json={**where, **switches},
            headers=auth,
        )
        assert resp.status_code == 400, resp.text
        assert (resp.json()["errcode"], resp.json()["error"]) == ("HS_BAD_VALUE", error)
        listing = await http.get(
            widget_api(bridge, f"/{room_id}/connections/{service}"), headers=auth
        )
        assert listing.json()["connections"] == []
    assert await user.get_state(room_id, event_type, key) is None


@pytest.mark.parametrize(("event_type", "service"), FORGES)
async def test_switched_on_refused_when_bad_and_unset_by_null(
    bridge: BridgeProcess, new_user: UserFactory, event_type: str, service: str
) -> None:
    """As the widget's editor sends them: on, then off (null); a bad type changes nothing,
    and the rest of the state (hooks, prefix, a key we do not model) stays as it was."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    where, key = _new(event_type)
    hooks = ["issue", "merge_request"] if event_type == GITLAB else ["issue", "pull_request"]
    content = {**where, "enableHooks": hooks, "commandPrefix": "!acme", "someoneElses": [1]}
    await user.send_state(room_id, event_type, key, content)
    async with httpx.AsyncClient(timeout=30) as http:
        auth = {"Authorization": f"Bearer {await widget_session(http, bridge, user)}"}
        found: list[dict[str, Any]] = []

        async def listed() -> bool:
            resp = await http.get(
                widget_api(bridge, f"/{room_id}/connections/{service}"), headers=auth
            )
            found[:] = resp.json()["connections"]
            return bool(found)

        await until(listed, "the connection in the widget's listing")
        path = widget_api(bridge, f"/{room_id}/connections/{found[0]['id']}")

        on = await http.put(path, json={"threads": True, "ciReactions": True}, headers=auth)
        assert on.status_code == 200, on.text
        assert (on.json()["config"]["threads"], on.json()["config"]["ciReactions"]) == (True, True)
        state = await user.get_state(room_id, event_type, key)
        assert state == {**content, "threads": True, "ciReactions": True}

        for bad, error in (
            ({"threads": "yes"}, "'threads' must be a boolean"),
            ({"ciReactions": 0}, "'ciReactions' must be a boolean"),
            ({"threads": None, "ciReactions": []}, "'ciReactions' must be a boolean"),
        ):
            resp = await http.put(path, json=bad, headers=auth)
            assert resp.status_code == 400, resp.text
            assert (resp.json()["errcode"], resp.json()["error"]) == ("HS_BAD_VALUE", error)
        assert await user.get_state(room_id, event_type, key) == state

        off = await http.put(path, json={"threads": None, "ciReactions": None}, headers=auth)
        assert off.status_code == 200, off.text
        assert "threads" not in off.json()["config"]
        assert await user.get_state(room_id, event_type, key) == content
