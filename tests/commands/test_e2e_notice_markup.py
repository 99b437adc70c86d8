"""Walk the webhook commands as a room admin would and read every bot notice they cause:
one with markup carries its HTML, durations read as hookshot words them."""

from __future__ import annotations

from typing import Any

from conftest import UserFactory
from support.flows import admin_room, command, notice_from, room_with_bot

from hookshot.core.markdown import has_markup, render_markdown
from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"


async def _notices(user: MatrixUser, room_id: str) -> list[dict[str, Any]]:
    events = await user.messages(room_id, limit=200)
    return [
        e["content"]
        for e in events
        if e["type"] == "m.room.message"
        and e["sender"] == BOT
        and e["content"].get("msgtype") == "m.notice"
    ]


async def test_every_notice_with_markup_has_html(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    await command(user, room_id, "!hookshot webhook list")
    empty = await user.wait_for_event(room_id, notice_from(BOT, "No webhooks configured"))
    # hookshot's sendHtmlNotice(md.renderInline(...)): HTML even without markup.
    assert empty["content"]["formatted_body"] == "No webhooks configured"
    assert empty["content"]["format"] == "org.matrix.custom.html"

    await command(user, room_id, "!hookshot webhook walker 2d")
    dm = await admin_room(user, BOT)
    created = await user.wait_for_event(dm, notice_from(BOT, 'You have bridged the webhook "walk'))
    assert "\nIt expires in 2 days, at " in created["content"]["body"]

    await command(user, room_id, "!hookshot webhook shorty 30m", ok=False)
    await user.wait_for_event(
        room_id,
        notice_from(
            BOT, "Failed to handle command: Expiration date must at least be a hour in the future"
        ),
    )
    await command(user, room_id, "!hookshot webhook badtime 3x", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: Duration could not be parsed")
    )
    for text, ok in [
        ("!hookshot help", True),
        ("!hookshot webhook list", True),
        ("!hookshot webhook secret walker", True),
        ("!hookshot webhook secret walker maybe", False),
        ("!hookshot webhook log walker", True),
        ("!hookshot webhook remove walker", True),
        ("!hookshot webhook two words here", False),
    ]:
        await command(user, room_id, text, ok=ok)
    await user.wait_for_event(dm, notice_from(BOT, "Recent requests to the webhook"))

    checked = 0
    for content in [*await _notices(user, room_id), *await _notices(user, dm)]:
        body = str(content["body"])
        if has_markup(body, render_markdown(body)):
            checked += 1
            assert content.get("format") == "org.matrix.custom.html", content
            assert content.get("formatted_body"), content
    # help, the list, the secret notices, the refused `maybe`, the log, the removal.
    assert checked >= 6
