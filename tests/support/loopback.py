"""Serve an ASGI app with uvicorn on a free loopback port in a thread, for fakes and
receivers that the bridge (a separate process) must reach over real HTTP."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import parse_qsl

import uvicorn
from starlette.types import ASGIApp


@dataclass
class RecordedRequest:
    """One request as a fake saw it (`path` without the API prefix)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    @property
    def token(self) -> str | None:
        """The credential in the Authorization header, without its scheme."""
        value = self.headers.get("authorization", "")
        return value.split(" ", 1)[1] if " " in value else None


class LoopbackServer:
    """`start()` returns the base URL; `stop()` shuts the server down and joins the thread."""

    def __init__(self, app: ASGIApp, name: str, host: str = "127.0.0.1") -> None:
        self._app = app
        self._name = name
        self._host = host
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def start(self, timeout: float = 10.0) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, 0))
        sock.listen(64)
        self._socket = sock
        config = uvicorn.Config(
            self._app, log_level="warning", lifespan="off", access_log=False, http="h11", ws="none"
        )
        server = self._server = uvicorn.Server(config)
        thread = self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=self._name, daemon=True
        )
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self._name} server did not start")
            time.sleep(0.01)
        return f"http://{self._host}:{sock.getsockname()[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None


class LoopbackFake:
    """Base of the fakes: `with Fake() as fake:` serves `fake.app` and sets `fake.url`."""

    app: ASGIApp
    host: str = "127.0.0.1"
    url: str = ""
    server_name: str = "fake"
    _runner: LoopbackServer | None = None

    def __enter__(self) -> Self:
        self._runner = LoopbackServer(self.app, self.server_name, self.host)
        self.url = self._runner.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            self._runner.stop()
            self._runner = None
