"""The prebuilt answers of the hot routes (core/http.py `Prebuilt`) send exactly what
`JSONResponse` does: the intake's `{"ok": true}` 202 and the appservice's `{}`."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from hookshot.matrix.appservice import OK
from hookshot.services.generic.intake import ACCEPTED


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
    assert await sent(ACCEPTED()) == expected
    assert expected[1]["body"] == b'{"ok":true}'


async def test_the_appservice_s_empty_answer_is_the_json_response() -> None:
    expected = await sent(JSONResponse({}))
    assert await sent(OK()) == expected
    assert expected[1]["body"] == b"{}"


async def test_each_202_has_its_own_headers() -> None:
    first, second = ACCEPTED(), ACCEPTED()
    first.headers["x-added"] = "by middleware"  # what a middleware may do to a response
    assert "x-added" not in second.headers
    assert (await sent(ACCEPTED()))[0]["headers"] == (await sent(second))[0]["headers"]
