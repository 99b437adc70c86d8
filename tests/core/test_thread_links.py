"""A thread root continuing one from before a room upgrade: the link line (pure), and how
`Threads` plans a subject's messages in a room that replaced another (a fake homeserver over
a memory ValueStore)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from hookshot.core.lineage import Lineage
from hookshot.core.queue import MemoryQueue
from hookshot.core.thread_links import LINK_TEXT, Link, linked
from hookshot.core.threads import Root, ThreadAction, ThreadRef, Threads
from hookshot.errors import MatrixError
from hookshot.matrix.client import MatrixClient

OLD, NEW = "!old:hs", "!new:hs"
KEY = "github:o/r#1"
LINK = "https://matrix.to/#/!old%3Ahs/%24root"


def test_permalink_percent_encodes_the_ids() -> None:
    assert Link(OLD, "$root").permalink == LINK
    assert Link("!opaque", "$a+b/c").permalink == "https://matrix.to/#/!opaque/%24a%2Bb%2Fc"


def test_plain_content_gets_the_link_in_body_and_escaped_html() -> None:
    out = linked({"msgtype": "m.notice", "body": "a <b> & c\nnext"}, Link(OLD, "$root"))
    assert out["body"] == f"a <b> & c\nnext\n\n↩ {LINK_TEXT}: {LINK}"
    assert out["format"] == "org.matrix.custom.html"
    assert out["formatted_body"] == (
        f'a &lt;b&gt; &amp; c<br>next<br><br>↩ <a href="{LINK}">{LINK_TEXT}</a>'
    )
    assert out["msgtype"] == "m.notice"
    assert out["org.hookshot-python.thread.continues"] == {"room_id": OLD, "event_id": "$root"}


def test_html_content_keeps_its_html_and_the_href_is_escaped() -> None:
    content = {"body": "x", "format": "org.matrix.custom.html", "formatted_body": "<b>x</b>"}
    out = linked(content, Link('!o"d', "$r&s"))
    assert out["formatted_body"].startswith("<b>x</b><br><br>↩ <a href=")
    assert 'href="https://matrix.to/#/!o%22d/%24r%26s"' in out["formatted_body"]
    assert content["formatted_body"] == "<b>x</b>"  # not changed in place


def test_a_message_that_is_not_text_only_names_the_old_root() -> None:
    image = {"msgtype": "m.image", "body": "graph.png", "url": "mxc://hs/abc"}
    out = linked(image, Link(OLD, "$root"))
    assert out == {
        **image,
        "org.hookshot-python.thread.continues": {"room_id": OLD, "event_id": "$root"},
    }


class FakeHomeserver:
    """`get_event` over events by id; a missing id is a 404, a redacted one has no content."""

    def __init__(self) -> None:
        self.events: dict[str, dict[str, Any]] = {}

    async def get_event(self, room_id: str, event_id: str) -> dict[str, Any]:
        if event_id not in self.events:
            raise MatrixError(404, "M_NOT_FOUND", "no such event")
        return self.events[event_id]


@pytest.fixture
async def setup() -> tuple[Threads, FakeHomeserver, MemoryQueue]:
    store = MemoryQueue()
    hs = FakeHomeserver()
    return Threads(cast(MatrixClient, hs), store), hs, store


def _payload(body: str) -> dict[str, Any]:
    return {"content": {"msgtype": "m.notice", "body": body}}


async def _old_thread(threads: Threads, hs: FakeHomeserver, store: MemoryQueue) -> None:
    """A subject whose thread root $root is in OLD, and NEW replacing OLD."""
    planned = await threads.plan(OLD, ThreadRef(KEY), _payload("root"), None, "t0")
    assert planned is not None and planned.root is None
    await threads.sent(OLD, planned, "$root", "t0")
    hs.events["$root"] = {"content": {"body": "root"}}
    await Lineage(store).record(NEW, OLD)


async def test_first_post_in_the_new_room_starts_a_linked_root(
    setup: tuple[Threads, FakeHomeserver, MemoryQueue],
) -> None:
    threads, hs, store = setup
    await _old_thread(threads, hs, store)
    planned = await threads.plan(NEW, ThreadRef(KEY), _payload("note"), "@u:hs", "t1")
    assert planned is not None and planned.root is None
    assert planned.content["body"] == f"note\n\n↩ {LINK_TEXT}: {LINK}"
    assert planned.sender == "@u:hs"
    await threads.sent(NEW, planned, "$new", "t1")
    hs.events["$new"] = {"content": planned.content}
    # A redelivery of that root job finds the same, linked root again.
    again = await threads.plan(NEW, ThreadRef(KEY), _payload("note"), "@u:hs", "t1")
    assert again is not None and again.content == planned.content and again.root is None
    # From then on the new room's root is the subject's root.
    follow = await threads.plan(NEW, ThreadRef(KEY), _payload("more"), "@u:hs", "t2")
    assert follow is not None and follow.root is not None
    assert follow.content["m.relates_to"]["event_id"] == "$new"
    assert follow.content["body"] == "more"
    await threads.sent(NEW, follow, "$more", "t2")
    # Edits of the new root keep its link line.
    edit = await threads.plan(
        NEW, ThreadRef(KEY, ThreadAction.EDIT_ROOT), _payload("state"), None, "t3"
    )
    assert edit is not None and edit.sender == "@u:hs"
    assert edit.content["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$new"}
    assert edit.content["m.new_content"]["body"] == f"state\n\n↩ {LINK_TEXT}: {LINK}"
    await threads.sent(NEW, edit, "$edit", "t3")
    record = Root.decode(await store.get_value(f"thread:{NEW}:{KEY}"))
    assert record == Root("$new", "@u:hs", "$more", "t1", None, OLD, "$root")


async def test_a_root_edit_with_the_root_in_the_old_room_posts_a_linked_root(
    setup: tuple[Threads, FakeHomeserver, MemoryQueue],
) -> None:
    threads, hs, store = setup
    await _old_thread(threads, hs, store)
    ref = ThreadRef(KEY, ThreadAction.EDIT_ROOT)
    planned = await threads.plan(NEW, ref, _payload("🔵 PR #1"), None, "t1")
    assert planned is not None and planned.root is None
    assert "m.relates_to" not in planned.content
    assert planned.content["body"].startswith("🔵 PR #1\n\n↩ ")
    await threads.sent(NEW, planned, "$new", "t1")
    hs.events["$new"] = {"content": planned.content}
    react = ThreadRef(KEY, ThreadAction.REACT, reaction="✅")
    reacted = await threads.plan(NEW, react, {"content": {}}, None, "t2")
    assert reacted is not None and reacted.content["m.relates_to"]["event_id"] == "$new"


async def test_a_reaction_without_a_root_in_the_new_room_is_dropped(
    setup: tuple[Threads, FakeHomeserver, MemoryQueue],
) -> None:
    threads, hs, store = setup
    await _old_thread(threads, hs, store)
    react = ThreadRef(KEY, ThreadAction.REACT, reaction="✅")
    assert await threads.plan(NEW, react, {"content": {}}, None, "t1") is None


async def test_a_redacted_old_root_starts_a_plain_thread(
    setup: tuple[Threads, FakeHomeserver, MemoryQueue],
) -> None:
    threads, hs, store = setup
    await _old_thread(threads, hs, store)
    hs.events["$root"] = {"content": {}, "unsigned": {"redacted_because": {}}}
    planned = await threads.plan(NEW, ThreadRef(KEY), _payload("note"), None, "t1")
    assert planned is not None and planned.content == _payload("note")["content"]
    assert planned.link is None
    edit = ThreadRef(KEY, ThreadAction.EDIT_ROOT)
    assert await threads.plan(NEW, edit, _payload("x"), None, "t2") is None


async def test_a_redacted_root_in_the_new_room_does_not_link_back(
    setup: tuple[Threads, FakeHomeserver, MemoryQueue],
) -> None:
    threads, hs, store = setup
    await _old_thread(threads, hs, store)
    planned = await threads.plan(NEW, ThreadRef(KEY), _payload("note"), None, "t1")
    assert planned is not None
    await threads.sent(NEW, planned, "$new", "t1")  # $new is unknown to the homeserver: gone
    again = await threads.plan(NEW, ThreadRef(KEY), _payload("later"), None, "t2")
    assert again is not None and again.root is None and again.link is None
    assert again.content["body"] == "later"


async def test_the_nearest_predecessor_with_a_record_is_linked(
    setup: tuple[Threads, FakeHomeserver, MemoryQueue],
) -> None:
    threads, hs, store = setup
    await _old_thread(threads, hs, store)
    await Lineage(store).record("!newer:hs", NEW)  # NEW never saw the subject
    planned = await threads.plan("!newer:hs", ThreadRef(KEY), _payload("n"), None, "t1")
    assert planned is not None and planned.link == Link(OLD, "$root")
    # A room with no predecessor, and another subject, start plain threads.
    plain = await threads.plan("!other:hs", ThreadRef(KEY), _payload("n"), None, "t2")
    assert plain is not None and plain.link is None
    other = await threads.plan(NEW, ThreadRef("other"), _payload("n"), None, "t3")
    assert other is not None and other.link is None


def test_old_records_without_a_link_still_decode() -> None:
    old = '{"root":"$r","sender":null,"last":"$l","txn":"t","reaction":null}'
    root = Root.decode(old)
    assert root == Root("$r", None, "$l", "t") and root.link is None
