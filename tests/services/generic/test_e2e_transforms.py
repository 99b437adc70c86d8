"""Webhooks that fit any sender: JS transformation functions (hookshot's contract), templates
and built-in formats, through the running bridge into the room."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
import yaml
from conftest import UserFactory
from support.flows import admin_room, command, create_webhook, notice_from, room_with_bot
from support.paths import CORPORA

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
FORMATS = CORPORA / "formats"


def _message_from(sender: str) -> Any:
    return lambda e: e.get("sender") == sender and e.get("type") == "m.room.message"


async def _hook(user: MatrixUser, name: str, **state: Any) -> tuple[str, str, str]:
    """A room with a webhook whose state carries `state`; returns (room, url, hook user)."""
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, name)
    current = await user.get_state(room_id, HOOK, name)
    assert current is not None
    await user.send_state(room_id, HOOK, name, {**current, **state})
    # State is applied in room order: the list reply comes after the edit took effect.
    await user.send_text(room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(BOT, "Webhooks configured:"))
    return room_id, url, f"@_webhooks_{name}:localhost"


async def test_js_v2_function(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    fn = (
        'if (data.counter === undefined) { result = {empty: true, version: "v2"}; }'
        ' else { result = {plain: `**Counter** is ${data.counter}`, version: "v2",'
        ' msgtype: "m.text"}; }'
    )
    room_id, url, sender = await _hook(user, "jsfunc", transformationFunction=fn)
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, json={"nothing": 1})).status_code == 202  # empty: no message
        assert (await http.post(url, json={"counter": 5.5})).status_code == 202
    event = await user.wait_for_event(room_id, _message_from(sender))
    assert event["content"]["msgtype"] == "m.text"
    assert event["content"]["body"] == "**Counter** is 5.5"
    assert event["content"]["formatted_body"] == "<p><strong>Counter</strong> is 5.5</p>"
    assert event["content"]["uk.half-shot.hookshot.webhook_data"] == {"counter": "5.5"}
    await asyncio.sleep(0.5)
    posted = [
        e
        for e in await user.messages(room_id)
        if e.get("sender") == sender and e["type"] == "m.room.message"
    ]
    assert len(posted) == 1


async def test_js_failures_are_reported_and_contained(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id, url, sender = await _hook(user, "jsloop", transformationFunction="while(true){}")
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, json={"a": 1})).status_code == 202
    failed = await user.wait_for_event(room_id, _message_from(sender))
    assert failed["content"]["body"] == (
        "Webhook received but failed to process via transformation function"
    )
    # A function that does not compile is refused; the working one stays.
    await user.send_state(
        room_id, HOOK, "jsloop", {"name": "jsloop", "transformationFunction": "result = {"}
    )
    await user.wait_for_event(
        room_id, notice_from(BOT, "Could not compile transformation function:")
    )


async def test_js_webhook_response_with_wait_for_complete(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    fn = (
        'result = {version: "v2", plain: "ok", webhookResponse: '
        '{body: "<ack/>", contentType: "application/xml", statusCode: 201}};'
    )
    room_id, url, sender = await _hook(
        user, "jsanswer", transformationFunction=fn, waitForComplete=True
    )
    async with httpx.AsyncClient() as http:
        resp = await http.post(url, json={"x": 1})
    assert resp.status_code == 201, resp.text
    assert resp.text == "<ack/>" and resp.headers["content-type"].startswith("application/xml")
    await user.wait_for_event(room_id, _message_from(sender))


async def test_template_renders_alertmanager_payload(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    template = {
        "plain": "{{ $.commonLabels.alertname }} is {{ $.status | upper }} "
        "({{ $.alerts[*].labels.instance | join(', ') }})",
    }
    room_id, url, sender = await _hook(user, "tmpl", template=template)
    payload = json.loads((FORMATS / "alertmanager.firing.json").read_text())
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, json=payload)).status_code == 202
    event = await user.wait_for_event(room_id, _message_from(sender))
    instances = ", ".join(a["labels"]["instance"] for a in payload["alerts"])
    expected = f"{payload['commonLabels']['alertname']} is FIRING ({instances})"
    assert event["content"]["body"] == expected


async def test_bad_template_is_refused_with_a_reason(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    await create_webhook(user, room_id, BOT, "badtmpl")
    await user.send_state(
        room_id, HOOK, "badtmpl", {"name": "badtmpl", "template": {"plain": "{{ $.a | nope }}"}}
    )
    event = await user.wait_for_event(room_id, notice_from(BOT, "Invalid generic connection"))
    assert "unknown filter 'nope'" in event["content"]["body"]


async def test_builtin_format(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id, url, sender = await _hook(user, "kuma", format="uptime-kuma")
    payload = json.loads((FORMATS / "uptime-kuma.down.json").read_text())
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, json=payload)).status_code == 202
    event = await user.wait_for_event(room_id, _message_from(sender))
    assert payload["monitor"]["name"] in event["content"]["body"]
    assert "Received webhook data" not in event["content"]["body"]


async def test_hook_secret(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "guarded")
    await command(user, room_id, "!hookshot webhook secret guarded")
    dm = await admin_room(user, BOT)
    notice = await user.wait_for_event(dm, notice_from(BOT, 'The webhook "guarded" now requires'))
    secret = notice["content"]["body"].splitlines()[1]
    body = json.dumps({"text": "signed"}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    async with httpx.AsyncClient() as http:
        unsigned = await http.post(url, json={"text": "unsigned"})
        wrong = await http.post(url, json={"text": "x"}, headers={"Authorization": "Bearer no"})
        bearer = await http.post(
            url, json={"text": "bearer"}, headers={"Authorization": f"Bearer {secret}"}
        )
        signed = await http.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        )
        assert (unsigned.status_code, wrong.status_code) == (401, 401)
        assert unsigned.json() == {"ok": False, "error": "Missing or invalid secret"}
        assert (bearer.status_code, signed.status_code) == (202, 202)
        await command(user, room_id, "!hookshot webhook secret guarded off")
        await user.wait_for_event(room_id, notice_from(BOT, "Webhook `guarded` no longer"))
        assert (await http.post(url, json={"text": "open again"})).status_code == 202
    sender = "@_webhooks_guarded:localhost"
    await user.wait_for_event(room_id, lambda e: e.get("content", {}).get("body") == "open again")
    bodies = [
        e["content"]["body"]
        for e in await user.messages(room_id)
        if e.get("sender") == sender and e["type"] == "m.room.message"
    ]
    assert bodies == ["bearer", "signed", "open again"]


async def test_delivery_log(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id, url, sender = await _hook(user, "logged", transformationFunction="throw 'nope'")
    async with httpx.AsyncClient() as http:
        assert (
            await http.post(url, content=b"{bad", headers={"Content-Type": "application/json"})
        ).status_code == 400
        assert (await http.post(url, json={"a": 1})).status_code == 202
    await user.wait_for_event(room_id, _message_from(sender))
    await command(user, room_id, "!hookshot webhook log logged")
    dm = await admin_room(user, BOT)
    log = await user.wait_for_event(dm, notice_from(BOT, 'Recent requests to the webhook "logged"'))
    lines = log["content"]["body"].splitlines()[2:]
    assert len(lines) == 2
    newest, oldest = lines
    assert "POST → 202" in newest and "sent $" in newest and "transformation failed" in newest
    assert "POST → 400" in oldest and "refused: " in oldest


async def test_static_connection_from_config(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    key = f"static-{uuid.uuid4().hex[:8]}"
    config = yaml.safe_load(bridge.files.config_path.read_text())
    config.setdefault("connections", []).append(
        {
            "connectionType": HOOK,
            "stateKey": key,
            "roomId": room_id,
            "state": {
                "name": "static hook",
                "transformationFunction": 'result = {version: "v2", plain: `static: ${data.n}`}',
            },
        }
    )
    bridge.files.config_path.write_text(yaml.safe_dump(config))
    bridge.stop()
    bridge.start()
    async with httpx.AsyncClient() as http:
        resp = await http.post(f"{bridge.files.webhook_base}/webhook/{key}", json={"n": 7})
    assert resp.status_code == 202, resp.text
    await user.wait_for_event(room_id, lambda e: e.get("content", {}).get("body") == "static: 7")
    # Room state cannot change it: a hand-written edit is ignored.
    await user.send_state(room_id, HOOK, key, {"name": "edited", "disabled": True})
    await user.send_text(room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(BOT, "No webhooks configured"))
    async with httpx.AsyncClient() as http:
        again = await http.post(f"{bridge.files.webhook_base}/webhook/{key}", json={"n": 8})
    assert again.status_code == 202
