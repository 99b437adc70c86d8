"""Threads across a room upgrade with the scale-out roles (real Synapse and Redis): the
`bridge` process records the new room's predecessor in Redis while following the upgrade, and
a `sender` process finds the subject's old root through it and links it from the new root."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx
from conftest import CLUSTER_BOT, UserFactory
from support.cluster import Cluster
from support.flows import create_webhook, notice_from, room_with_bot
from support.paths import CORPORA
from support.threads import latest_edit, relations, until

from hookshot import wire
from hookshot.dev.client import MatrixUser

CONTINUES = "org.hookshot-python.thread.continues"


def _alerts() -> tuple[dict[str, Any], dict[str, Any]]:
    """One firing Alertmanager alert with a fresh fingerprint, and the same one resolved."""
    firing = json.loads((CORPORA / "formats" / "alertmanager.firing.json").read_text())
    firing["alerts"] = firing["alerts"][:1]
    firing["alerts"][0]["fingerprint"] = uuid.uuid4().hex[:16]
    resolved = copy.deepcopy(firing)
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2030-01-01T00:10:00Z"
    return firing, resolved


async def _roots(user: MatrixUser, room_id: str, sender: str) -> list[dict[str, Any]]:
    """The hook's messages in the main timeline (no relation), oldest first."""
    return [
        e
        for e in await user.messages(room_id)
        if e.get("sender") == sender
        and e["type"] == "m.room.message"
        and "m.relates_to" not in e.get("content", {})
    ]


async def test_a_thread_continues_after_an_upgrade_across_processes(
    cluster: Cluster, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, CLUSTER_BOT, preset="public_chat")
    name = f"rt{uuid.uuid4().hex[:6]}"
    url = await create_webhook(user, room_id, CLUSTER_BOT, name)
    current = await user.get_state(room_id, wire.GENERIC_HOOK, name)
    assert current is not None
    state = {**current, "format": "alertmanager", "threads": True}
    await user.send_state(room_id, wire.GENERIC_HOOK, name, state)
    # Answered after the state was applied (one room's events are handled in order).
    await user.send_text(room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(CLUSTER_BOT, "Webhooks configured:"))
    sender = f"@_clusterhooks_{name}:localhost"
    firing, resolved = _alerts()
    # Both webhooks processes take the hook's deliveries (their hook directory is in Redis).
    hook_path = "/webhook/" + url.rstrip("/").rsplit("/", 1)[1]
    bases = cluster.webhook_bases

    async with httpx.AsyncClient() as http:
        assert (await http.post(bases[0] + hook_path, json=firing)).status_code == 202

        async def first_root() -> dict[str, Any] | None:
            roots = await _roots(user, room_id, sender)
            return roots[0] if roots else None

        old_root = str((await until(first_root, "the firing alert in the old room"))["event_id"])

        create = await user.get_state(room_id, "m.room.create") or {}
        upgraded = await user.request(
            "POST",
            f"/rooms/{quote(room_id)}/upgrade",
            json_body={"new_version": create.get("room_version", "12")},
        )
        new_room = str(upgraded["replacement_room"])
        await user.wait_for_event(
            new_room, notice_from(CLUSTER_BOT, "This room was upgraded from"), timeout=30
        )
        assert (await http.post(bases[1] + hook_path, json=firing)).status_code == 202

        async def new_root() -> dict[str, Any] | None:
            roots = await _roots(user, new_room, sender)
            return roots[0] if roots else None

        root = await until(new_root, "the linked root in the new room", timeout=30)
        assert root["content"][CONTINUES] == {"room_id": room_id, "event_id": old_root}
        assert "FIRING" in root["content"]["body"]
        assert (await http.post(bases[0] + hook_path, json=resolved)).status_code == 202

        async def resolved_in_thread() -> list[str] | None:
            events = await relations(user, new_room, str(root["event_id"]), "m.thread")
            bodies = [e["content"]["body"] for e in events if e["type"] == "m.room.message"]
            return bodies or None

        assert "RESOLVED" in (await until(resolved_in_thread, "the resolved alert"))[0]

        async def edited() -> str:
            return await latest_edit(user, new_room, str(root["event_id"]))

        edit = await until(edited, "the new root edited to resolved")
        assert "RESOLVED" in edit and "https://matrix.to/#/" in edit
