"""An admin DM says one thing at a time: when the bot opens it to hand over a secret, the
secret is its first message; when the user opens it while a command runs, the greeting
(which has no code block) comes first and the secret is the room's first code block."""

from __future__ import annotations

import re
from typing import Any

from conftest import UserFactory
from support.flows import admin_room, command, notice_from, room_with_bot
from support.receiver import Receiver

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
TOKEN_NOTICE = 'You have bridged the webhook "{}"'
FIRST_CODE = re.compile(r"<code>(.*?)</code>")


async def _bot_messages(user: MatrixUser, room_id: str) -> list[dict[str, Any]]:
    events = await user.messages(room_id, limit=100)
    return [e["content"] for e in events if e["type"] == "m.room.message" and e["sender"] == BOT]


async def test_first_message_in_a_dm_the_bot_opens_is_the_token(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    with Receiver() as receiver:
        await command(user, room_id, f"!hookshot outbound-hook firstdm {receiver.url}")
    dm = await admin_room(user, BOT)
    await user.wait_for_event(dm, notice_from(BOT, TOKEN_NOTICE.format("firstdm")))
    first = (await _bot_messages(user, dm))[0]
    assert first["body"].startswith(TOKEN_NOTICE.format("firstdm"))
    found = FIRST_CODE.search(first["formatted_body"])
    assert found is not None and found.group(1).startswith("hs-ob-")


async def test_a_dm_the_user_opens_during_a_command_shows_the_token_first(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    with Receiver() as receiver:
        # The invite and the command reach the bridge together (different rooms run in
        # parallel); whichever is handled first, the DM's first code block is the token.
        dm = await user.create_room(invite=[BOT], is_direct=True)
        await command(user, room_id, f"!hookshot outbound-hook userdm {receiver.url}")
    # The command is done (✅): had it opened a DM of its own, the invite exists by now.
    try:
        holder = await user.wait_for_invite(timeout=1.0, inviter=lambda s: s == BOT)
        await user.join(holder)
    except AssertionError:
        holder = dm
    await user.wait_for_event(holder, notice_from(BOT, TOKEN_NOTICE.format("userdm")))
    codes = [
        found.group(1)
        for content in await _bot_messages(user, holder)
        if (found := FIRST_CODE.search(str(content.get("formatted_body", ""))))
    ]
    assert codes and codes[0].startswith("hs-ob-"), codes
