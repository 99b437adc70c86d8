"""Outbound hooks: state validation, hookshot's multipart body read back part by part, the
SSRF guard, and delivery to a real HTTP receiver on a loopback port."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hookshot.errors import StateError
from hookshot.services.generic import outbound_hook
from hookshot.services.generic.outbound import (
    HEADER_EVENT_ID,
    HEADER_ROOM_ID,
    HEADER_SIGNATURE,
    HEADER_TOKEN,
    DeliveryResult,
    Media,
    MediaRef,
    OutboundRequest,
    TargetRefused,
    TargetUnresolved,
    _retry_after,
    build_request,
    check_target,
    deliver,
    guarded_client,
    is_forwarded,
    media_reference,
    new_outbound_token,
)
from hookshot.services.generic.outbound_hook import OutboundHookState, parse_state
from hookshot.widget.openid import parse_networks, resolve_host

ROOM = "!room:example.org"
TOKEN = "hs-ob-5f0c8a6e-8a54-4a8e-9d4e-6c1f2b7d9e01"

# --- state ------------------------------------------------------------------------------------

OK = "https://example.com/hook"
STRING = "Outbound URL must be a string"
NAME = "A webhook name must be a string."
PROTOCOL = "Outbound URL protocol must be http or https"
INVALID = "Outbound URL is invalid"
METHOD = "Outbound Method must be one of PUT,POST"

STATE_CASES: list[tuple[str, dict[str, Any], OutboundHookState | str]] = [
    ("default method", {"name": "hook", "url": OK}, OutboundHookState("hook", OK, "PUT")),
    ("post", {"name": "hook", "url": OK, "method": "POST"}, OutboundHookState("hook", OK, "POST")),
    ("put", {"name": "hook", "url": OK, "method": "PUT"}, OutboundHookState("hook", OK, "PUT")),
    ("http", {"name": "h", "url": "http://10.0.0.1:8080/x?y=1"}, "ok"),
    ("upper scheme", {"name": "h", "url": "HTTPS://Example.COM/p"}, "ok"),
    ("ipv6", {"name": "h", "url": "http://[2001:db8::1]:80/"}, "ok"),
    ("idn", {"name": "h", "url": "https://bücher.example/"}, "ok"),
    ("padded", {"name": "h", "url": f"  {OK} \n"}, OutboundHookState("h", OK, "PUT")),
    ("short name ok in state", {"name": "", "url": OK}, OutboundHookState("", OK, "PUT")),
    ("no url", {"name": "hook"}, STRING),
    ("url not string", {"name": "hook", "url": 5}, STRING),
    ("url checked before name", {"url": None}, STRING),
    ("no name", {"url": OK}, NAME),
    ("name not string", {"name": 3, "url": OK}, NAME),
    ("ftp", {"name": "h", "url": "ftp://example.com/"}, PROTOCOL),
    ("javascript", {"name": "h", "url": "javascript:alert(1)"}, PROTOCOL),
    ("file", {"name": "h", "url": "file:///etc/passwd"}, PROTOCOL),
    ("no scheme", {"name": "h", "url": "example.com/hook"}, INVALID),
    ("words", {"name": "h", "url": "not a url"}, INVALID),
    ("empty", {"name": "h", "url": ""}, INVALID),
    ("no host", {"name": "h", "url": "http://"}, INVALID),
    ("space in host", {"name": "h", "url": "http://exa mple.com/"}, INVALID),
    ("bad port", {"name": "h", "url": "http://example.com:99999/"}, INVALID),
    ("bad ipv6", {"name": "h", "url": "http://[nope]/"}, INVALID),
    ("get", {"name": "h", "url": OK, "method": "GET"}, METHOD),
    ("lower case", {"name": "h", "url": OK, "method": "post"}, METHOD),
    ("null method", {"name": "h", "url": OK, "method": None}, METHOD),
]


def test_hookshot_messages() -> None:
    assert (STRING, NAME, PROTOCOL, INVALID, METHOD) == (
        outbound_hook.URL_NOT_STRING,
        outbound_hook.NAME_NOT_STRING,
        outbound_hook.URL_BAD_PROTOCOL,
        outbound_hook.URL_INVALID,
        outbound_hook.BAD_METHOD,
    )


@pytest.mark.parametrize(
    ("content", "expected"), [c[1:] for c in STATE_CASES], ids=[c[0] for c in STATE_CASES]
)
def test_parse_state(content: dict[str, Any], expected: OutboundHookState | str) -> None:
    if isinstance(expected, OutboundHookState):
        assert parse_state(content) == expected
    elif expected == "ok":
        assert parse_state(content).url == content["url"]
    else:
        with pytest.raises(StateError) as err:
            parse_state(content)
        assert str(err.value) == expected


def test_from_state_and_content() -> None:
    content = {"name": "ci", "url": OK, "method": "POST", "priority": "ignored as hookshot does"}
    hook = outbound_hook.from_state(ROOM, outbound_hook.OUTBOUND_HOOK, "ci", content, TOKEN)
    assert (hook.room_id, hook.state_key, hook.token) == (ROOM, "ci", TOKEN)
    assert (hook.name, hook.url, hook.method, hook.priority) == ("ci", OK, "POST", -1)
    assert hook.key == (ROOM, outbound_hook.OUTBOUND_HOOK, "ci")
    assert hook.state.to_content() == {"name": "ci", "url": OK, "method": "POST"}
    assert outbound_hook.is_outbound_hook_type("uk.half-shot.matrix-hookshot.outbound-hook")
    with pytest.raises(StateError, match="Missing stored token"):
        outbound_hook.from_state(ROOM, outbound_hook.OUTBOUND_HOOK, "ci", content, "")


def test_token_places() -> None:
    digest = hashlib.md5(b"!room:example.org:ci").hexdigest()
    assert outbound_hook.token_account_data_key(ROOM, "ci") == (
        f"generic:outboundHookToken:{digest}"
    )
    assert outbound_hook.legacy_token_account_data_key("ci") == (
        "uk.half-shot.matrix-hookshot.outbound-hook:ci"
    )


def test_new_outbound_token() -> None:
    tokens = {new_outbound_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert re.fullmatch(
            r"hs-ob-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", token
        )


# --- the body ---------------------------------------------------------------------------------

TEXT_EVENT: dict[str, Any] = {
    "type": "m.room.message",
    "room_id": ROOM,
    "sender": "@alice:example.org",
    "event_id": "$Xq3b8nD1xW8fZ0yX2m5-4KQXbBfTH0Bq4l7KpA0hVjY",
    "origin_server_ts": 1718000000000,
    "content": {"msgtype": "m.text", "body": 'héllo "wörld"\n<b>✓</b>'},
    "unsigned": {"age": 12, "transaction_id": "m1718000000000.0"},
}
FILE_EVENT: dict[str, Any] = {
    "type": "m.room.message",
    "room_id": ROOM,
    "sender": "@alice:example.org",
    "event_id": "$file",
    "origin_server_ts": 1718000000001,
    "content": {
        "msgtype": "m.file",
        "body": "matrix.svg",
        "url": "mxc://example.org/abcdef",
        "info": {"mimetype": "image/svg+xml", "size": 9},
    },
}
# Every byte value, CRLFs and a fake boundary line: the parts must survive them all.
MEDIA = bytes(range(256)) + b"\r\n--form-data-boundary-x\r\n\r\n"


@dataclass
class Part:
    name: str | None
    filename: str | None
    content_type: str
    data: bytes


def parse_parts(content_type: str, body: bytes) -> list[Part]:
    """The multipart body read back with the standard library's MIME parser."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    assert message.is_multipart()
    assert not message.defects
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        name = part.get_param("name", header="content-disposition")
        parts.append(
            Part(
                name=name if isinstance(name, str) else None,
                filename=part.get_filename(),
                content_type=part.get_content_type(),
                data=payload,
            )
        )
    return parts


