"""Digests end to end: a webhook with `digest` on whose backlog passes the threshold while
the homeserver is away reaches the room as one digest notice, the room's other hook keeps
its messages and their order, and nothing is lost or doubled. The command refuses bad
settings; HTML in a summary is escaped and a huge one cut."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
from conftest import UserFactory
from support.flows import command, create_webhook, room_with_bot

from hookshot import wire
from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
DEPTH = re.compile(r'^hookshot_queue_depth\{topic="(\w+)"\} (\S+)$', re.M)


async def depths(bridge: BridgeProcess) -> dict[str, float]:
    async with httpx.AsyncClient() as http:
        text = (await http.get(bridge.files.webhook_base + "/metrics")).text
    return {topic: float(value) for topic, value in DEPTH.findall(text)}


async def wait_until(condition: Any, timeout: float, what: str) -> None:
    """Poll an async condition until it holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def from_hooks(user: MatrixUser, room_id: str, run: str) -> list[dict[str, Any]]:
    """The room's messages from this run's two hooks (their virtual users), in order."""
    events = await user.messages(room_id, limit=500)
    return [e["content"] for e in events if e["type"] == wire.M_ROOM_MESSAGE and run in e["sender"]]


async def test_a_burst_becomes_one_digest_and_the_rooms_other_hook_keeps_its_order(
    bridge: BridgeProcess, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    run = uuid.uuid4().hex[:6]
    burst, quiet = f"burst{run}", f"quiet{run}"
    burst_url = await create_webhook(user, room_id, BOT, burst)
    quiet_url = await create_webhook(user, room_id, BOT, quiet)
    await command(user, room_id, f"!hookshot webhook digest {burst} 1", ok=False)
    await command(user, room_id, f"!hookshot webhook digest {burst} lots", ok=False)
    await command(user, room_id, f"!hookshot webhook digest {burst} on")
    state = await user.get_state(room_id, wire.GENERIC_HOOK, burst)
    assert state is not None and state["digest"] is True

    hostile = "<b>bold</b> <script>alert(1)</script> " + "y" * 200_000
    texts = [f"burst {run} #{i}" for i in range(30)]
    texts[3] = hostile
    synapse.stop()  # the backlog builds up while the homeserver is away
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            for i, text in enumerate(texts):
                assert (await http.post(burst_url, json={"text": text})).status_code == 202
                if i in (14, 29):
                    body = {"text": f"quiet {run} #{i // 15}"}
                    assert (await http.post(quiet_url, json=body)).status_code == 202

        async def routed() -> bool:
            return (await depths(bridge)).get("webhook") == 0

        await wait_until(routed, 30, "every webhook to be routed")
    finally:
        synapse.start()

    async def delivered() -> bool:
        return (await depths(bridge)).get("send") == 0

    await wait_until(delivered, 90, "the send queue to drain")
    async with MatrixUser(synapse.base_url, user.user_id, user.access_token) as reader:
        contents = await from_hooks(reader, room_id, run)
    assert len(contents) == 3, [c.get("body", "")[:80] for c in contents]
    digest, *others = contents
    assert [c["body"] for c in others] == [f"quiet {run} #0", f"quiet {run} #1"]
    assert digest[wire.DIGEST_CONTENT_KEY] == {"events": 30, "shown": 10}
    lines = digest["body"].split("\n")
    assert lines[0] == (
        f'Digest: 30 events from webhook "{burst}" arrived faster than this room should read '
        "them, so this one message stands for them:"
    )
    listed = [f"• burst {run} #{i}" for i in range(10)]
    assert lines[1:4] == listed[:3] and lines[5:11] == listed[4:]
    assert lines[4].startswith("• <b>bold</b> <script>") and len(lines[4]) <= 202
    assert lines[-1] == "…and 20 more"
    html = digest["formatted_body"]
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &lt;script&gt;" in html
    assert len(digest["body"]) < 4000


async def test_digest_command_switches_it_off_again(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    name = f"toggle{uuid.uuid4().hex[:6]}"
    await create_webhook(user, room_id, BOT, name)
    await command(user, room_id, f"!hookshot webhook digest {name} 40")
    state = await user.get_state(room_id, wire.GENERIC_HOOK, name)
    assert state is not None and state["digest"] == {"threshold": 40}
    await command(user, room_id, f"!hookshot webhook digest {name} off")
    state = await user.get_state(room_id, wire.GENERIC_HOOK, name)
    assert state is not None and "digest" not in state
    assert state["name"] == name  # the rest of the hook's state is kept
    await command(user, room_id, "!hookshot webhook digest nosuchhook on", ok=False)
