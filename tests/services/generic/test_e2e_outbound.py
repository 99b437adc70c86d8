"""Outbound hooks end to end: a room message reaches a local receiver as hookshot's multipart
request, signed, and is retried after the receiver fails twice."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
import json

import httpx
from conftest import UserFactory
from support.flows import admin_room, command, notice_from, room_with_bot
from support.receiver import Receiver

from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"


async def test_room_message_reaches_receiver_after_two_failures(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    with Receiver(fail_first=2) as receiver:
        await command(user, room_id, f"!hookshot outbound-hook cipipe {receiver.url}")
        dm = await admin_room(user, BOT)
        notice = await user.wait_for_event(
            dm, notice_from(BOT, 'You have bridged the webhook "cipipe"')
        )
        token = notice["content"]["body"].split("`")[1]
        assert token.startswith("hs-ob-")
        event_id = await user.send_text(room_id, "deploy please")
        for _ in range(300):
            if receiver.requests:
                break
            await asyncio.sleep(0.1)
        assert receiver.attempts == 3 and len(receiver.requests) == 1
    got = receiver.requests[0]
    assert got.method == "PUT"
    assert got.headers["x-matrix-hookshot-roomid"] == room_id
    assert got.headers["x-matrix-hookshot-eventid"] == event_id
    assert got.headers["x-matrix-hookshot-token"] == token
    expected = "sha256=" + hmac.new(token.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-matrix-hookshot-signature"] == expected
    message = email.message_from_bytes(
        b"Content-Type: " + got.headers["content-type"].encode() + b"\r\n\r\n" + got.body,
        policy=email.policy.HTTP,
    )
    parts = {
        part.get_param("name", header="content-disposition"): part for part in message.iter_parts()
    }
    event = json.loads(parts["event"].get_payload(decode=True))
    assert event["event_id"] == event_id and event["content"]["body"] == "deploy please"


async def test_outbound_hook_refuses_bad_urls(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    await command(user, room_id, "!hookshot outbound-hook bad ftp://example.org/x", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: Outbound URL protocol must be http")
    )


async def test_file_messages_carry_the_media_part(
    bridge: BridgeProcess, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    async with httpx.AsyncClient() as http:
        upload = await http.post(
            f"{synapse.base_url}/_matrix/media/v3/upload",
            params={"filename": "report.csv"},
            content=b"a,b\n1,2\n",
            headers={"Authorization": f"Bearer {user.access_token}", "Content-Type": "text/csv"},
        )
    assert upload.status_code == 200, upload.text
    mxc = upload.json()["content_uri"]
    with Receiver() as receiver:
        await command(user, room_id, f"!hookshot outbound-hook files {receiver.url}")
        await user.send_event(
            room_id,
            "m.room.message",
            {
                "msgtype": "m.file",
                "body": "report.csv",
                "url": mxc,
                "info": {"mimetype": "text/csv"},
            },
        )
        for _ in range(100):
            if receiver.requests:
                break
            await asyncio.sleep(0.1)
    got = receiver.requests[0]
    message = email.message_from_bytes(
        b"Content-Type: " + got.headers["content-type"].encode() + b"\r\n\r\n" + got.body,
        policy=email.policy.HTTP,
    )
    parts = {
        part.get_param("name", header="content-disposition"): part for part in message.iter_parts()
    }
    media = parts["media"]
    assert media.get_payload(decode=True) == b"a,b\n1,2\n"
    assert media.get_filename() == "report.csv"
    assert media.get_content_type() == "text/csv"


async def test_image_bytes_are_forwarded_unchanged(
    bridge: BridgeProcess, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    # Binary content (a PNG signature, every byte value): nothing may be re-encoded on the way.
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64
    async with httpx.AsyncClient() as http:
        upload = await http.post(
            f"{synapse.base_url}/_matrix/media/v3/upload",
            params={"filename": "chart.png"},
            content=image,
            headers={"Authorization": f"Bearer {user.access_token}", "Content-Type": "image/png"},
        )
    assert upload.status_code == 200, upload.text
    with Receiver() as receiver:
        await command(user, room_id, f"!hookshot outbound-hook images {receiver.url}")
        event_id = await user.send_event(
            room_id,
            "m.room.message",
            {
                "msgtype": "m.image",
                "body": "chart.png",
                "url": upload.json()["content_uri"],
                "info": {"mimetype": "image/png", "size": len(image)},
            },
        )
        for _ in range(100):
            if receiver.requests:
                break
            await asyncio.sleep(0.1)
    got = receiver.requests[0]
    assert got.headers["x-matrix-hookshot-eventid"] == event_id
    message = email.message_from_bytes(
        b"Content-Type: " + got.headers["content-type"].encode() + b"\r\n\r\n" + got.body,
        policy=email.policy.HTTP,
    )
    parts = {
        part.get_param("name", header="content-disposition"): part for part in message.iter_parts()
    }
    assert json.loads(parts["event"].get_payload(decode=True))["event_id"] == event_id
    assert parts["media"].get_payload(decode=True) == image
    assert parts["media"].get_filename() == "chart.png"
    assert parts["media"].get_content_type() == "image/png"
