"""A transformation function that does not compile never replaces a working one: the widget
refuses it with the compiler's message, and a hand-written state event is told about in the
room while the hook keeps its previous function."""

from __future__ import annotations

from typing import Any

import httpx
from conftest import UserFactory
from support.flows import create_webhook, notice_from, room_with_bot

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
GOOD = 'result = {version: "v2", plain: `good ${data.n}`}'
BAD = "result = {"
COMPILE_ERROR = "Could not compile transformation function:"


def _body_from(sender: str, body: str) -> Any:
    return lambda e: e.get("sender") == sender and e.get("content", {}).get("body") == body


async def _widget_token(http: httpx.AsyncClient, bridge: BridgeProcess, user: MatrixUser) -> str:
    openid = await user.openid_token()
    resp = await http.post(
        f"{bridge.files.webhook_base}/widgetapi/v1/exchange_openid",
        json={"matrixServer": openid["matrix_server_name"], "openIdToken": openid["access_token"]},
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["token"])


async def test_bad_state_write_keeps_the_previous_function(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "keeper")
    sender = "@_webhooks_keeper:localhost"
    current = await user.get_state(room_id, HOOK, "keeper")
    assert current is not None
    await user.send_state(room_id, HOOK, "keeper", {**current, "transformationFunction": GOOD})
    async with httpx.AsyncClient() as http:
        # State is applied in room order, so a list reply means the function is in force.
        await user.send_text(room_id, "!hookshot webhook list")
        await user.wait_for_event(room_id, notice_from(BOT, "Webhooks configured:"))
        assert (await http.post(url, json={"n": 1})).status_code == 202
        await user.wait_for_event(room_id, _body_from(sender, "good 1"))

        # A room admin's direct write cannot be refused: the room is told, the old one runs.
        await user.send_state(room_id, HOOK, "keeper", {**current, "transformationFunction": BAD})
        notice = await user.wait_for_event(room_id, notice_from(BOT, COMPILE_ERROR))
        assert "keeper: it keeps its previous transformation function" in notice["content"]["body"]
        assert notice["content"]["format"] == "org.matrix.custom.html"
        assert "SyntaxError" in notice["content"]["formatted_body"]
        assert (await http.post(url, json={"n": 2})).status_code == 202
        await user.wait_for_event(room_id, _body_from(sender, "good 2"))


async def test_widget_refuses_a_function_that_does_not_compile(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    api = f"{bridge.files.webhook_base}/widgetapi/v1/{room_id}/connections"
    async with httpx.AsyncClient() as http:
        auth = {"Authorization": f"Bearer {await _widget_token(http, bridge, user)}"}
        refused = await http.post(
            f"{api}/{HOOK}", json={"name": "badnew", "transformationFunction": BAD}, headers=auth
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["errcode"] == "HS_BAD_VALUE"
        assert refused.json()["error"].startswith(f"{COMPILE_ERROR} SyntaxError")
        assert await user.get_state(room_id, HOOK, "badnew") is None

        created = await http.post(
            f"{api}/{HOOK}", json={"name": "goodnew", "transformationFunction": GOOD}, headers=auth
        )
        assert created.status_code == 200, created.text
        conn_id, url = created.json()["id"], created.json()["secrets"]["url"]
        patched = await http.patch(
            f"{api}/{conn_id}", json={"transformationFunction": BAD}, headers=auth
        )
        assert patched.status_code == 400, patched.text
        assert patched.json()["error"].startswith(COMPILE_ERROR)
        state = await user.get_state(room_id, HOOK, "goodnew")
        assert state is not None and state["transformationFunction"] == GOOD
        # The bridge applies what it writes at once: the URL works before the echo arrives.
        assert (await http.post(url, json={"n": 5})).status_code == 202
        await user.wait_for_event(room_id, _body_from("@_webhooks_goodnew:localhost", "good 5"))
