"""The appservice API as the homeserver (or an attacker) calls it: tokens, malformed input,
and exactly-once processing of events across replays, reused transaction ids and restarts."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from conftest import UserFactory
from support.flows import notice_from, room_with_bot

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess
from hookshot.matrix.registration import load_registration

BOT = "@hookshot:localhost"


def _as_url(bridge: BridgeProcess, path: str) -> str:
    return f"http://127.0.0.1:{bridge.files.bridge_port}{path}"


def _auth(bridge: BridgeProcess) -> dict[str, str]:
    token = load_registration(bridge.files.registration_path).hs_token
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/_matrix/app/v1/transactions/t1"),
        ("PUT", "/transactions/t1"),
        ("GET", "/_matrix/app/v1/users/@_webhooks_x:localhost"),
        ("GET", "/_matrix/app/v1/rooms/%23alias:localhost"),
        ("POST", "/_matrix/app/v1/ping"),
    ],
)
async def test_tokens_are_checked(bridge: BridgeProcess, method: str, path: str) -> None:
    async with httpx.AsyncClient() as http:
        missing = await http.request(method, _as_url(bridge, path), json={"events": []})
        wrong = await http.request(
            method,
            _as_url(bridge, path),
            json={"events": []},
            headers={"Authorization": "Bearer not-the-token"},
        )
        legacy_wrong = await http.request(
            method, _as_url(bridge, path) + "?access_token=nope", json={"events": []}
        )
    assert missing.status_code == 401 and missing.json()["errcode"] == "M_UNAUTHORIZED"
    assert wrong.status_code == 403 and wrong.json()["errcode"] == "M_FORBIDDEN"
    assert legacy_wrong.status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "errcode"),
    [
        (b"{not json", 400, "M_NOT_JSON"),
        (b"\xff\xfe\x00garbage", 400, "M_NOT_JSON"),
        (b'{"events": "nope"}', 400, "M_BAD_JSON"),
        (b"[1, 2, 3]", 400, "M_BAD_JSON"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "M_NOT_JSON"),
        (
            b'{"events": [' + (b'{"x": "' + b"a" * 1024 + b'"},') * 33_000 + b"{}]}",
            413,
            "M_TOO_LARGE",
        ),
    ],
)
async def test_malformed_transactions(
    bridge: BridgeProcess, body: bytes, status: int, errcode: str
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        resp = await http.put(
            _as_url(bridge, f"/_matrix/app/v1/transactions/bad-{uuid.uuid4()}"),
            content=body,
            headers={**_auth(bridge), "Content-Type": "application/json"},
        )
    assert resp.status_code == status, resp.text
    assert resp.json()["errcode"] == errcode


async def test_user_and_room_queries(bridge: BridgeProcess) -> None:
    async with httpx.AsyncClient() as http:
        ours = await http.get(
            _as_url(bridge, "/_matrix/app/v1/users/@_webhooks_queried:localhost"),
            headers=_auth(bridge),
        )
        theirs = await http.get(
            _as_url(bridge, "/_matrix/app/v1/users/@someone:localhost"), headers=_auth(bridge)
        )
        room = await http.get(
            _as_url(bridge, "/_matrix/app/v1/rooms/%23anything:localhost"), headers=_auth(bridge)
        )
        ping = await http.post(
            _as_url(bridge, "/_matrix/app/v1/ping"),
            json={"transaction_id": "x"},
            headers=_auth(bridge),
        )
    assert ours.status_code == 200 and ours.json() == {}
    assert theirs.status_code == 404 and theirs.json()["errcode"] == "M_NOT_FOUND"
    assert room.status_code == 404
    assert ping.status_code == 200 and ping.json() == {}


def _command_event(user: MatrixUser, room_id: str, body: str) -> dict[str, Any]:
    """A message event as the homeserver would push it (made up: it never entered the DAG)."""
    return {
        "type": "m.room.message",
        "room_id": room_id,
        "sender": user.user_id,
        "event_id": f"$fake-{uuid.uuid4().hex}",
        "origin_server_ts": 0,
        "content": {"msgtype": "m.text", "body": body},
    }


async def _count_list_replies(user: MatrixUser, room_id: str, expected: int) -> int:
    """Wait for `expected` replies to `webhook list`, then a little longer for extras."""
    match = notice_from(BOT, "No webhooks configured")
    count = 0
    for _ in range(60):
        count = sum(1 for e in await user.messages(room_id) if match(e))
        if count >= expected:
            break
        await asyncio.sleep(0.25)
    await asyncio.sleep(1.5)  # anything processed twice would show up by now
    return sum(1 for e in await user.messages(room_id) if match(e))


async def test_replayed_and_reused_transactions(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    first = _command_event(user, room_id, "!hookshot webhook list")
    txn = _as_url(bridge, f"/_matrix/app/v1/transactions/reuse-{uuid.uuid4().hex}")
    async with httpx.AsyncClient() as http:
        for _ in range(3):  # the homeserver retrying a transaction it thinks failed
            resp = await http.put(txn, json={"events": [first]}, headers=_auth(bridge))
            assert resp.status_code == 200 and resp.json() == {}
        assert await _count_list_replies(user, room_id, 1) == 1

        # Synapse restarts its transaction ids at 1: same id, new events must still count.
        second = _command_event(user, room_id, "!hookshot webhook list")
        resp = await http.put(txn, json={"events": [first, second]}, headers=_auth(bridge))
        assert resp.status_code == 200
        assert await _count_list_replies(user, room_id, 2) == 2

        # Across a bridge restart the events it has seen stay seen.
        bridge.stop()
        bridge.start()
        resp = await http.put(txn, json={"events": [first, second]}, headers=_auth(bridge))
        assert resp.status_code == 200
        assert await _count_list_replies(user, room_id, 2) == 2
