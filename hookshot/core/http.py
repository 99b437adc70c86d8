"""Small HTTP helpers shared by the routes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse


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
