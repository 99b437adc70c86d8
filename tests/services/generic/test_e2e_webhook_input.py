"""Hostile and broken webhook requests against the running bridge: each gets a precise JSON
refusal and nothing reaches the room; the next good request is served normally."""

from __future__ import annotations

import httpx
import pytest
from conftest import UserFactory
from support.flows import create_webhook, notice_from, room_with_bot

from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"

CASES = [
    # (method, content type, body, status, error); an error given is the whole refusal text.
    ("POST", "application/json", b"not json", 400, "Invalid JSON"),
    ("POST", "application/json", b"{not json", 400, "Invalid JSON"),
    ("POST", "application/json", b"42", 400, "JSON body must be an object or an array"),
    ("POST", "application/json", b"\xff\xfe not utf-8 \xc3\x28", 400, "Body is not valid UTF-8"),
    (
        "POST",
        "application/json",
        b"[" * 10_000 + b"]" * 10_000,
        400,
        "JSON nested too deeply (limit 64 levels)",
    ),
    ("POST", "application/json", b'{"a": NaN}', 400, "Invalid JSON: NaN is not valid JSON"),
    ("POST", "application/xml", b"<a><b></a>", 400, "Invalid XML"),
    (
        "POST",
        "application/xml",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><lolz>&lol;</lolz>',
        400,
        "XML with a DOCTYPE is refused",
    ),
    (
        "POST",
        "application/octet-stream",
        b"\x00\x01binary",
        415,
        "Unsupported Content-Type: application/octet-stream",
    ),
    ("POST", None, b"no content type", 415, "Missing Content-Type header"),
    (
        "POST",
        "application/json",
        b'{"text": "' + b"x" * (1024 * 1024 + 10) + b'"}',
        413,
        "Payload too large",
    ),
    ("DELETE", "application/json", b"{}", 405, "Invalid Method. Expecting PUT or POST"),
    ("PATCH", "application/json", b"{}", 405, "Invalid Method. Expecting PUT or POST"),
    ("GET", None, b"", 405, "Invalid Method. Expecting PUT or POST"),  # enableHttpGet is off
]


async def test_bad_requests_are_refused_and_nothing_is_posted(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "hostile")
    async with httpx.AsyncClient(timeout=30) as http:
        for method, ctype, body, status, error in CASES:
            headers = {"Content-Type": ctype} if ctype else {}
            resp = await http.request(method, url, content=body, headers=headers)
            assert resp.status_code == status, (method, ctype, body[:40], resp.text)
            data = resp.json()
            if status == 405:
                assert data == {"errcode": "HS_METHOD_NOT_ALLOWED", "error": error}
                assert resp.headers["allow"] == "PUT, POST"
            elif error:
                assert data == {"ok": False, "error": error}, (method, ctype, body[:40])
            else:
                assert data["ok"] is False and isinstance(data["error"], str) and data["error"]
        ok = await http.post(url, json={"text": "the only message"})
        assert ok.status_code == 202
    hook_user = "@_webhooks_hostile:localhost"
    await user.wait_for_event(room_id, notice_from(hook_user, "the only message"))
    posted = [
        e
        for e in await user.messages(room_id)
        if e.get("sender") == hook_user and e.get("type") == "m.room.message"
    ]
    assert len(posted) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/webhook/does-not-exist",
        "/does-not-exist",
        "/webhook/../../etc/passwd",
        "/webhook/%00%ff",
        "/webhook/" + "a" * 5000,
    ],
)
async def test_unknown_hooks_are_404(bridge: BridgeProcess, path: str) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.post(bridge.files.webhook_base + path, json={"text": "x"})
    assert resp.status_code == 404
    assert resp.json()["ok"] is False
    if path.count("/") <= 2 and path.isascii() and "%" not in path and "." not in path:
        assert resp.json() == {"ok": False, "error": "Webhook not found"}  # hookshot's text


async def test_health_endpoints(bridge: BridgeProcess) -> None:
    async with httpx.AsyncClient() as http:
        for base in (bridge.files.webhook_base, f"http://127.0.0.1:{bridge.files.bridge_port}"):
            assert (await http.get(base + "/live")).status_code == 200
            assert (await http.get(base + "/ready")).status_code == 200


async def test_form_and_text_bodies(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "formtext")
    hook_user = "@_webhooks_formtext:localhost"
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, data={"text": "from a *form*"})).status_code == 202
        await user.wait_for_event(room_id, notice_from(hook_user, "from a *form*"))
        plain = await http.put(url, content=b"plain words", headers={"Content-Type": "text/plain"})
        assert plain.status_code == 202
    event = await user.wait_for_event(room_id, notice_from(hook_user, "Received webhook data: "))
    assert event["content"]["body"] == "Received webhook data: plain words"


async def test_metrics_count_what_happened(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "metered")
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, json={"text": "count me"})).status_code == 202
        await user.wait_for_event(room_id, notice_from("@_webhooks_metered:localhost", "count me"))
        text = (await http.get(bridge.files.webhook_base + "/metrics")).text
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    key = (
        'hookshot_webhooks_http_request_total{method="POST",path="/webhook/{hookId}",status="202"}'
    )
    assert samples[key] >= 1
    assert samples['hookshot_queue_event_pushes_total{event="send"}'] >= 1
    assert samples['hookshot_connections{service="webhooks"}'] >= 1
    assert samples["matrix_appservice_events_total"] >= 1
    assert samples["hookshot_delivery_latency_seconds_count"] >= 1
    assert any(k.startswith("matrix_api_calls_total{") for k in samples)
    assert 'hookshot_queue_depth{topic="send"}' in samples
