"""Threads per subject for generic hooks against the real Synapse: a transformation's
`threadKey` groups messages, Alertmanager alerts thread by fingerprint and the resolved one
edits the root; the mapping survives a bridge restart and a redacted root starts anew."""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx
from conftest import UserFactory
from support.flows import create_webhook, notice_from, room_with_bot
from support.paths import CORPORA

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
FN = (
    'result = {version: "v2", plain: `${data.subject}: ${data.text}`,'
    " threadKey: data.subject, threadEditRoot: data.done === true};"
)


async def _hook(user: MatrixUser, name: str, **state: Any) -> tuple[str, str, str]:
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, name)
    current = await user.get_state(room_id, HOOK, name)
    assert current is not None
    await user.send_state(room_id, HOOK, name, {**current, **state})
    await user.send_text(room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(BOT, "Webhooks configured:"))
    return room_id, url, f"@_webhooks_{name}:localhost"


async def _thread(user: MatrixUser, room_id: str, root: str) -> list[dict[str, Any]]:
    """The thread's events as the homeserver relates them, oldest first."""
    path = f"/_matrix/client/v1/rooms/{quote(room_id)}/relations/{quote(root)}/m.thread"
    body = await user.request("GET", path, params={"limit": 50, "dir": "f"})
    return list(body["chunk"])


async def _event(user: MatrixUser, room_id: str, event_id: str) -> dict[str, Any]:
    path = f"/rooms/{quote(room_id)}/event/{quote(event_id)}"
    event: dict[str, Any] = await user.request("GET", path)
    return event


async def _until(check: Any, what: str, timeout: float = 20.0) -> Any:
    """Poll `check()` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def _posts(events: list[dict[str, Any]], sender: str) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if e.get("sender") == sender
        and e["type"] == "m.room.message"
        and e["content"].get("m.relates_to", {}).get("rel_type") != "m.replace"
    ]


async def _root_of(user: MatrixUser, room_id: str, sender: str, body: str) -> str:
    async def find() -> str | None:
        for e in _posts(await user.messages(room_id), sender):
            if e["content"].get("body") == body and "m.relates_to" not in e["content"]:
                return str(e["event_id"])
        return None

    return str(await _until(find, f"root {body!r}"))


async def _thread_bodies(user: MatrixUser, room_id: str, root: str, count: int) -> list[str]:
    async def read() -> list[str] | None:
        events = [e for e in await _thread(user, room_id, root) if e["type"] == "m.room.message"]
        return [e["content"]["body"] for e in events] if len(events) >= count else None

    return list(await _until(read, f"{count} messages in the thread of {root}"))


async def test_transformation_thread_key_groups_messages(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id, url, sender = await _hook(
        user, "thr" + uuid.uuid4().hex[:5], transformationFunction=FN
    )
    async with httpx.AsyncClient() as http:
        for subject, text in [("a", "one"), ("b", "uno"), ("a", "two"), ("a", "three")]:
            assert (await http.post(url, json={"subject": subject, "text": text})).is_success
        root_a = await _root_of(user, room_id, sender, "a: one")
        root_b = await _root_of(user, room_id, sender, "b: uno")
        assert await _thread_bodies(user, room_id, root_a, 2) == ["a: two", "a: three"]
        # Each follow-up falls back to a reply to the latest event for clients without threads.
        thread = await _thread(user, room_id, root_a)
        relation = thread[1]["content"]["m.relates_to"]
        assert relation["rel_type"] == "m.thread" and relation["event_id"] == root_a
        assert relation["is_falling_back"] is True
        assert relation["m.in_reply_to"] == {"event_id": thread[0]["event_id"]}
        assert await _thread(user, room_id, root_b) == []
        # Done: posted in the thread and the root edited to it.
        assert (
            await http.post(url, json={"subject": "a", "text": "closed", "done": True})
        ).is_success
        assert (await _thread_bodies(user, room_id, root_a, 3))[-1] == "a: closed"

        async def edited() -> dict[str, Any] | None:
            root = await _event(user, room_id, root_a)
            replaced = root.get("unsigned", {}).get("m.relations", {}).get("m.replace")
            return replaced if replaced else None

        replaced = await _until(edited, "the root's edit")
        edit = await _event(user, room_id, replaced["event_id"])
        assert edit["content"]["m.new_content"]["body"] == "a: closed"
        assert edit["content"]["body"] == "* a: closed"


async def test_alertmanager_threads_by_fingerprint_and_resolves_root(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    name = "am" + uuid.uuid4().hex[:5]
    room_id, url, sender = await _hook(user, name, format="alertmanager", threads=True)
    firing = json.loads((CORPORA / "formats" / "alertmanager.firing.json").read_text())
    firing["alerts"] = firing["alerts"][:1]
    firing["alerts"][0]["fingerprint"] = uuid.uuid4().hex[:16]
    resolved = copy.deepcopy(firing)
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2030-01-01T00:10:00Z"
    async with httpx.AsyncClient() as http:
        for body in (firing, firing, resolved):
            assert (await http.post(url, json=body)).is_success

    async def first() -> dict[str, Any] | None:
        posts = _posts(await user.messages(room_id), sender)
        return posts[0] if posts else None

    root = await _until(first, "the firing notice")
    assert "FIRING" in root["content"]["body"] and "m.relates_to" not in root["content"]
    bodies = await _thread_bodies(user, room_id, root["event_id"], 2)
    assert "FIRING" in bodies[0] and "RESOLVED" in bodies[1]

    async def resolved_root() -> str | None:
        event = await _event(user, room_id, root["event_id"])
        replaced = event.get("unsigned", {}).get("m.relations", {}).get("m.replace")
        return str(replaced["event_id"]) if replaced else None

    edit = await _event(user, room_id, await _until(resolved_root, "the resolved edit"))
    assert "RESOLVED" in edit["content"]["m.new_content"]["body"]


async def test_thread_survives_restart_and_redacted_root_starts_anew(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id, url, sender = await _hook(
        user, "thr" + uuid.uuid4().hex[:5], transformationFunction=FN
    )
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, json={"subject": "s", "text": "first"})).is_success
        root = await _root_of(user, room_id, sender, "s: first")
        bridge.stop()
        bridge.start()
        assert (await http.post(url, json={"subject": "s", "text": "after restart"})).is_success
        assert await _thread_bodies(user, room_id, root, 1) == ["s: after restart"]
        await user.request(
            "PUT",
            f"/rooms/{quote(room_id)}/redact/{quote(root)}/{uuid.uuid4().hex}",
            json_body={},
        )
        assert (await http.post(url, json={"subject": "s", "text": "new start"})).is_success
        new_root = await _root_of(user, room_id, sender, "s: new start")
        assert new_root != root
        assert (await http.post(url, json={"subject": "s", "text": "follow"})).is_success
        assert await _thread_bodies(user, room_id, new_root, 1) == ["s: follow"]
