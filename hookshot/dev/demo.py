"""`hookshot demo`: a local Synapse, the bridge, a demo user, room and webhook, in one command.

Everything lives under one folder (recreated each run) and only listens on 127.0.0.1. After
the banner it prints each message that reaches the demo room, one line each, until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse, aregister_user
from hookshot.dev.stack import BridgeFiles, BridgeProcess

DEMO_PASSWORD = "demo-password"
BOT = "@hookshot:localhost"
# Long-poll: the homeserver answers as soon as a message arrives.
SYNC_TIMEOUT_MS = 30_000
LINE_LIMIT = 160


def message_line(event: dict[str, Any]) -> str | None:
    """One line for a room message: local time, sender, the body's first line (None if not one)."""
    content = event.get("content")
    if event.get("type") != "m.room.message" or not isinstance(content, dict):
        return None
    body = content.get("body")
    if not isinstance(body, str):
        return None
    first = body.strip().splitlines()[0] if body.strip() else ""
    if len(first) > LINE_LIMIT:
        first = first[: LINE_LIMIT - 1] + "…"
    stamp = event.get("origin_server_ts")
    when = datetime.fromtimestamp(stamp / 1000) if isinstance(stamp, int) else datetime.now()
    return f"{when:%H:%M:%S}  {event.get('sender')}  {first}"


def _room_filter(room_id: str) -> str:
    """A sync filter for the demo room's messages only (no presence, state or receipts)."""
    return json.dumps(
        {
            "presence": {"types": []},
            "account_data": {"types": []},
            "room": {
                "rooms": [room_id],
                "timeline": {"types": ["m.room.message"], "limit": 50},
                "state": {"types": []},
                "ephemeral": {"types": []},
                "account_data": {"types": []},
            },
        }
    )


async def _make_room_and_hook(user: MatrixUser) -> tuple[str, str]:
    """A room with the bot and a webhook in it; returns (room, webhook URL)."""
    room_id = await user.create_room(
        invite=[BOT],
        name="Hookshot demo",
        # The bot needs Moderator to write connection state, as the docs ask of users.
        power_level_content_override={"users": {BOT: 50}},
    )
    await user.wait_for_membership(room_id, BOT, timeout=30)
    await user.send_text(room_id, "!hookshot webhook demo")
    dm = await user.wait_for_invite(timeout=30, inviter=lambda s: s == BOT)
    await user.join(dm)
    notice = await user.wait_for_event(
        dm,
        lambda e: "Please configure your webhook source" in str(e.get("content", {}).get("body")),
        timeout=30,
    )
    return room_id, str(notice["content"]["body"]).splitlines()[-1]


def _banner(synapse: LocalSynapse, bridge: BridgeProcess, user_id: str, room: str, url: str) -> str:
    return f"""
The bridge is running.
  homeserver : {synapse.base_url}  (server name: localhost)
  demo user  : {user_id}  password: {DEMO_PASSWORD}
  room       : {room}  ("Hookshot demo")
  webhook    : {url}

Post to it:
  curl -X POST -H 'Content-Type: application/json' \\
       -d '{{"text": "Hello **Matrix**"}}' {url}

Log in with any Matrix client at {synapse.base_url} to see the room.
Bridge log: {bridge.log_path}
Messages in the room appear below as they arrive. Press Ctrl-C to stop.
"""


async def _demo(synapse: LocalSynapse, bridge: BridgeProcess) -> None:
    """Set the demo up, then print the room's messages until cancelled."""
    user_id, token = await aregister_user(
        synapse.base_url, synapse.shared_secret, "demo", DEMO_PASSWORD
    )
    async with MatrixUser(synapse.base_url, user_id, token) as user:
        room_id, url = await _make_room_and_hook(user)
        room_filter = _room_filter(room_id)
        # Start the watch before the greeting, so it is the first line shown.
        first = await user.request("GET", "/sync", params={"filter": room_filter, "timeout": 0})
        since = str(first["next_batch"])
        async with httpx.AsyncClient() as http:
            await http.post(url, json={"text": "Hello from the **hookshot demo**!"})
        print(_banner(synapse, bridge, user_id, room_id, url), flush=True)
        while True:
            batch = await user.request(
                "GET",
                "/sync",
                params={"filter": room_filter, "since": since, "timeout": SYNC_TIMEOUT_MS},
                http_timeout=SYNC_TIMEOUT_MS / 1000 + 30,
            )
            since = str(batch["next_batch"])
            room = batch.get("rooms", {}).get("join", {}).get(room_id, {})
            for event in room.get("timeline", {}).get("events", []):
                line = message_line(event)
                if line is not None:
                    print(line, flush=True)


async def _until_signal(synapse: LocalSynapse, bridge: BridgeProcess) -> None:
    """Run the demo; SIGINT or SIGTERM cancels it (an open long-poll ends at once)."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await _demo(synapse, bridge)
    except asyncio.CancelledError:
        return


def run_demo(directory: str) -> int:
    """Run the demo until Ctrl-C (or SIGTERM); 0 on a requested stop, 1 if something failed."""
    root = Path(directory).absolute()
    shutil.rmtree(root, ignore_errors=True)
    files = BridgeFiles(root / "bridge")
    print("Preparing a local Synapse (first run installs it into ~/.cache, ~30 s)...", flush=True)
    synapse = LocalSynapse(root / "synapse", app_service_config_files=[files.registration_path])
    files.write(synapse.base_url)
    bridge = BridgeProcess(files)
    code = 0
    try:
        # Own sessions: a terminal's Ctrl-C reaches only us, and we stop them in order.
        synapse.start(own_session=True)
        bridge.start(own_session=True)
        asyncio.run(_until_signal(synapse, bridge))
    except KeyboardInterrupt:
        pass
    except Exception as err:
        print(f"demo failed: {err}", file=sys.stderr)
        code = 1
    finally:
        # A second Ctrl-C must not leave the children running: they are stopped either way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        started = time.monotonic()
        print("Stopping the bridge and Synapse...", flush=True)
        bridge.stop(timeout=10)
        synapse.stop(timeout=10)
        print(f"Stopped in {time.monotonic() - started:.2f} s.", flush=True)
    return code
