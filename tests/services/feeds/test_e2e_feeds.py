"""Feeds end to end: `!hookshot feed` in a room of a real Synapse, the running bridge reading a
feed served on loopback (the main bridge sets `feeds.allowPrivateTargets` for this), entries
arriving as the feed changes, `feed list` and `feed remove`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from conftest import UserFactory
from support.feed_server import FeedServer, rss
from support.flows import command, notice_from, room_with_bot
from support.paths import CORPORA

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
FEED = "uk.half-shot.matrix-hookshot.feed"


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


async def _bodies(user: MatrixUser, room_id: str, start: str) -> list[str]:
    return [
        str(e["content"]["body"])
        for e in await user.messages(room_id)
        if e.get("sender") == BOT and str(e.get("content", {}).get("body", "")).startswith(start)
    ]


async def test_subscribe_read_new_entries_list_and_remove(
    bridge: BridgeProcess, new_user: UserFactory, feeds: FeedServer
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    path = f"{uuid.uuid4().hex}.xml"
    url = feeds.publish(path, rss(("b", "Second"), ("a", "First")))

    await command(user, room_id, f"!hookshot feed {url} Blog")
    await user.wait_for_event(room_id, notice_from(BOT, f"Room subscribed to Blog ({url})."))
    assert await user.get_state(room_id, FEED, url) == {"url": url, "label": "Blog"}
    # The first read posts the latest entry only.
    await user.wait_for_event(room_id, notice_from(BOT, "New post in Blog: [Second]"))

    feeds.publish(path, rss(("d", "Fourth"), ("c", "Third"), ("b", "Second"), ("a", "First")))
    await user.wait_for_event(room_id, notice_from(BOT, "New post in Blog: [Fourth]"))
    assert await _bodies(user, room_id, "New post") == [
        "New post in Blog: [Second](https://blog.test/b)",
        "New post in Blog: [Third](https://blog.test/c)",
        "New post in Blog: [Fourth](https://blog.test/d)",
    ]

    await command(user, room_id, "!hookshot feed list")
    await user.wait_for_event(
        room_id,
        notice_from(BOT, f"This room is subscribed to the following feeds:\n - Blog: {url}"),
    )
    await command(user, room_id, f"!hookshot feed remove {url}")
    await user.wait_for_event(room_id, notice_from(BOT, f"Unsubscribed from {url}."))
    assert await user.get_state(room_id, FEED, url) == {}
    await command(user, room_id, "!hookshot feed list")
    await user.wait_for_event(room_id, notice_from(BOT, "Not subscribed to any feeds"))


async def test_what_is_not_a_feed_is_refused_when_set(
    bridge: BridgeProcess, new_user: UserFactory, feeds: FeedServer
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    bomb = feeds.publish("bomb.xml", (CORPORA / "feeds" / "rss20-billion-laughs.xml").read_bytes())
    page = feeds.publish("page.html", b"<html><body>hi</body></html>", content_type="text/html")
    cases = [
        (
            f"!hookshot feed {bomb}",
            "Could not read feed from URL: Not read: the document declares a DTD",
        ),
        (f"!hookshot feed {page}", "Could not read feed from URL: Not a feed"),
        ("!hookshot feed ftp://example.org/feed", "Feed URL doesn't appear valid"),
        (
            f"!hookshot feed {feeds.url}/missing.xml",
            "Could not read feed from URL: the server answered 404",
        ),
    ]
    for text, error in cases:
        await command(user, room_id, text, ok=False)
        await user.wait_for_event(room_id, notice_from(BOT, f"Failed to handle command: {error}"))
    assert not [e for e in await user.room_state(room_id) if e["type"] == FEED]