def test_text_event_is_one_json_part() -> None:
    request = build_request(
        TEXT_EVENT, url=OK, method="PUT", token=TOKEN, media=None, secret_for_signature=TOKEN
    )
    assert (request.method, request.url) == ("PUT", OK)
    assert re.fullmatch(
        r"multipart/form-data; boundary=form-data-boundary-[A-Za-z0-9_-]{25}", request.content_type
    )
    [event] = parse_parts(request.content_type, request.body)
    assert (event.name, event.filename, event.content_type) == (
        "event",
        "event_data.json",
        "application/json",
    )
    assert json.loads(event.data) == TEXT_EVENT
    # JSON.stringify's form: compact, UTF-8 as is.
    assert event.data == json.dumps(TEXT_EVENT, separators=(",", ":"), ensure_ascii=False).encode()


def test_media_event_has_event_and_media_parts() -> None:
    request = build_request(
        FILE_EVENT,
        url=OK,
        method="POST",
        token=TOKEN,
        media=Media(MEDIA, "image/svg+xml", "matrix.svg"),
        secret_for_signature=TOKEN,
    )
    event, media = parse_parts(request.content_type, request.body)
    assert (event.name, event.filename, event.content_type) == (
        "event",
        "event_data.json",
        "application/json",
    )
    assert json.loads(event.data) == FILE_EVENT
    assert (media.name, media.filename, media.content_type) == (
        "media",
        "matrix.svg",
        "image/svg+xml",
    )
    assert media.data == MEDIA


