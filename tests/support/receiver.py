"""A real HTTP receiver on loopback for outbound hooks: records requests, can fail on cue."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


@dataclass
class Received:
    method: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    fail_first: int = 0  # answer 500 to this many requests first
    requests: list[Received] = field(default_factory=list)
    attempts: int = 0

    def __post_init__(self) -> None:
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    async def _handle(self, request: Request) -> Response:
        self.attempts += 1
        body = await request.body()
        if self.attempts <= self.fail_first:
            return PlainTextResponse("not yet", status_code=500)
        self.requests.append(Received(request.method, dict(request.headers), body))
        return PlainTextResponse("ok")

    def __enter__(self) -> Receiver:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/hook", self._handle, methods=["POST", "PUT"])])
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}/hook"
        self._sock = sock
        return self

    def __exit__(
        self, exc: type[BaseException] | None, val: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()
