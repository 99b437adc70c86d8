"""A new user sets up an inbound webhook and a service's POSTs appear in the room: the whole
path through a real Synapse and the bridge running as its own process."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from conftest import UserFactory
from support.flows import command, create_webhook, notice_from, room_with_bot

from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"


async def test_webhook_demo_flow(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "demo")
    await user.wait_for_event(
        room_id,
        notice_from(BOT, "Room configured to bridge webhooks. See admin room for secret url."),
    )
    async with httpx.AsyncClient() as http:
        resp = await http.post(url, json={"text": "Hello **world**", "value": 1.5})
    assert resp.status_code == 202, resp.text
    assert resp.json() == {"ok": True}
    hook_user = "@_webhooks_demo:localhost"
    event = await user.wait_for_event(room_id, notice_from(hook_user, "Hello"))
    # Ours: the send's transaction id, which makes retries across a homeserver restart safe.
    assert re.fullmatch(r"hs[0-9a-f]{40}", event["content"].pop("uk.half-shot.hookshot.txn"))
    assert event["content"] == {
        "msgtype": "m.notice",
        "body": "Hello **world**",
        "format": "org.matrix.custom.html",
        "formatted_body": "<p>Hello <strong>world</strong></p>",
        "uk.half-shot.hookshot.webhook_data": {"text": "Hello **world**", "value": "1.5"},
    }
    member = await user.get_state(room_id, "m.room.member", hook_user)
    assert member is not None and member["displayname"] == "demo (Webhook)"


async def test_json_body_without_text(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "rawjson")
    async with httpx.AsyncClient() as http:
        resp = await http.post(url, json={"status": "firing", "count": 3})
    assert resp.status_code == 202
    event = await user.wait_for_event(
        room_id, notice_from("@_webhooks_rawjson:localhost", "Received webhook data:")
    )
    assert event["content"]["body"] == (
        'Received webhook data:\n\n```json\n\n{\n  "status": "firing",\n  "count": 3\n}\n\n```'
    )


async def test_list_and_remove(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    await command(user, room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(BOT, "No webhooks configured"))
    beta = await create_webhook(user, room_id, BOT, "beta")
    alpha = await create_webhook(user, room_id, BOT, "alpha")
    await command(user, room_id, "!hookshot webhook list")
    listing = await user.wait_for_event(room_id, notice_from(BOT, "Webhooks configured:"))
    assert listing["content"]["body"] == "Webhooks configured:\n\n - alpha\n - beta"
    await command(user, room_id, "!hookshot webhook remove alpha")
    await user.wait_for_event(room_id, notice_from(BOT, "Removed webhook `alpha`"))
    assert await user.get_state(room_id, "uk.half-shot.matrix-hookshot.generic.hook", "alpha") == {
        "disabled": True
    }
    async with httpx.AsyncClient() as http:
        gone = await http.post(alpha, json={"text": "x"})
        kept = await http.post(beta, json={"text": "still here"})
    assert gone.status_code == 404 and gone.json()["ok"] is False
    assert kept.status_code == 202
    await command(user, room_id, "!hookshot webhook remove alpha", ok=False)
    await user.wait_for_event(
        room_id,
        notice_from(BOT, 'Failed to handle command: No webhook by the name of "alpha"'),
    )


async def test_unprivileged_member_creates_nothing(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    owner, member = await new_user(), await new_user()
    room_id = await room_with_bot(owner, BOT)
    await owner.invite(room_id, member.user_id)
    await member.join(room_id)
    await command(member, room_id, "!hookshot webhook sneaky", ok=False)
    await owner.wait_for_event(
        room_id,
        notice_from(
            BOT,
            "Failed to handle command: You must be able to set state in a room "
            "('Change settings') in order to set up new integrations.",
        ),
    )
    assert (
        await owner.get_state(room_id, "uk.half-shot.matrix-hookshot.generic.hook", "sneaky")
        is None
    )


async def test_bad_name_and_unknown_command(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    await command(user, room_id, "!hookshot webhook ab", ok=False)
    await user.wait_for_event(
        room_id,
        notice_from(
            BOT, "Failed to handle command: A webhook name must be between 3-64 characters."
        ),
    )
    await command(user, room_id, "!hookshot frobnicate", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: Unknown command")
    )
    await command(user, room_id, "!hookshot help")
    help_event = await user.wait_for_event(room_id, notice_from(BOT, "### Webhook"))
    assert "`!hookshot webhook <name> [duration]`" in help_event["content"]["body"]
    assert "<h3>Webhook</h3>" in help_event["content"]["formatted_body"]


async def test_expired_hook_is_refused(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "shortlived", "1h")
    # Commands refuse expiries under an hour (as hookshot); the room admin dates it back.
    hook_type = "uk.half-shot.matrix-hookshot.generic.hook"
    state = await user.get_state(room_id, hook_type, "shortlived")
    assert state is not None and state["expirationDate"]
    past = {**state, "expirationDate": "2020-01-01T00:00:00.000Z"}
    await user.send_state(room_id, hook_type, "shortlived", past)
    await user.send_text(room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(BOT, "Webhooks configured:"))
    async with httpx.AsyncClient() as http:
        resp = await http.post(url, json={"text": "too late"})
    assert resp.status_code == 404
    assert resp.json() == {"ok": False, "error": "This hook has expired"}


@pytest.mark.parametrize("wait", [True])
async def test_wait_for_complete_answers_after_send(
    bridge: BridgeProcess, new_user: UserFactory, wait: bool
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "waiter")
    state = await user.get_state(room_id, "uk.half-shot.matrix-hookshot.generic.hook", "waiter")
    assert state is not None and "hookId" not in state  # members can read state
    hook_id = url.rsplit("/", 1)[1]
    await user.send_state(
        room_id,
        "uk.half-shot.matrix-hookshot.generic.hook",
        "waiter",
        {**state, "waitForComplete": wait},
    )
    # The bridge applies the edit asynchronously; poll until the hook answers 200.
    async with httpx.AsyncClient() as http:
        for _ in range(50):
            resp = await http.post(
                f"{bridge.files.webhook_base}/webhook/{hook_id}", json={"text": "sync"}
            )
            if resp.status_code == 200:
                break
            await asyncio.sleep(0.1)
    assert resp.status_code == 200 and resp.json() == {"ok": True}
    # By the time we got 200 the event is in the room: no waiting needed.
    events = await user.messages(room_id)
    assert any(e.get("content", {}).get("body") == "sync" for e in events)