def test_exact_bytes_as_axios_writes_them() -> None:
    event = {"type": "m.room.message", "event_id": "$e", "room_id": "!r:x", "content": {}}
    request = build_request(
        event,
        url=OK,
        method="PUT",
        token="t",
        media=(b"\x89PNG\r\n", "Image/PNG", 'a "quoted"\r\nname.png'),
        secret_for_signature=None,
        boundary="form-data-boundary-0123456789abcdefghijklmno",
    )
    assert request.body == (
        b"--form-data-boundary-0123456789abcdefghijklmno\r\n"
        b'Content-Disposition: form-data; name="event"; filename="event_data.json"\r\n'
        b"Content-Type: application/json\r\n"
        b"\r\n"
        b'{"type":"m.room.message","event_id":"$e","room_id":"!r:x","content":{}}\r\n'
        b"--form-data-boundary-0123456789abcdefghijklmno\r\n"
        b'Content-Disposition: form-data; name="media"; filename="a %22quoted%22%0D%0Aname.png"\r\n'
        b"Content-Type: image/png\r\n"
        b"\r\n"
        b"\x89PNG\r\n\r\n"
        b"--form-data-boundary-0123456789abcdefghijklmno--\r\n"
    )


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("image/png", "image/png"),
        ("Text/Plain; Charset=UTF-8", "text/plain; charset=utf-8"),
        ("", "application/octet-stream"),
        ("image/pñg", "application/octet-stream"),
    ],
)
def test_media_content_type_as_a_blob_keeps_it(given: str, sent: str) -> None:
    request = build_request(
        FILE_EVENT,
        url=OK,
        method="PUT",
        token=TOKEN,
        media=(b"x", given, "f"),
        secret_for_signature=None,
    )
    assert parse_parts(request.content_type, request.body)[1].content_type == sent.split(";")[0]
    assert f"\r\nContent-Type: {sent}\r\n".encode() in request.body


def test_media_without_a_file_name_has_no_filename() -> None:
    request = build_request(
        FILE_EVENT,
        url=OK,
        method="PUT",
        token=TOKEN,
        media=(b"x", "a/b", ""),
        secret_for_signature=None,
    )
    assert b'Content-Disposition: form-data; name="media"\r\n' in request.body


def test_headers_and_signature() -> None:
    request = build_request(
        TEXT_EVENT, url=OK, method="PUT", token=TOKEN, media=None, secret_for_signature=TOKEN
    )
    headers = request.headers
    assert headers[HEADER_ROOM_ID] == ROOM
    assert headers[HEADER_EVENT_ID] == TEXT_EVENT["event_id"]
    assert headers[HEADER_TOKEN] == TOKEN
    assert headers["Content-Type"] == request.content_type
    expected = hmac.new(TOKEN.encode(), request.body, hashlib.sha256).hexdigest()
    assert headers[HEADER_SIGNATURE] == f"sha256={expected}"
    with pytest.raises(TypeError):
        headers["X-Other"] = "no"  # type: ignore[index]


