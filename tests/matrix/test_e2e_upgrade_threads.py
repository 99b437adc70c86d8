"""Threads across a room upgrade in a real Synapse: a generic hook's subject has a thread in
the old room; after the room admin upgrades the room, the subject's next message starts a new
thread in the new room whose root links the old root, and follow-ups join that new thread. A
subject whose old root was redacted starts a plain thread. A GitHub PR's root update (its CI
summary) after the upgrade posts the linked root, and its CI reaction lands on that. An upgrade
followed before the bridge recorded predecessors is found again at its next start."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx
from conftest import GITHUB_SECRET, UserFactory
from support.flows import create_webhook, notice_from, room_with_bot
from support.github_hooks import deliver, payload, threaded_repo
from support.threads import latest_edit, reactions_by, relations, until

from hookshot.core.queue import SqliteQueue
from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
CONTINUES = "org.hookshot-python.thread.continues"
FN = (
    'result = {version: "v2", plain: `${data.subject}: ${data.text}`,'
    " threadKey: data.subject, threadEditRoot: data.done === true};"
)


async def _upgrade(user: MatrixUser, room_id: str) -> str:
    create = await user.get_state(room_id, "m.room.create") or {}
    body = await user.request(
        "POST",
        f"/rooms/{quote(room_id)}/upgrade",
        json_body={"new_version": create.get("room_version", "12")},
    )
    return str(body["replacement_room"])


async def _threaded_hook(user: MatrixUser) -> tuple[str, str, str]:
    """A public room (the bot joins its replacement by itself) with a hook threading by
    subject: (room, URL, the hook's sender)."""
    room_id = await room_with_bot(user, BOT, preset="public_chat")
    name = f"ut{uuid.uuid4().hex[:6]}"
    url = await create_webhook(user, room_id, BOT, name)
    current = await user.get_state(room_id, HOOK, name)
    assert current is not None
    await user.send_state(room_id, HOOK, name, {**current, "transformationFunction": FN})
    await user.send_text(room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(BOT, "Webhooks configured:"))
    return room_id, url, f"@_webhooks_{name}:localhost"


async def _root(user: MatrixUser, room_id: str, sender: str, starts: str) -> dict[str, Any]:
    """The hook's message starting with `starts` that is not in a thread (a root)."""

    async def find() -> dict[str, Any] | None:
        for event in await user.messages(room_id):
            content = event.get("content", {})
            if (
                event.get("sender") == sender
                and str(content.get("body", "")).startswith(starts)
                and "m.relates_to" not in content
            ):
                return event
        return None

    found: dict[str, Any] = await until(find, f"a root {starts!r} in {room_id}")
    return found


async def _thread_bodies(user: MatrixUser, room_id: str, root: str, count: int) -> list[str]:
    async def read() -> list[str] | None:
        events = await relations(user, room_id, root, "m.thread")
        bodies = [e["content"]["body"] for e in events if e["type"] == "m.room.message"]
        return bodies if len(bodies) >= count else None

    got: list[str] = await until(read, f"{count} messages in the thread of {root}")
    return got


async def test_a_subjects_thread_continues_in_the_upgraded_room(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id, url, sender = await _threaded_hook(user)

    async with httpx.AsyncClient() as http:

        async def post(subject: str, text: str, **extra: Any) -> None:
            body = {"subject": subject, "text": text, **extra}
            assert (await http.post(url, json=body)).status_code == 202

        await post("s", "first")
        await post("s", "second")
        await post("gone", "first")
        old_root = (await _root(user, room_id, sender, "s: first"))["event_id"]
        assert await _thread_bodies(user, room_id, old_root, 1) == ["s: second"]
        gone_root = (await _root(user, room_id, sender, "gone: first"))["event_id"]
        await user.request(
            "PUT",
            f"/rooms/{quote(room_id)}/redact/{quote(gone_root)}/{uuid.uuid4().hex}",
            json_body={},
        )

        new_room = await _upgrade(user, room_id)
        await user.wait_for_event(
            new_room, notice_from(BOT, "This room was upgraded from"), timeout=20
        )

        await post("s", "after the upgrade")
        root = await _root(user, new_room, sender, "s: after the upgrade")
        permalink = f"https://matrix.to/#/{quote(room_id, safe='!')}/{quote(old_root, safe='')}"
        content = root["content"]
        assert content["body"].startswith("s: after the upgrade\n\n↩ ")
        assert content["body"].endswith(permalink)
        assert content["format"] == "org.matrix.custom.html"
        assert f'<a href="{permalink}">' in content["formatted_body"]
        assert content[CONTINUES] == {"room_id": room_id, "event_id": old_root}

        # Follow-ups join the new room's thread, and the root's edit keeps the link.
        await post("s", "follow-up")
        await post("s", "closed", done=True)
        new_root = root["event_id"]
        assert await _thread_bodies(user, new_room, new_root, 2) == ["s: follow-up", "s: closed"]

        async def edited() -> str:
            return await latest_edit(user, new_room, new_root)

        edit = await until(edited, "the new root's edit")
        assert edit.startswith("s: closed\n\n↩ ") and edit.endswith(permalink)
        # Nothing more went into the old room's thread.
        assert await _thread_bodies(user, room_id, old_root, 1) == ["s: second"]

        # The subject whose old root was redacted starts a plain thread.
        await post("gone", "again")
        plain = await _root(user, new_room, sender, "gone: again")
        assert plain["content"]["body"] == "gone: again"
        assert CONTINUES not in plain["content"]


async def test_a_pull_requests_root_update_after_the_upgrade_posts_the_linked_root(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT, preset="public_chat")
    org, repo = await threaded_repo(user, room_id, BOT)

    async with httpx.AsyncClient() as http:
        github = partial(deliver, http, bridge, GITHUB_SECRET)
        await github("pull_request", payload("pull_request.opened.1.json", org, repo))
        old_root = str((await user.wait_for_event(room_id, notice_from(BOT, "🔵")))["event_id"])

        new_room = await _upgrade(user, room_id)
        await user.wait_for_event(
            new_room, notice_from(BOT, "This room was upgraded from"), timeout=20
        )
        # With ciReactions a failing check posts no notice: it edits the root's CI summary and
        # reacts. The edit has no root in the new room, so it becomes the linked root there.
        await github("check_run", payload("check_run.completed.1.json", org, repo))

        async def linked_root() -> dict[str, Any] | None:
            for event in await user.messages(new_room):
                if event.get("sender") == BOT and CONTINUES in event.get("content", {}):
                    return event
            return None

        root = await until(linked_root, "the linked root in the new room")
        content = root["content"]
        assert content[CONTINUES] == {"room_id": room_id, "event_id": old_root}
        assert content["body"].startswith("🔵") and "CI: ❌ 1 failed" in content["body"]
        assert "m.relates_to" not in content
        new_root = str(root["event_id"])

        async def reacted() -> bool:
            return await reactions_by(user, new_room, new_root, BOT) == ["❌"]

        await until(reacted, "❌ on the new root")
        comment = payload("issue_comment.created.1.json", org, repo)
        comment["issue"].update(number=2, pull_request={"merged_at": None})
        await github("issue_comment", comment)

        async def commented() -> list[str] | None:
            events = await relations(user, new_room, new_root, "m.thread")
            bodies = [e["content"]["body"] for e in events if e["type"] == "m.room.message"]
            return bodies or None

        assert (await until(commented, "the comment in the new thread"))[0].startswith("🗣")
    # The old room got none of it (no reaction, edit or comment): the PR lives in the new room.
    assert await reactions_by(user, room_id, old_root, BOT) == []
    assert await latest_edit(user, room_id, old_root) == ""
    assert not [
        e
        for e in await user.messages(room_id)
        if str(e.get("content", {}).get("body", "")).startswith("🗣")
    ]


async def test_an_upgrade_followed_without_a_record_is_found_again_at_the_next_start(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id, url, sender = await _threaded_hook(user)
    async with httpx.AsyncClient() as http:
        resp = await http.post(url, json={"subject": "s", "text": "first"})
        assert resp.status_code == 202
        old_root = (await _root(user, room_id, sender, "s: first"))["event_id"]
        new_room = await _upgrade(user, room_id)
        await user.wait_for_event(
            new_room, notice_from(BOT, "This room was upgraded from"), timeout=20
        )
        # As if an older version had followed the upgrade: no predecessor record.
        bridge.stop()
        store = await SqliteQueue.open(bridge.files.root / "hookshot.db")
        try:
            await store.set_value(f"predecessor:{new_room}", "", ttl=-1)
            assert await store.get_value(f"predecessor:{new_room}") is None
        finally:
            await store.close()
        bridge.start()
        # The start finds the old room's upgrade marker and records its successor again.
        resp = await http.post(url, json={"subject": "s", "text": "after the restart"})
        assert resp.status_code == 202
        root = await _root(user, new_room, sender, "s: after the restart")
    assert root["content"][CONTINUES] == {"room_id": room_id, "event_id": old_root}
