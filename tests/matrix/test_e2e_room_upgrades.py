"""Room upgrades in a real Synapse: a room admin upgrades a bridged room through the client
API, as Element does, and the bridge carries its connections into the new room."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from conftest import UserFactory
from support.flows import admin_room, command, create_webhook, notice_from, room_with_bot
from support.receiver import Receiver

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
SPARE_BOT = "@hookshot_spare:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
GITHUB = "uk.half-shot.matrix-hookshot.github.repository"
WIDGET = "im.vector.modular.widgets"
UPGRADED = "This room was upgraded from"


async def _upgrade(user: MatrixUser, room_id: str) -> str:
    """POST /upgrade as the room's creator; the replacement room's id."""
    create = await user.get_state(room_id, "m.room.create") or {}
    body = await user.request(
        "POST",
        f"/rooms/{room_id}/upgrade",
        json_body={"new_version": create.get("room_version", "12")},
    )
    return str(body["replacement_room"])


async def _post(url: str, text: str) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.post(url, json={"text": text})
    assert resp.status_code == 202, resp.text


def _body_is(text: str) -> Any:
    return lambda e: e.get("content", {}).get("body") == text


def _state_events(events: list[dict[str, Any]], event_type: str) -> list[str]:
    return [str(e.get("state_key")) for e in events if e.get("type") == event_type]


async def test_upgrade_carries_connections_and_hooks_keep_their_urls(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT, preset="public_chat")
    name = f"up{uuid.uuid4().hex[:6]}"
    url = await create_webhook(user, room_id, BOT, name)
    repo = {"org": "acme", "repo": f"r{uuid.uuid4().hex[:6]}"}
    repo_key = f"{repo['org']}/{repo['repo']}"
    await user.send_state(room_id, GITHUB, repo_key, repo)
    await command(user, room_id, "!hookshot setup-widget")
    widget = next(e for e in await user.room_state(room_id) if e["type"] == WIDGET)

    new_room = await _upgrade(user, room_id)
    await user.wait_for_membership(new_room, BOT)
    notice = await user.wait_for_event(new_room, notice_from(BOT, UPGRADED), timeout=20)
    assert notice["content"]["body"] == (
        f"{UPGRADED} {room_id}: carried over 2 connections (1 generic, 1 github repo) and the "
        "configuration widget. Webhook URLs stay the same."
    )
    await user.wait_for_event(
        room_id, notice_from(BOT, f"This room was upgraded to {new_room}: its 2 connections")
    )
    assert await user.get_state(new_room, HOOK, name) == await user.get_state(room_id, HOOK, name)
    assert await user.get_state(new_room, GITHUB, repo_key) == repo
    assert await user.get_state(new_room, WIDGET, widget["state_key"]) == widget["content"]

    # The same URL posts into the new room, and no longer into the old one.
    marker = f"after the upgrade {uuid.uuid4().hex[:6]}"
    await _post(url, marker)
    await user.wait_for_event(new_room, notice_from(f"@_webhooks_{name}:localhost", marker))
    assert not [e for e in await user.messages(room_id) if _body_is(marker)(e)]
    # The repository connection answers its commands in the new room.
    await user.send_text(new_room, "!gh help")
    await user.wait_for_event(new_room, notice_from(BOT, f"Commands for {repo_key}:"))

    # A second tombstone (same replacement) carries nothing twice. The command after it is
    # answered after it was handled (one room's events are handled in order).
    tombstone = await user.get_state(room_id, "m.room.tombstone")
    assert tombstone is not None
    await user.send_state(room_id, "m.room.tombstone", "", tombstone)
    # And the old room points to the new one.
    await user.send_text(room_id, "!hookshot help")
    await user.wait_for_event(
        room_id, notice_from(BOT, f"This room was upgraded: I answer in {new_room} now.")
    )
    again = f"after the second tombstone {uuid.uuid4().hex[:6]}"
    await _post(url, again)
    await user.wait_for_event(new_room, notice_from(f"@_webhooks_{name}:localhost", again))
    events = await user.messages(new_room, limit=200)
    assert _state_events(events, HOOK) == [name]
    assert _state_events(events, GITHUB) == [repo_key]
    assert len([e for e in events if notice_from(BOT, UPGRADED)(e)]) == 1


async def test_private_room_upgrade_waits_for_an_invite(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)  # private_chat: joined by invite only
    name = f"pv{uuid.uuid4().hex[:6]}"
    url = await create_webhook(user, room_id, BOT, name)
    hook_user = f"@_webhooks_{name}:localhost"

    new_room = await _upgrade(user, room_id)
    # Synapse invites nobody into the new room; the bot says so in the old one.
    await user.wait_for_event(
        room_id,
        notice_from(
            BOT,
            f"This room was upgraded to {new_room}, but I could not join it (You are not "
            f"invited to this room.). Invite me ({BOT}) there and I will carry over its 1 "
            "connection.",
        ),
        timeout=20,
    )

    await user.invite(new_room, BOT)
    await user.wait_for_membership(new_room, BOT)
    await user.wait_for_event(
        new_room,
        notice_from(BOT, f"{UPGRADED} {room_id}: carried over 1 connection (1 generic)."),
        timeout=20,
    )
    marker = f"after the invite {uuid.uuid4().hex[:6]}"
    await _post(url, marker)
    await user.wait_for_event(new_room, notice_from(hook_user, marker))
    assert not [e for e in await user.messages(room_id) if _body_is(marker)(e)]


async def test_admin_room_follows_its_upgrade(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    dm = await user.create_room(invite=[BOT], is_direct=True, preset="trusted_private_chat")
    await user.wait_for_event(dm, notice_from(BOT, "Hello! This is your admin room"), timeout=20)

    new_dm = await _upgrade(user, dm)
    await user.wait_for_event(dm, notice_from(BOT, f"This room was upgraded to {new_dm}, but"))
    await user.invite(new_dm, BOT)
    await user.wait_for_event(
        new_dm,
        notice_from(
            BOT,
            f"{UPGRADED} {dm}: carried over 0 connections. This is now {user.user_id}'s admin "
            "room with the bridge.",
        ),
        timeout=20,
    )
    # Secrets now arrive in the new admin room.
    room_id = await room_with_bot(user, BOT)
    name = f"dm{uuid.uuid4().hex[:6]}"
    await command(user, room_id, f"!hookshot webhook {name}")
    await user.wait_for_event(
        new_dm, notice_from(BOT, f'You have bridged the webhook "{name}"'), timeout=20
    )
    assert not [
        e
        for e in await user.messages(dm)
        if notice_from(BOT, f'You have bridged the webhook "{name}"')(e)
    ]


async def test_upgrade_while_the_bridge_is_down(
    spare_bridge: BridgeProcess, synapse: LocalSynapse, spare_admin_login: tuple[str, str]
) -> None:
    """The tombstone reaches a restarted bridge twice (at start, from room state, and in the
    transaction the homeserver held); the room is carried over once."""
    async with MatrixUser(synapse.base_url, *spare_admin_login) as admin:
        room_id = await room_with_bot(admin, SPARE_BOT, preset="public_chat")
        names = [f"dn{uuid.uuid4().hex[:6]}", f"dn{uuid.uuid4().hex[:6]}"]
        urls = [await create_webhook(admin, room_id, SPARE_BOT, n) for n in names]
        spare_bridge.stop()
        try:
            new_room = await _upgrade(admin, room_id)
        finally:
            spare_bridge.start()
        await admin.wait_for_membership(new_room, SPARE_BOT, timeout=30)
        await admin.wait_for_event(
            new_room,
            notice_from(SPARE_BOT, f"{UPGRADED} {room_id}: carried over 2 connections"),
            timeout=30,
        )
        # The held tombstone came before this command in the old room: handled by now.
        await admin.send_text(room_id, "!hookshot help")
        await admin.wait_for_event(
            room_id, notice_from(SPARE_BOT, f"This room was upgraded: I answer in {new_room}")
        )
        for name, url in zip(names, urls, strict=True):
            marker = f"{name} after restart"
            await _post(url, marker)
            await admin.wait_for_event(
                new_room, notice_from(f"@_sparehooks_{name}:localhost", marker)
            )
        events = await admin.messages(new_room, limit=200)
        assert sorted(_state_events(events, HOOK)) == sorted(names)
        assert len([e for e in events if notice_from(SPARE_BOT, UPGRADED)(e)]) == 1


async def test_outbound_hook_keeps_its_token(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT, preset="public_chat")
    name = f"ob{uuid.uuid4().hex[:6]}"
    with Receiver() as receiver:
        await command(user, room_id, f"!hookshot outbound-hook {name} {receiver.url}")
        dm = await admin_room(user, BOT)
        notice = await user.wait_for_event(
            dm, notice_from(BOT, f'You have bridged the webhook "{name}"')
        )
        token = notice["content"]["body"].split("`")[1]
        new_room = await _upgrade(user, room_id)
        await user.wait_for_event(
            new_room,
            notice_from(BOT, f"{UPGRADED} {room_id}: carried over 1 connection (1 outbound hook)."),
            timeout=20,
        )
        event_id = await user.send_text(new_room, "deploy from the new room")
        for _ in range(200):
            if receiver.requests:
                break
            await asyncio.sleep(0.1)
    assert len(receiver.requests) == 1, receiver.requests
    got = receiver.requests[0]
    assert got.headers["x-matrix-hookshot-roomid"] == new_room
    assert got.headers["x-matrix-hookshot-eventid"] == event_id
    assert got.headers["x-matrix-hookshot-token"] == token