def test_no_signature_without_a_secret_and_room_override() -> None:
    event = {k: v for k, v in TEXT_EVENT.items() if k != "room_id"}
    request = build_request(
        event,
        url=OK,
        method="PUT",
        token=TOKEN,
        media=None,
        secret_for_signature=None,
        room_id=ROOM,
    )
    assert HEADER_SIGNATURE not in request.headers
    assert request.headers[HEADER_ROOM_ID] == ROOM
    with pytest.raises(ValueError, match="event_id and a room_id"):
        build_request(
            event, url=OK, method="PUT", token=TOKEN, media=None, secret_for_signature=None
        )


def test_boundaries_are_random_and_never_in_the_body() -> None:
    def boundary() -> str:
        request = build_request(
            TEXT_EVENT, url=OK, method="PUT", token=TOKEN, media=None, secret_for_signature=None
        )
        return request.content_type.split("boundary=")[1]

    assert len({boundary() for _ in range(20)}) == 20
    with pytest.raises(ValueError, match="occurs in the body"):
        build_request(
            FILE_EVENT,
            url=OK,
            method="PUT",
            token=TOKEN,
            media=(b"--abc", "a/b", "f"),
            secret_for_signature=None,
            boundary="abc",
        )
    with pytest.raises(ValueError, match="not a multipart boundary"):
        build_request(
            TEXT_EVENT,
            url=OK,
            method="PUT",
            token=TOKEN,
            media=None,
            secret_for_signature=None,
            boundary="a\r\nb",
        )


def test_a_lone_surrogate_still_makes_json() -> None:
    event = {**TEXT_EVENT, "content": {"msgtype": "m.text", "body": "bad \ud800 é"}}
    request = build_request(
        event, url=OK, method="PUT", token=TOKEN, media=None, secret_for_signature=None
    )
    [part] = parse_parts(request.content_type, request.body)
    assert json.loads(part.data)["content"]["body"] == "bad \ud800 é"


def test_which_events_are_forwarded() -> None:
    def bridge(user: str) -> bool:
        return user in {"@hookshot:example.org", "@webhook_ci:example.org"}

    def ev(**fields: Any) -> dict[str, Any]:
        return {
            "type": "m.room.message",
            "event_id": "$e",
            "sender": "@alice:example.org",
            **fields,
        }

    assert is_forwarded(ev(), is_bridge_user=bridge)
    assert is_forwarded(ev(type="m.room.redaction", redacts="$x"), is_bridge_user=bridge)
    assert is_forwarded(ev(type="m.reaction"), is_bridge_user=bridge)
    assert is_forwarded(ev(type="m.room.encrypted"), is_bridge_user=bridge)
    edit = ev(content={"m.new_content": {"body": "x"}, "m.relates_to": {"rel_type": "m.replace"}})
    assert is_forwarded(edit, is_bridge_user=bridge)
    assert not is_forwarded(ev(type="m.room.topic", state_key=""), is_bridge_user=bridge)
    assert not is_forwarded(ev(type="m.room.member", state_key="@a:b"), is_bridge_user=bridge)
    assert not is_forwarded(ev(sender="@hookshot:example.org"), is_bridge_user=bridge)
    assert not is_forwarded(ev(sender="@webhook_ci:example.org"), is_bridge_user=bridge)
    assert not is_forwarded({"type": "m.typing", "content": {}}, is_bridge_user=bridge)


SVG = "image/svg+xml"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (FILE_EVENT["content"], MediaRef("mxc://example.org/abcdef", "matrix.svg", SVG)),
        ({"msgtype": "m.image", "body": "a", "url": "mxc://s/m"}, MediaRef("mxc://s/m", "a", None)),
        ({"msgtype": "m.video", "url": "mxc://s/m", "info": []}, MediaRef("mxc://s/m", "", None)),
        ({"msgtype": "m.text", "body": "hi", "url": "mxc://s/m"}, None),
        ({"msgtype": "m.file", "body": "f", "file": {"url": "mxc://s/enc"}}, None),
        ({"msgtype": "m.audio", "body": "f", "url": "https://example.com/a"}, None),
        ("not an object", None),
    ],
)
def test_media_reference(content: object, expected: MediaRef | None) -> None:
    assert media_reference({"type": "m.room.message", "content": content}) == expected


# --- the SSRF guard ---------------------------------------------------------------------------

Resolved = Mapping[str, list[str] | Exception]


