"""Small HTTP helpers shared by the routes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class TooLarge(Exception):
    """The body is larger than the limit."""


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes before reading them all."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class _Rendered(Response):
    def __init__(self, status_code: int, body: bytes, raw_headers: list[tuple[bytes, bytes]]):
        # No super().__init__(): the body and headers were rendered once, by `Prebuilt`.
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = list(raw_headers)  # its own: middleware may add to the list it sends


class Prebuilt:
    """A constant JSON answer on a hot route (the intake's 202, the appservice's `{}`),
    rendered once: encoding and header set-up per request were ~3% of a webhooks process's
    CPU. Each call makes a response that sends byte for byte what `JSONResponse` would."""

    def __init__(self, content: Any, status_code: int = 200) -> None:
        template = JSONResponse(content, status_code=status_code)
        self._parts = (template.status_code, bytes(template.body), template.raw_headers)

    def __call__(self) -> Response:
        return _Rendered(*self._parts)


def refuse(status: int, error: str) -> JSONResponse:
    """A webhook refusal: `{"ok": false, "error": ...}` with a precise status."""
    return JSONResponse({"ok": False, "error": error}, status_code=status)


def too_many(retry_after: int) -> JSONResponse:
    """429 past a hook's rate limit; `retry_after` is whole seconds until a request passes."""
    return JSONResponse(
        {"ok": False, "error": f"Too many requests; retry in {retry_after} s"},
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )


def starting() -> JSONResponse:
    """503 while room state loads: hooks are unknown yet, and a 404 would be a lie."""
    return JSONResponse(
        {"ok": False, "error": "The bridge is starting; try again shortly"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


def stopping() -> JSONResponse:
    """503 while the process stops: another process (or this one, restarted) takes it."""
    return JSONResponse(
        {"ok": False, "error": "The bridge is stopping; try again shortly"},
        status_code=503,
        headers={"Retry-After": "5", "Connection": "close"},
    )


def unavailable(reason: str) -> JSONResponse:
    """503 when what makes a 2xx true (the queue) cannot be reached: the sender retries."""
    return JSONResponse(
        {"ok": False, "error": f"Temporarily unavailable: {reason}"},
        status_code=503,
        headers={"Retry-After": "5"},
    )
