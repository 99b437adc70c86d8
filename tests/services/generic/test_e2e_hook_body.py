"""`includeHookBody: false` in a hook's state (hookshot's per-hook switch over
`generic.includeHookBody`) keeps the request body out of every message the hook sends."""

from __future__ import annotations

import httpx
from conftest import UserFactory
from support.flows import create_webhook, notice_from, room_with_bot

from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
DATA_KEY = "uk.half-shot.hookshot.webhook_data"


async def test_include_hook_body_false_leaves_the_data_out(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "nobody")
    sender = "@_webhooks_nobody:localhost"
    current = await user.get_state(room_id, HOOK, "nobody")
    assert current is not None
    # As hookshot's own test does it: the room admin edits the state by hand.
    await user.send_state(room_id, HOOK, "nobody", {**current, "includeHookBody": False})
    await user.send_text(room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(BOT, "Webhooks configured:"))
    async with httpx.AsyncClient() as http:
        resp = await http.put(url, content=b"Hello world", headers={"content-type": "text/plain"})
    assert resp.status_code == 202, resp.text
    plain = await user.wait_for_event(room_id, notice_from(sender, "Received webhook data:"))
    assert plain["content"]["body"] == "Received webhook data: Hello world"
    assert DATA_KEY not in plain["content"]

    # The transformation path too (v2 result, own msgtype).
    fn = 'result = {version: "v2", plain: `got ${data.n}`, msgtype: "m.text"}'
    state = {**current, "includeHookBody": False, "transformationFunction": fn}
    await user.send_state(room_id, HOOK, "nobody", state)
    await user.send_text(room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(BOT, "Webhooks configured:"))
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, json={"n": 3})).status_code == 202
    event = await user.wait_for_event(
        room_id, lambda e: e.get("sender") == sender and e["content"].get("body") == "got 3"
    )
    assert event["content"]["msgtype"] == "m.text"
    assert DATA_KEY not in event["content"]
