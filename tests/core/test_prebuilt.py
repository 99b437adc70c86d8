"""The intake's prebuilt 202 sends exactly what `JSONResponse({"ok": True}, 202)` does."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from hookshot.services.generic.intake import Accepted


async def sent(response: Response) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await response({"type": "http", "method": "POST", "path": "/"}, receive, send)
    return messages


async def test_the_prebuilt_202_is_byte_for_byte_the_json_response() -> None:
    expected = await sent(JSONResponse({"ok": True}, status_code=202))
    assert await sent(Accepted()) == expected
    assert expected[1]["body"] == b'{"ok":true}'


async def test_each_202_has_its_own_headers() -> None:
    first, second = Accepted(), Accepted()
    first.headers["x-added"] = "by middleware"  # what a middleware may do to a response
    assert "x-added" not in second.headers
    assert (await sent(Accepted()))[0]["headers"] == (await sent(second))[0]["headers"]
