"""`!hookshot webhook rotate <name>`: a leaked URL is replaced. The old URL answers 404 as soon
as the command is acknowledged, the new one goes to the admin's DM only, and the hook keeps its
settings (and its secret). Through a real Synapse and the bridge as its own process."""

from __future__ import annotations

import asyncio

import httpx
from conftest import UserFactory
from support.flows import admin_room, command, create_webhook, notice_from, room_with_bot

from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
NOT_FOUND = {"ok": False, "error": "Webhook not found"}


def _hook_id(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def _post_until(http: httpx.AsyncClient, url: str, status: int) -> httpx.Response:
    """POST until the answer has `status` (the bridge applies a state edit asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while True:
        resp = await http.post(url, json={"text": "probe"})
        if resp.status_code == status or loop.time() > deadline:
            return resp
        await asyncio.sleep(0.1)


async def test_rotate_replaces_the_url_at_once(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    old_url = await create_webhook(user, room_id, BOT, "leaky")
    await user.send_state(room_id, HOOK, "leaky", {"name": "leaky", "waitForComplete": True})
    async with httpx.AsyncClient() as http:
        # waitForComplete: 200 once the edit is applied.
        before = await _post_until(http, old_url, 200)
        assert before.status_code == 200, before.text

        await command(user, room_id, "!hookshot webhook rotate leaky")
        # Acknowledged: the old URL is dead already, no waiting.
        late = await http.post(old_url, json={"text": "with the leaked URL"})
        assert (late.status_code, late.json()) == (404, NOT_FOUND)

        await user.wait_for_event(
            room_id, notice_from(BOT, "Webhook `leaky` has a new URL. See your admin room.")
        )
        dm = await admin_room(user, BOT)
        notice = await user.wait_for_event(
            dm, notice_from(BOT, 'The webhook "leaky" in https://matrix.to/#/')
        )
        body = notice["content"]["body"]
        assert "the old one no longer works" in body and "requires the same secret" not in body
        new_url = body.splitlines()[-1]
        assert new_url.startswith(bridge.files.webhook_base) and new_url != old_url

        # The hook kept its settings: waitForComplete answers 200 after the send.
        fresh = await http.post(new_url, json={"text": "with the new URL"})
        assert (fresh.status_code, fresh.json()) == (200, {"ok": True})
    await user.wait_for_event(
        room_id, notice_from("@_webhooks_leaky:localhost", "with the new URL")
    )

    # Neither URL is in what members can read: the room's timeline and the hook's state.
    state = await user.get_state(room_id, HOOK, "leaky")
    assert state == {"name": "leaky", "waitForComplete": True}
    timeline = str(await user.messages(room_id, limit=200))
    assert _hook_id(new_url) not in timeline and _hook_id(old_url) not in timeline
    # Still one webhook, under its name.
    await command(user, room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(BOT, "Webhooks configured:\n\n - leaky"))


async def test_rotate_keeps_the_secret(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    await create_webhook(user, room_id, BOT, "guarded")
    await command(user, room_id, "!hookshot webhook secret guarded")
    dm = await admin_room(user, BOT)
    notice = await user.wait_for_event(dm, notice_from(BOT, 'The webhook "guarded" now requires'))
    secret = notice["content"]["body"].splitlines()[1]

    await command(user, room_id, "!hookshot webhook rotate guarded")
    notice = await user.wait_for_event(dm, notice_from(BOT, 'The webhook "guarded" in https://'))
    body = notice["content"]["body"]
    assert "It still requires the same secret" in body
    new_url = body.splitlines()[-1]
    async with httpx.AsyncClient() as http:
        unsigned = await http.post(new_url, json={"text": "unsigned"})
        assert unsigned.status_code == 401, unsigned.text
        bearer = await http.post(
            new_url, json={"text": "bearer"}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert bearer.status_code == 202, bearer.text
    await user.wait_for_event(room_id, notice_from("@_webhooks_guarded:localhost", "bearer"))


async def test_rotate_refusals(bridge: BridgeProcess, new_user: UserFactory) -> None:
    admin, member = await new_user(), await new_user()
    room_id = await room_with_bot(admin, BOT)
    await admin.invite(room_id, member.user_id)
    await member.join(room_id)
    url = await create_webhook(admin, room_id, BOT, "kept")

    await command(admin, room_id, "!hookshot webhook rotate nothere", ok=False)
    await admin.wait_for_event(
        room_id,
        notice_from(
            BOT, 'Failed to handle command: No webhook by the name of "nothere" is configured.'
        ),
    )
    # Room members below state_default may not rotate (as they may not create).
    await command(member, room_id, "!hookshot webhook rotate kept", ok=False)
    await member.wait_for_event(
        room_id,
        notice_from(
            BOT, "Failed to handle command: You must be able to set state in a room ('Change"
        ),
    )
    await command(admin, room_id, "!hookshot webhook rotate", ok=False)
    async with httpx.AsyncClient() as http:
        resp = await http.post(url, json={"text": "still works"})
    assert resp.status_code == 202, resp.text
    await admin.wait_for_event(room_id, notice_from("@_webhooks_kept:localhost", "still works"))
