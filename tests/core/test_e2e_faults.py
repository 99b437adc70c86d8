"""Acked means delivered: a webhook answered 2xx reaches the room exactly once across a
homeserver outage and a SIGKILLed bridge. Every run uses unique markers and exact counts."""

from __future__ import annotations

import uuid

import httpx
from conftest import SPARE_ADMIN, UserFactory
from support.flows import count_markers, create_webhook, room_with_bot

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
SPARE_BOT = "@hookshot_spare:localhost"


async def test_homeserver_outage_loses_nothing(
    bridge: BridgeProcess, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "outage")
    run = uuid.uuid4().hex[:8]
    markers = [f"outage {run} #{i}" for i in range(20)]
    synapse.stop()
    try:
        async with httpx.AsyncClient() as http:
            for marker in markers:
                resp = await http.post(url, json={"text": marker})
                assert resp.status_code == 202, resp.text
    finally:
        synapse.start()
    seen = await count_markers(synapse, user, room_id, markers, timeout=90)
    assert seen == markers  # all 20, each exactly once, in order


async def _spare_admin(synapse: LocalSynapse, login: tuple[str, str]) -> MatrixUser:
    return MatrixUser(synapse.base_url, login[0], login[1])


async def test_sigkill_with_jobs_queued_loses_and_doubles_nothing(
    spare_bridge: BridgeProcess,
    synapse: LocalSynapse,
    spare_admin_login: tuple[str, str],
) -> None:
    async with await _spare_admin(synapse, spare_admin_login) as admin:
        assert admin.user_id == f"@{SPARE_ADMIN}:localhost"
        room_id = await room_with_bot(admin, SPARE_BOT)
        url = await create_webhook(admin, room_id, SPARE_BOT, f"kill{uuid.uuid4().hex[:6]}")
        run = uuid.uuid4().hex[:8]
        markers = [f"kill {run} #{i}" for i in range(20)]
        # Homeserver down: every job stays queued in the bridge's storage.
        synapse.stop()
        try:
            async with httpx.AsyncClient() as http:
                for marker in markers:
                    resp = await http.post(url, json={"text": marker})
                    assert resp.status_code == 202, resp.text
            spare_bridge.kill()
        finally:
            synapse.start()
        spare_bridge.start()
        seen = await count_markers(synapse, admin, room_id, markers, timeout=90)
        assert seen == markers


async def test_sigkill_mid_stream_keeps_every_acknowledged_webhook(
    spare_bridge: BridgeProcess,
    synapse: LocalSynapse,
    spare_admin_login: tuple[str, str],
) -> None:
    async with await _spare_admin(synapse, spare_admin_login) as admin:
        room_id = await room_with_bot(admin, SPARE_BOT)
        url = await create_webhook(admin, room_id, SPARE_BOT, f"mid{uuid.uuid4().hex[:6]}")
        run = uuid.uuid4().hex[:8]
        acked: list[str] = []
        unanswered: list[str] = []
        async with httpx.AsyncClient(timeout=5) as http:
            for i in range(120):
                marker = f"mid {run} #{i}"
                if i == 40:
                    spare_bridge.kill()  # while sends are in flight
                try:
                    resp = await http.post(url, json={"text": marker})
                except httpx.HTTPError:
                    unanswered.append(marker)
                    continue
                assert resp.status_code == 202, resp.text
                acked.append(marker)
        assert len(acked) == 40 and len(unanswered) == 80
        spare_bridge.start()
        seen = await count_markers(synapse, admin, room_id, acked, timeout=90)
        assert seen == acked  # every acknowledged one, once, in order; nothing unacknowledged
