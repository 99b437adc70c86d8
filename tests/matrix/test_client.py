"""The homeserver client against a real HTTP server on loopback (aiohttp's test server): what
goes on the wire, how answers map to results and errors, and what happens when no answer
comes."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from support import tls

from hookshot.dev.homeserver import free_port
from hookshot.errors import HomeserverUnreachable, MatrixError, RateLimited
from hookshot.matrix.client import MatrixClient

BOT = "@hookshot:example.org"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Start = Callable[[Handler], Awaitable[tuple["Homeserver", MatrixClient]]]


@dataclass
class Homeserver:
    """Answers with `handler` and notes what each request carried."""

    handler: Handler
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append((request.method, request.raw_path, dict(request.headers), body))
        return await self.handler(request)


@pytest.fixture
async def served() -> AsyncIterator[Start]:
    cleanup: list[Callable[[], Awaitable[None]]] = []

    async def start(handler: Handler) -> tuple[Homeserver, MatrixClient]:
        hs = Homeserver(handler)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", hs.serve)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        client = MatrixClient(str(server.make_url("")), "as_secret", BOT, timeout=2.0)
        cleanup.extend([client.aclose, server.close])
        return hs, client

    yield start
    for close in cleanup:
        await close()


def answer(status: int = 200, body: object = None, **headers: str) -> Handler:
    async def handler(_: web.Request) -> web.StreamResponse:
        text = "" if body is None else body if isinstance(body, str) else json.dumps(body)
        return web.Response(status=status, text=text, headers=headers)

    return handler


async def test_a_send_carries_token_json_and_the_escaped_path(served: Start) -> None:
    hs, client = await served(answer(body={"event_id": "$e"}))
    event_id = await client.send_event(
        "!room:example.org", "m.room.message", {"body": "hé <b>"}, "t/1", user_id="@u:example.org"
    )
    assert event_id == "$e"
    [(method, path, headers, body)] = hs.seen
    assert method == "PUT"
    # Percent-encoded once, never decoded or encoded again on the way.
    assert path == (
        "/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/t%2F1"
        "?user_id=%40u%3Aexample.org"
    )
    assert headers["Authorization"] == "Bearer as_secret"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"body": "hé <b>"}


async def test_the_bot_itself_is_not_masqueraded(served: Start) -> None:
    hs, client = await served(answer(body={"joined_rooms": ["!a:x", 5]}))
    assert await client.joined_rooms(user_id=BOT) == ["!a:x"]
    assert hs.seen[0][1] == "/_matrix/client/v3/joined_rooms"


async def test_error_answers_map_to_matrix_errors(served: Start) -> None:
    _, client = await served(answer(403, {"errcode": "M_FORBIDDEN", "error": "not in room"}))
    with pytest.raises(MatrixError) as caught:
        await client.get_profile("@u:example.org")
    assert (caught.value.status, caught.value.errcode) == (403, "M_FORBIDDEN")
    assert caught.value.permanent


async def test_an_error_page_that_is_not_json_keeps_the_status(served: Start) -> None:
    _, client = await served(answer(502, "<html>Bad Gateway</html>"))
    with pytest.raises(MatrixError) as caught:
        await client.versions()
    assert (caught.value.status, caught.value.errcode) == (502, "M_UNKNOWN")
    assert not caught.value.permanent


async def test_a_2xx_that_is_not_json_is_an_error_not_a_crash(served: Start) -> None:
    _, client = await served(answer(200, "<html>proxy login</html>"))
    with pytest.raises(MatrixError) as caught:
        await client.versions()
    assert caught.value.errcode == "M_NOT_JSON"
    assert not caught.value.permanent


@pytest.mark.parametrize(
    ("body", "headers", "wait_ms"),
    [
        ({"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 1500}, {}, 1500),
        ({"errcode": "M_LIMIT_EXCEEDED"}, {"Retry-After": "3"}, 3000),
        ({"errcode": "M_LIMIT_EXCEEDED"}, {"Retry-After": "soon"}, 1000),
    ],
)
async def test_rate_limits_carry_the_wait(
    served: Start, body: dict[str, object], headers: dict[str, str], wait_ms: int
) -> None:
    _, client = await served(answer(429, body, **headers))
    with pytest.raises(RateLimited) as caught:
        await client.versions()
    assert caught.value.retry_after_ms == wait_ms


async def test_nan_is_refused_before_anything_is_sent(served: Start) -> None:
    hs, client = await served(answer(body={}))
    with pytest.raises(ValueError, match="JSON"):
        await client.request("PUT", "/x", {"n": float("nan")})
    assert hs.seen == []


async def test_a_closed_port_is_unreachable() -> None:
    client = MatrixClient(f"http://127.0.0.1:{free_port()}", "t", BOT, timeout=2.0)
    try:
        with pytest.raises(HomeserverUnreachable, match="GET versions: ClientConnectorError"):
            await client.versions()
    finally:
        await client.aclose()


async def test_no_answer_in_time_is_unreachable(served: Start) -> None:
    release = asyncio.Event()

    async def stall(_: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(text="{}")

    _, client = await served(stall)
    client_short = MatrixClient(client.base_url, "t", BOT, timeout=0.2)
    try:
        with pytest.raises(HomeserverUnreachable, match="Timeout"):
            await client_short.versions()
    finally:
        release.set()
        await client_short.aclose()


async def test_a_connection_dropped_mid_answer_is_unreachable(served: Start) -> None:
    async def drop(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response(text="{}")

    _, client = await served(drop)
    with pytest.raises(HomeserverUnreachable):
        await client.versions()


async def test_a_slow_download_that_keeps_arriving_is_not_cut_off(served: Start) -> None:
    """Timeouts are per wait for bytes, not per call: 1.5 s of trickle (a chunk each 0.1 s,
    the server's pace) outlasts a 1 s limit."""

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        await response.prepare(request)
        for _ in range(15):
            await response.write(b"x" * 1000)
            await asyncio.sleep(0.1)
        await response.write_eof()
        return response

    _, client = await served(trickle)
    slow = MatrixClient(client.base_url, "t", BOT, timeout=1.0)
    try:
        data, kind = await slow.download("mxc://example.org/slow")
    finally:
        await slow.aclose()
    assert (len(data), kind) == (15_000, "image/png")


async def test_downloads_are_capped_and_typed(served: Start) -> None:
    async def media(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/missing"):
            return web.json_response({"errcode": "M_NOT_FOUND", "error": "gone"}, status=404)
        return web.Response(body=b"x" * 200_000, content_type="image/png")

    hs, client = await served(media)
    data, kind = await client.download("mxc://example.org/abc")
    assert (len(data), kind) == (200_000, "image/png")
    assert hs.seen[0][1] == "/_matrix/client/v1/media/download/example.org/abc"
    assert hs.seen[0][2]["Authorization"] == "Bearer as_secret"
    with pytest.raises(MatrixError) as caught:
        await client.download("mxc://example.org/abc", max_bytes=100_000)
    assert caught.value.status == 413
    with pytest.raises(MatrixError) as caught:
        await client.download("mxc://example.org/missing")
    assert caught.value.errcode == "M_NOT_FOUND"
    with pytest.raises(MatrixError):
        await client.download("https://example.org/abc")


async def test_https_trusts_what_the_bridge_s_other_clients_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A homeserver behind a certificate the trust store lacks is refused (never sent the
    token); named in SSL_CERT_FILE, as for the httpx clients, it is trusted."""
    cert, key = tls.localhost_cert(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    hs = Homeserver(answer(body={"versions": ["v1.11"]}))
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hs.serve)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    try:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        strict = MatrixClient(f"https://localhost:{port}", "t", BOT, timeout=5.0)
        try:
            with pytest.raises(HomeserverUnreachable, match="certificate"):
                await strict.versions()
        finally:
            await strict.aclose()
        assert hs.seen == []
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        trusting = MatrixClient(f"https://localhost:{port}", "t", BOT, timeout=5.0)
        try:
            assert await trusting.versions() == {"versions": ["v1.11"]}
        finally:
            await trusting.aclose()
    finally:
        await runner.cleanup()
