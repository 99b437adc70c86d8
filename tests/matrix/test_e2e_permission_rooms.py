"""Room actors in `permissions`: every member of a room (named by id or alias) gets its level,
and loses it when they leave. Runs the spare registration with its own config: everyone on the
server may only use commands, so inviting the bot or creating a webhook needs a room actor."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from conftest import UserFactory
from support.flows import command, notice_from, room_with_bot

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeFiles, BridgeProcess

SPARE_BOT = "@hookshot_spare:localhost"
REFUSED = "Failed to handle command: You are not permitted to provision connections for webhooks."


@dataclass
class PermissionRooms:
    admin: MatrixUser  # the spare admin: in every room below, may do anything
    by_id: str  # its members get admin on every service
    by_alias: str  # its alias's members get manageConnections on webhooks
    alias: str
    late_alias: str  # named in the config, created only after the bridge started


def _grant(actor: str, service: str, level: str) -> dict[str, Any]:
    return {"actor": actor, "services": [{"service": service, "level": level}]}


async def _set_alias(user: MatrixUser, alias: str, room_id: str) -> None:
    path = f"/directory/room/{quote(alias, safe='')}"
    await user.request("PUT", path, json_body={"room_id": room_id})


@pytest.fixture(scope="module")
async def rooms(
    spare_bridge: BridgeProcess,
    spare_files: BridgeFiles,
    synapse: LocalSynapse,
    spare_admin_login: tuple[str, str],
) -> AsyncIterator[PermissionRooms]:
    """The spare bridge, restarted with room actors: one room by id (the bot is invited while
    the bridge is down), one public room by alias (the bot joins it on its own at start)."""
    run = secrets.token_hex(4)
    spare_bridge.stop()
    proc = BridgeProcess(
        spare_files,
        spare_files.root / "permission-rooms.log",
        config_path=spare_files.root / "permission-rooms.yml",
    )
    try:
        async with MatrixUser(synapse.base_url, *spare_admin_login) as admin:
            by_id = await admin.create_room(preset="public_chat", invite=[SPARE_BOT])
            by_alias = await admin.create_room(preset="public_chat")
            alias = f"#perm-{run}:localhost"
            await _set_alias(admin, alias, by_alias)
            late_alias = f"#perm-late-{run}:localhost"
            raw = yaml.safe_load(spare_files.config_path.read_text())
            raw["permissions"] += [
                _grant(by_id, "*", "admin"),
                _grant(alias, "webhooks", "manageConnections"),
                _grant(late_alias, "webhooks", "manageConnections"),
            ]
            proc.config_path.write_text(yaml.safe_dump(raw, sort_keys=False))
            proc.start()
            await admin.wait_for_membership(by_id, SPARE_BOT, timeout=30)
            await admin.wait_for_membership(by_alias, SPARE_BOT, timeout=30)
            yield PermissionRooms(admin, by_id, by_alias, alias, late_alias)
    finally:
        proc.stop()
        spare_bridge.start()


async def _settled(user: MatrixUser, room_id: str) -> None:
    """The bridge has handled every earlier event of `room_id`: events of one room are handled
    in order, so its answer to a later command there means a join or leave before it counted."""
    await command(user, room_id, "!hookshot help")


async def _refused(user: MatrixUser, room_id: str, text: str) -> None:
    await command(user, room_id, text, ok=False)
    await user.wait_for_event(room_id, notice_from(SPARE_BOT, REFUSED))


async def test_members_of_a_room_id_actor_get_its_level_until_they_leave(
    rooms: PermissionRooms, new_user: UserFactory
) -> None:
    user = await new_user()
    await user.join(rooms.by_id)
    await _settled(user, rooms.by_id)
    # Inviting the bot needs `login`: before room actors counted, it refused and left.
    room_id = await room_with_bot(user, SPARE_BOT)
    await command(user, room_id, "!hookshot webhook roomactor")

    await user.leave(rooms.by_id)
    await _settled(rooms.admin, rooms.by_id)
    await _refused(user, room_id, "!hookshot webhook roomactor2")

    await user.join(rooms.by_id)  # joining again gives it back
    await _settled(user, rooms.by_id)
    await command(user, room_id, "!hookshot webhook roomactor3")


async def test_members_of_an_alias_actor_get_its_level_until_they_leave(
    rooms: PermissionRooms, new_user: UserFactory
) -> None:
    user = await new_user()
    assert await user.join(rooms.alias) == rooms.by_alias
    await _settled(user, rooms.by_alias)
    room_id = await room_with_bot(user, SPARE_BOT)
    await command(user, room_id, "!hookshot webhook aliasactor")

    await user.leave(rooms.by_alias)
    await _settled(rooms.admin, rooms.by_alias)
    await _refused(user, room_id, "!hookshot webhook aliasactor2")


async def test_an_alias_created_after_start_is_looked_up_when_its_room_invites_the_bot(
    rooms: PermissionRooms, new_user: UserFactory
) -> None:
    user = await new_user()  # only `commands` until the late alias points at their room
    room_id = await user.create_room(power_level_content_override={"users": {SPARE_BOT: 50}})
    await _set_alias(user, rooms.late_alias, room_id)
    await user.invite(room_id, SPARE_BOT)
    await user.wait_for_membership(room_id, SPARE_BOT)
    await command(user, room_id, "!hookshot webhook lateactor")
