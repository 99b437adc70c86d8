"""The webhooks listener's shortcut (hookshot/core/hot_path.py): a hot route answers exactly what
the router would, errors go through the app's exception handlers, and everything it does not
match reaches the app untouched."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookshot.core.hot_path import HotPaths, HotRoute, mounted
from hookshot.core.queue.base import QueueError


async def endpoint(request: Request) -> Response:
    hook_id = request.path_params["hook_id"]
    if hook_id == "queue-down":
        raise QueueError("disk full")
    if hook_id == "bug":
        raise RuntimeError("a bug")
    body = await request.body()
    return JSONResponse(
        {"via": request.scope.get("via", "hot"), "hook": hook_id, "body": body.decode()},
        status_code=202,
    )


async def routed(request: Request) -> Response:
    request.scope["via"] = "router"
    return await endpoint(request)


async def other(_: Request) -> Response:
    return JSONResponse({"via": "router"})


async def queue_down(_: Request, err: Exception) -> Response:
    return JSONResponse({"ok": False, "error": f"queue: {err}"}, status_code=503)


def make_app(mounts: list[str]) -> HotPaths:
    handlers = {QueueError: queue_down}
    inner = Starlette(
        routes=[
            Route("/webhook/{hook_id}", routed, methods=["POST", "PUT"]),
            Route("/other", other, methods=["POST"]),
        ],
        exception_handlers=handlers,
    )
    hot = HotRoute("/webhook/", "hook_id", frozenset({"POST", "PUT"}), endpoint)
    return HotPaths(inner, mounted([hot], mounts), handlers)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app([""]), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as client:
        yield client


async def test_a_hot_route_goes_straight_to_its_endpoint(http: httpx.AsyncClient) -> None:
    answer = await http.post("/webhook/abc", content=b'{"text": "hi"}')
    assert answer.status_code == 202
    assert answer.json() == {"via": "hot", "hook": "abc", "body": '{"text": "hi"}'}


async def test_what_it_does_not_match_reaches_the_app(http: httpx.AsyncClient) -> None:
    # Another method, another path, an empty or nested segment: the router decides.
    assert (await http.get("/webhook/abc")).status_code == 405
    assert (await http.post("/other")).json()["via"] == "router"
    assert (await http.post("/webhook/")).status_code == 404
    assert (await http.post("/webhook/a/b")).status_code == 404


async def test_errors_go_through_the_apps_handlers(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    down = await http.post("/webhook/queue-down")
    assert (down.status_code, down.json()["error"]) == (503, "queue: disk full")
    with caplog.at_level(logging.ERROR, logger="hookshot.core.hot_path"):
        bug = await http.post("/webhook/bug")
    assert (bug.status_code, bug.text) == (500, "Internal Server Error")
    assert "a bug" in caplog.text  # logged with its traceback, as starlette would


async def test_hostile_segments_are_only_path_parameters() -> None:
    transport = httpx.ASGITransport(app=make_app([""]))
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as client:
        # Percent-encoded slashes and dots arrive decoded in the ASGI path: still one
        # segment or not, exactly as starlette's `{param}` would see them.
        dots = await client.post("/webhook/%2E%2E")
        assert dots.json()["hook"] == ".."
        assert (await client.post("/webhook/a%2Fb")).status_code == 404
        long_id = "x" * 5000
        assert (await client.post(f"/webhook/{long_id}")).json()["hook"] == long_id


async def test_under_a_mount_prefix() -> None:
    transport = httpx.ASGITransport(app=make_app(["/hooks/"]))
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as client:
        assert (await client.post("/hooks/webhook/abc")).json()["via"] == "hot"
        # Without the prefix it is not a hot route; the bare app has the route itself.
        assert (await client.post("/webhook/abc")).json()["via"] == "router"
