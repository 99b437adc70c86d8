"""The local Synapse harness and the test user client, against a real homeserver."""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import (
    SYNAPSE_REQUIREMENTS,
    HomeserverError,
    LocalSynapse,
    ensure_synapse,
    port_is_free,
    register_user,
)


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSynapse]:
    with LocalSynapse(tmp_path_factory.mktemp("synapse")) as server:
        yield server


@pytest.fixture
async def alice(synapse: LocalSynapse) -> AsyncIterator[MatrixUser]:
    user = await MatrixUser.create(synapse.base_url, synapse.shared_secret)
    yield user
    await user.aclose()


@pytest.fixture
async def bob(synapse: LocalSynapse) -> AsyncIterator[MatrixUser]:
    user = await MatrixUser.create(synapse.base_url, synapse.shared_secret)
    yield user
    await user.aclose()


def test_ensure_synapse_is_cached_and_locked() -> None:
    python = ensure_synapse()
    marker = python.parent.parent / ".hookshot-installed"
    installed_at = marker.stat().st_mtime_ns
    # A marked venv is returned as it is, not installed again.
    assert ensure_synapse() == python
    assert marker.stat().st_mtime_ns == installed_at
    # Every package in the venv is the version the lock file pins, and nothing is missing.
    listing = subprocess.run(
        [str(python), "-c", _LIST_DISTRIBUTIONS], capture_output=True, text=True, check=True
    ).stdout
    installed = {_normal(n): v for n, v in (line.split("==") for line in listing.split())}
    pinned = {}
    for line in SYNAPSE_REQUIREMENTS.read_text().splitlines():
        requirement = line.split(";")[0].strip()
        if requirement and not requirement.startswith("#"):
            name, version = requirement.split("==")
            pinned[_normal(name)] = version
    assert {name: installed.get(name) for name in pinned} == pinned


_LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m\n"
    "for d in m.distributions(): print(d.metadata['Name'] + '==' + d.version)"
)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


async def test_invite_join_and_read_back(alice: MatrixUser, bob: MatrixUser) -> None:
    room_id = await alice.create_room(name="harness")
    await alice.invite(room_id, bob.user_id)
    assert await bob.wait_for_invite(timeout=10, inviter=lambda sender: sender == alice.user_id)
    assert await bob.join(room_id) == room_id
    assert room_id in await bob.joined_rooms()

    event_id = await bob.send_text(room_id, "hello from bob")
    event = await alice.wait_for_event(room_id, lambda e: e.get("event_id") == event_id)
    assert event["sender"] == bob.user_id
    assert event["content"] == {"msgtype": "m.text", "body": "hello from bob"}
    # Oldest first: the room's creation comes before bob's message.
    types = [e["type"] for e in await alice.messages(room_id)]
    assert types[0] == "m.room.create"
    assert types[-1] == "m.room.message"


async def test_state_and_power_levels(alice: MatrixUser, bob: MatrixUser) -> None:
    room_id = await alice.create_room(invite=[bob.user_id])
    await bob.join(room_id)
    assert await alice.get_state(room_id, "org.example.missing", "x") is None
    await alice.send_state(room_id, "org.example.thing", "one", {"value": 1})
    assert await bob.get_state(room_id, "org.example.thing", "one") == {"value": 1}

    await alice.set_power_level(room_id, bob.user_id, 50)
    levels = await alice.get_state(room_id, "m.room.power_levels")
    assert levels is not None
    assert levels["users"] == {bob.user_id: 50}
    # Room version 12: the creator is implicit and must stay out of `users`.
    with pytest.raises(ValueError, match="creators"):
        await alice.set_power_level(room_id, alice.user_id, 100)


async def test_wait_for_event_times_out_with_what_it_saw(alice: MatrixUser) -> None:
    room_id = await alice.create_room()
    with pytest.raises(AssertionError, match=r"m\.room\.create"):
        await alice.wait_for_event(room_id, lambda e: False, timeout=0.2)


async def test_openid_userinfo(synapse: LocalSynapse, alice: MatrixUser) -> None:
    token = await alice.openid_token()
    assert token["matrix_server_name"] == "localhost"
    url = f"{synapse.base_url}/_matrix/federation/v1/openid/userinfo"
    async with httpx.AsyncClient() as client:
        good = await client.get(url, params={"access_token": token["access_token"]})
        bogus = await client.get(url, params={"access_token": "not-a-token"})
    assert good.status_code == 200
    assert good.json() == {"sub": alice.user_id}
    assert bogus.status_code == 401


def test_start_on_busy_port_raises(synapse: LocalSynapse, tmp_path: Path) -> None:
    assert not port_is_free(synapse.port)
    other = LocalSynapse(tmp_path, port=synapse.port, python=synapse.python)
    with pytest.raises(HomeserverError, match=f"port {synapse.port}.*already in use"):
        other.start()
    assert not other.running
    assert not (tmp_path / "homeserver.yaml").exists()


def test_start_reports_why_synapse_died(synapse: LocalSynapse, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-registration.yaml"
    broken = LocalSynapse(tmp_path, python=synapse.python, app_service_config_files=[missing])
    with pytest.raises(HomeserverError, match=r"exited with[\s\S]*no-such-registration\.yaml"):
        broken.start()
    assert not broken.running


def test_restart_keeps_users_and_port(synapse: LocalSynapse) -> None:
    user_id, token = register_user(synapse.base_url, synapse.shared_secret, "restarter", "pw")
    port = synapse.port
    synapse.restart()
    assert synapse.running
    assert synapse.port == port
    whoami = httpx.get(
        f"{synapse.base_url}/_matrix/client/v3/account/whoami",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert whoami.json()["user_id"] == user_id