def fake_resolver(table: Resolved) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        answer = table.get(host, OSError(f"unknown host {host}"))
        if isinstance(answer, Exception):
            raise answer
        return answer

    return resolve


async def no_resolver(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} must not be resolved")


DNS: Resolved = {
    "public.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "internal.example": ["10.1.2.3"],
    "mixed.example": ["93.184.215.14", "192.168.1.20"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "nothing.example": [],
}

REFUSED = [
    "http://127.0.0.1/",
    "http://127.1.2.3:8080/x",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.0.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0:9000/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]:8443/",
    "https://internal.example/hook",
    "https://mixed.example/hook",
    "https://mapped.example/hook",
    "https://metadata.example/",
    "https://INTERNAL.example/hook",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_private_targets_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="private or reserved address") as err:
        await check_target(url, allow_private=False, resolver=fake_resolver(DNS))
    assert not isinstance(err.value, TargetUnresolved)
    assert "10.1.2.3" not in str(err.value)  # resolved addresses are not told to the room


@pytest.mark.parametrize(
    "url",
    ["https://public.example/hook", "http://93.184.215.14:8080/", "http://[2606:4700::1111]/"],
)
async def test_public_targets_pass(url: str) -> None:
    await check_target(url, allow_private=False, resolver=fake_resolver(DNS))


async def test_allowed_when_configured() -> None:
    for url in ("http://127.0.0.1/", "https://internal.example/", "http://[::1]:1/"):
        await check_target(url, allow_private=True, resolver=no_resolver)
    allowed = parse_networks(["10.1.0.0/16"])
    await check_target(
        "https://internal.example/",
        allow_private=False,
        allowed=allowed,
        resolver=fake_resolver(DNS),
    )
    with pytest.raises(TargetRefused):
        await check_target(
            "https://mixed.example/",
            allow_private=False,
            allowed=allowed,
            resolver=fake_resolver(DNS),
        )
    # An explicit list replaces the default one.
    await check_target(
        "http://127.0.0.1/", allow_private=False, disallowed=parse_networks(["10.0.0.0/8"])
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://public.example/", "protocol must be http or https"),
        ("gopher://127.0.0.1/", "protocol must be http or https"),
        ("http://", INVALID),
        ("http://public.example:70000/", INVALID),
    ],
)
async def test_non_http_targets_are_refused(url: str, message: str) -> None:
    with pytest.raises(TargetRefused, match=message):
        await check_target(url, allow_private=True, resolver=no_resolver)


@pytest.mark.parametrize("url", ["https://nowhere.example/", "https://nothing.example/"])
async def test_unresolvable_targets(url: str) -> None:
    with pytest.raises(TargetUnresolved, match="cannot be resolved"):
        await check_target(url, allow_private=False, resolver=fake_resolver(DNS))


@pytest.mark.parametrize("url", ["http://localhost:8080/", "http://2130706433/", "http://0x7f.1/"])
async def test_the_system_resolver_is_checked_too(url: str) -> None:
    # What the name becomes to the C library is checked, whatever the spelling.
    with pytest.raises(TargetRefused, match="private or reserved"):
        await check_target(url, allow_private=False, resolver=resolve_host)


