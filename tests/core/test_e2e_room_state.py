"""Room state is the source of truth, but only allowed users may write it; membership rules.
Runs against the spare bridge, whose config lets only one user manage connections."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from conftest import UserFactory
from support.flows import create_webhook, notice_from, room_with_bot

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeProcess

SPARE_BOT = "@hookshot_spare:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"


async def test_state_from_unprivileged_user_is_rolled_back(
    spare_bridge: BridgeProcess,
    synapse: LocalSynapse,
    spare_admin_login: tuple[str, str],
    new_user: UserFactory,
) -> None:
    async with MatrixUser(synapse.base_url, *spare_admin_login) as admin:
        mallory = await new_user()
        room_id = await room_with_bot(
            admin,
            SPARE_BOT,
            # Mallory may write state as far as the homeserver cares; the bridge says no.
            power_level_content_override={"users": {SPARE_BOT: 50, mallory.user_id: 50}},
        )
        await admin.invite(room_id, mallory.user_id)
        await mallory.join(room_id)
        name = f"legit{uuid.uuid4().hex[:6]}"
        url = await create_webhook(admin, room_id, SPARE_BOT, name)
        original = await admin.get_state(room_id, HOOK, name)
        assert original is not None

        # A new hook written by hand by Mallory: no earlier good state, so it is redacted.
        await mallory.send_state(room_id, HOOK, "evil", {"name": "evil"})
        await admin.wait_for_event(
            room_id, notice_from(SPARE_BOT, f"{mallory.user_id} is not permitted")
        )
        assert not await admin.get_state(room_id, HOOK, "evil")

        # An edit of the admin's hook: the last content the admin wrote is restored.
        await mallory.send_state(room_id, HOOK, name, {**original, "name": "hijacked"})
        for _ in range(50):
            if await admin.get_state(room_id, HOOK, name) == original:
                break
            await asyncio.sleep(0.2)
        assert await admin.get_state(room_id, HOOK, name) == original
        # And the hook still works as the admin set it up.
        async with httpx.AsyncClient() as http:
            assert (await http.post(url, json={"text": "still mine"})).status_code == 202
        await admin.wait_for_event(
            room_id, notice_from(f"@_sparehooks_{name}:localhost", "still mine")
        )

        # Mallory may not use setup commands either (config permissions, not power).
        event_id = await mallory.send_text(room_id, "!hookshot webhook mallorys")
        await admin.wait_for_event(
            room_id,
            notice_from(
                SPARE_BOT,
                "Failed to handle command: You are not permitted to provision connections "
                "for webhooks.",
            ),
        )
        assert event_id


async def test_invite_while_bridge_down_is_joined_on_start(
    spare_bridge: BridgeProcess, synapse: LocalSynapse, spare_admin_login: tuple[str, str]
) -> None:
    spare_bridge.stop()
    try:
        async with MatrixUser(synapse.base_url, *spare_admin_login) as admin:
            room_id = await admin.create_room(invite=[SPARE_BOT])
            spare_bridge.start()
            await admin.wait_for_membership(room_id, SPARE_BOT, timeout=30)
    finally:
        if not spare_bridge.running:
            spare_bridge.start()


async def test_dm_invite_makes_an_admin_room(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    dm = await user.create_room(invite=["@hookshot:localhost"], is_direct=True)
    welcome = await user.wait_for_event(
        dm, notice_from("@hookshot:localhost", "Hello!"), timeout=20
    )
    assert "admin room" in welcome["content"]["body"]


async def test_spare_bridge_refuses_invites_without_login_permission(
    spare_bridge: BridgeProcess, new_user: UserFactory
) -> None:
    nobody = await new_user()  # only has `commands` on the spare bridge
    room_id = await nobody.create_room(invite=[SPARE_BOT])
    leave = await nobody.wait_for_membership(room_id, SPARE_BOT, "leave")
    assert leave["content"].get("reason") == "You do not have permission to invite this bot."
