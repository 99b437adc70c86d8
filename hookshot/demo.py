"""`hookshot demo`: a local Synapse, the bridge, a demo user, room and webhook, in one command.

Everything lives under one folder (recreated each run) and only listens on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
from pathlib import Path

import httpx

from hookshot.devclient import MatrixUser
from hookshot.devhomeserver import LocalSynapse
from hookshot.devstack import BridgeFiles, BridgeProcess

DEMO_PASSWORD = "demo-password"


async def _set_up(synapse: LocalSynapse, bot: str) -> tuple[str, str, str]:
    """Register `demo`, make a room with the bot, create a webhook; returns (user, room, url)."""
    from hookshot.devhomeserver import aregister_user

    user_id, token = await aregister_user(
        synapse.base_url, synapse.shared_secret, "demo", DEMO_PASSWORD
    )
    async with MatrixUser(synapse.base_url, user_id, token) as user:
        room_id = await user.create_room(
            invite=[bot],
            name="Hookshot demo",
            # The bot needs Moderator to write connection state, as the docs ask of users.
            power_level_content_override={"users": {bot: 50}},
        )
        await user.wait_for_membership(room_id, bot, timeout=30)
        await user.send_text(room_id, "!hookshot webhook demo")
        dm = await user.wait_for_invite(timeout=30, inviter=lambda s: s == bot)
        await user.join(dm)
        notice = await user.wait_for_event(
            dm,
            lambda e: (
                "Please configure your webhook source" in str(e.get("content", {}).get("body"))
            ),
            timeout=30,
        )
        url = str(notice["content"]["body"]).splitlines()[-1]
        async with httpx.AsyncClient() as http:
            await http.post(url, json={"text": "Hello from the **hookshot demo**!"})
    return user_id, room_id, url


def run_demo(directory: str) -> int:
    """Run the demo until Ctrl-C."""
    root = Path(directory).absolute()
    shutil.rmtree(root, ignore_errors=True)
    files = BridgeFiles(root / "bridge")
    print("Preparing a local Synapse (first run installs it into ~/.cache, ~30 s)...")
    synapse = LocalSynapse(root / "synapse", app_service_config_files=[files.registration_path])
    files.write(synapse.base_url)
    bridge = BridgeProcess(files)
    try:
        synapse.start()
        bridge.start()
        bot = "@hookshot:localhost"
        user_id, room_id, url = asyncio.run(_set_up(synapse, bot))
        print(
            f"""
The bridge is running.
  homeserver : {synapse.base_url}  (server name: localhost)
  demo user  : {user_id}  password: {DEMO_PASSWORD}
  room       : {room_id}  ("Hookshot demo")
  webhook    : {url}

Post to it:
  curl -X POST -H 'Content-Type: application/json' \\
       -d '{{"text": "Hello **Matrix**"}}' {url}

Log in with any Matrix client at {synapse.base_url} to see the room.
Bridge log: {bridge.log_path}
Press Ctrl-C to stop."""
        )
        # Block only now: children started earlier must not inherit a blocked SIGTERM.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    except KeyboardInterrupt:
        pass
    except Exception as err:
        print(f"demo failed: {err}", file=sys.stderr)
        return 1
    finally:
        bridge.stop()
        synapse.stop()
    return 0
