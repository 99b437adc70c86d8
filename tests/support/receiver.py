"""A real HTTP receiver on loopback for outbound hooks: records requests, can fail on cue."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from support.loopback import LoopbackServer


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
        self.url = ""

    async def _handle(self, request: Request) -> Response:
        self.attempts += 1
        body = await request.body()
        if self.attempts <= self.fail_first:
            return PlainTextResponse("not yet", status_code=500)
        self.requests.append(Received(request.method, dict(request.headers), body))
        return PlainTextResponse("ok")

    def __enter__(self) -> Receiver:
        app = Starlette(routes=[Route("/hook", self._handle, methods=["POST", "PUT"])])
        self._runner = LoopbackServer(app, "receiver")
        self.url = self._runner.start() + "/hook"
        return self

    def __exit__(
        self, exc: type[BaseException] | None, val: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._runner.stop()
