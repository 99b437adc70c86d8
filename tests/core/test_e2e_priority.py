"""Connections answer room commands in priority order (highest first, unset = -1)."""

from __future__ import annotations

import asyncio

from conftest import UserFactory
from support.flows import command, notice_from, room_with_bot

from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
GITHUB = "uk.half-shot.matrix-hookshot.github.repository"


async def test_higher_priority_connection_answers_first(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    await user.send_state(
        room_id, GITHUB, "acme/one", {"org": "acme", "repo": "one", "priority": 5}
    )
    await user.send_state(
        room_id, GITHUB, "acme/two", {"org": "acme", "repo": "two", "priority": 10}
    )
    await user.send_state(room_id, GITHUB, "acme/three", {"org": "acme", "repo": "three"})
    await command(user, room_id, "!gh help")
    await user.wait_for_event(room_id, notice_from(BOT, "Commands for acme/two:"))

    await user.send_state(
        room_id, GITHUB, "acme/one", {"org": "acme", "repo": "one", "priority": 20}
    )
    await command(user, room_id, "!gh help")
    await user.wait_for_event(room_id, notice_from(BOT, "Commands for acme/one:"))

    await asyncio.sleep(1.0)  # a second answer to either command would have arrived by now
    answers = [
        e["content"]["body"].splitlines()[0]
        for e in await user.messages(room_id)
        if notice_from(BOT, "Commands for")(e)
    ]
    assert answers == ["Commands for acme/two:", "Commands for acme/one:"]


async def test_connection_prefix_does_not_shadow_setup_commands(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    await user.send_state(
        room_id, GITHUB, "acme/custom", {"org": "acme", "repo": "custom", "commandPrefix": "!acme"}
    )
    await command(user, room_id, "!acme help")
    await user.wait_for_event(room_id, notice_from(BOT, "Commands for acme/custom:"))
    await command(user, room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(BOT, "No webhooks configured"))