# --- delivery to a real receiver -------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A Starlette app on a loopback port, in a thread; /status/<n> answers n."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[Route("/status/{code:int}", self._answer, methods=["PUT", "POST"])]
        )
        self.url = ""
        self.port = 0

    async def _answer(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.requests.append(
                Received(request.method, request.url.path, dict(request.headers), body)
            )
        code = request.path_params["code"]
        headers = {}
        if code == 429:
            headers["Retry-After"] = "7"
        if code == 302:
            headers["Location"] = "http://169.254.169.254/latest/meta-data/"
        return Response("x" * 4096 if code == 500 else "OK", status_code=code, headers=headers)

    def take(self) -> list[Received]:
        with self._lock:
            taken, self.requests = self.requests, []
        return taken

    def __enter__(self) -> Receiver:
        self._socket = sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", access_log=False, http="h11", ws="none"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="receiver", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def request_to(url: str, *, method: str = "PUT", media: Media | None = None) -> OutboundRequest:
    event = FILE_EVENT if media else TEXT_EVENT
    return build_request(
        event, url=url, method=method, token=TOKEN, media=media, secret_for_signature=TOKEN
    )


async def send(request: OutboundRequest, **client_options: Any) -> DeliveryResult:
    options = {"allow_private": True, **client_options}
    async with guarded_client(**options) as client:
        return await deliver(request, client=client)


async def test_delivered_as_sent(receiver: Receiver) -> None:
    receiver.take()
    attached = Media(MEDIA, "image/svg+xml", "matrix.svg")
    request = request_to(f"{receiver.url}/status/200", method="POST", media=attached)
    result = await send(request)
    assert result == DeliveryResult(200, ok=True, retryable=False, detail="HTTP 200")
    [got] = receiver.take()
    assert (got.method, got.path, got.body) == ("POST", "/status/200", request.body)
    assert got.headers["x-matrix-hookshot-roomid"] == ROOM
    assert got.headers["x-matrix-hookshot-eventid"] == "$file"
    assert got.headers["x-matrix-hookshot-token"] == TOKEN
    assert got.headers["content-length"] == str(len(request.body))
    signature = "sha256=" + hmac.new(TOKEN.encode(), got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.headers["x-matrix-hookshot-signature"], signature)
    event, media = parse_parts(got.headers["content-type"], got.body)
    assert json.loads(event.data) == FILE_EVENT
    assert (media.filename, media.content_type, media.data) == (
        "matrix.svg",
        "image/svg+xml",
        MEDIA,
    )


@pytest.mark.parametrize(
    ("status", "retryable", "retry_after"),
    [
        (500, True, None),
        (503, True, None),
        (429, True, 7.0),
        (408, True, None),
        (404, False, None),
        (400, False, None),
        (410, False, None),
    ],
)
async def test_failures(
    receiver: Receiver, status: int, retryable: bool, retry_after: float | None
) -> None:
    receiver.take()
    result = await send(request_to(f"{receiver.url}/status/{status}"))
    assert (result.status, result.ok, result.retryable) == (status, False, retryable)
    assert (result.detail, result.retry_after) == (f"HTTP {status}", retry_after)
    assert len(result.response_excerpt) <= 512
    assert len(receiver.take()) == 1


async def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.take()
    result = await send(request_to(f"{receiver.url}/status/302"))
    assert (result.status, result.ok, result.retryable) == (302, False, False)
    assert "not followed" in result.detail
    assert len(receiver.take()) == 1


async def test_connection_refused_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await send(request_to(f"http://127.0.0.1:{port}/hook"))
    assert (result.status, result.ok, result.retryable) == (None, False, True)
    assert result.detail.startswith("ConnectError")


async def test_the_guarded_client_refuses_private_targets(receiver: Receiver) -> None:
    receiver.take()
    result = await send(request_to(f"{receiver.url}/status/200"), allow_private=False)
    assert (result.status, result.ok, result.retryable) == (None, False, False)
    assert "private or reserved" in result.detail
    assert receiver.take() == []


async def test_the_guarded_client_checks_the_address_it_connects_to(receiver: Receiver) -> None:
    # A name that passed an earlier check now resolves to loopback (DNS rebinding).
    rebinding = fake_resolver({"hook.test": ["127.0.0.1"]})
    receiver.take()
    url = f"http://hook.test:{receiver.port}/status/200"
    result = await send(request_to(url), allow_private=False, resolver=rebinding)
    assert (result.ok, result.retryable) == (False, False)
    assert receiver.take() == []
    # Allowed, it connects to the address it checked and still names the host.
    allowed = parse_networks(["127.0.0.0/8"])
    result = await send(request_to(url), allow_private=False, resolver=rebinding, allowed=allowed)
    assert result.ok
    [got] = receiver.take()
    assert got.headers["host"] == f"hook.test:{receiver.port}"


async def test_unresolvable_at_send_time_is_retryable() -> None:
    result = await send(
        request_to("http://gone.test/hook"), allow_private=False, resolver=fake_resolver({})
    )
    assert (result.status, result.ok, result.retryable) == (None, False, True)
    assert "cannot be resolved" in result.detail


def test_retry_after_forms() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert _retry_after("120", now) == 120.0
    assert _retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert _retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
    assert _retry_after("soon", now) is None
    assert _retry_after(None, now) is None
