"""What a user does with the bridge, step by step, against the real homeserver."""

from __future__ import annotations

import asyncio
from typing import Any

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse

JsonDict = dict[str, Any]


def is_reaction(event: JsonDict, target: str, key: str) -> bool:
    rel = event.get("content", {}).get("m.relates_to", {})
    return (
        event.get("type") == "m.reaction"
        and rel.get("event_id") == target
        and rel.get("key") == key
    )


def notice_from(sender: str, startswith: str = "") -> Any:
    def match(event: JsonDict) -> bool:
        content = event.get("content", {})
        return (
            event.get("type") == "m.room.message"
            and event.get("sender") == sender
            and content.get("msgtype") == "m.notice"
            and str(content.get("body", "")).startswith(startswith)
        )

    return match


async def room_with_bot(user: MatrixUser, bot: str, *, bot_level: int = 50, **kwargs: Any) -> str:
    """Create a room, invite the bot as a moderator (as the docs say), wait until it joined."""
    kwargs.setdefault("power_level_content_override", {"users": {bot: bot_level}})
    room_id = await user.create_room(invite=[bot], **kwargs)
    await user.wait_for_membership(room_id, bot)
    return room_id


async def command(user: MatrixUser, room_id: str, text: str, ok: bool = True) -> str:
    """Send a command and wait for the bot's ✅ (or ⛔ when ok=False); returns its event id."""
    event_id = await user.send_text(room_id, text)
    key = "✅" if ok else "⛔"
    await user.wait_for_event(room_id, lambda e: is_reaction(e, event_id, key), timeout=20)
    return event_id


async def admin_room(user: MatrixUser, bot: str) -> str:
    """The user's DM with the bot: joined on first use (invite), else already joined."""
    for room_id in await user.joined_rooms():
        create = await user.get_state(room_id, "m.room.create")
        state = await user.room_state(room_id)
        creator = next(e["sender"] for e in state if e["type"] == "m.room.create")
        if create is not None and creator == bot:
            return room_id
    room_id = await user.wait_for_invite(timeout=20, inviter=lambda s: s == bot)
    await user.join(room_id)
    return room_id


async def create_webhook(user: MatrixUser, room_id: str, bot: str, name: str, *extra: str) -> str:
    """`!hookshot webhook <name>` and read the secret URL from the admin room."""
    await command(user, room_id, " ".join(["!hookshot webhook", name, *extra]))
    dm = await admin_room(user, bot)
    event = await user.wait_for_event(
        dm,
        lambda e: notice_from(bot, f'You have bridged the webhook "{name}"')(e),
        timeout=20,
    )
    url = str(event["content"]["body"]).splitlines()[-1]
    assert url.startswith("http"), event
    return url


async def count_markers(
    synapse: LocalSynapse,
    user: MatrixUser,
    room_id: str,
    markers: list[str],
    timeout: float,
    settle: float = 0.0,
) -> list[str]:
    """Poll (with a fresh client: the homeserver may have restarted) until every marker
    arrived or time is up; returns the marker bodies in room order. With `settle`, looks
    again that long after the last one arrived, so late duplicates are counted too."""
    wanted = set(markers)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with MatrixUser(synapse.base_url, user.user_id, user.access_token) as reader:
        while True:
            events = await reader.messages(room_id, limit=1000)
            bodies = [str(e.get("content", {}).get("body")) for e in events]
            seen = [b for b in bodies if b in wanted]
            if set(seen) == wanted or loop.time() > deadline:
                if settle <= 0:
                    return seen
                await asyncio.sleep(settle)
                settle = 0.0
                continue
            await asyncio.sleep(0.5)
