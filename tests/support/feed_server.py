"""A feed publisher on loopback for the feed tests: serves documents the test sets, with an
ETag (answering 304 to a matching If-None-Match), and records every request."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from support.loopback import LoopbackFake


@dataclass
class Served:
    body: bytes
    content_type: str = "application/rss+xml"
    status: int = 200
    location: str | None = None  # a redirect target


class FeedServer(LoopbackFake):
    server_name = "feed-server"

    def __init__(self) -> None:
        self.documents: dict[str, Served] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)
        self.app = Starlette(routes=[Route("/{path:path}", self._serve)])

    def publish(self, path: str, body: bytes, content_type: str = "application/rss+xml") -> str:
        self.documents[path] = Served(body, content_type)
        return f"{self.url}/{path}"

    async def _serve(self, request: Request) -> Response:
        path = request.path_params["path"]
        match = request.headers.get("if-none-match")
        self.requests.append((path, match))
        doc = self.documents.get(path)
        if doc is None:
            return Response("not here", status_code=404)
        if doc.location is not None:
            return Response(status_code=302, headers={"location": doc.location})
        etag = '"' + hashlib.sha256(doc.body).hexdigest()[:16] + '"'
        if match == etag:
            return Response(status_code=304, headers={"etag": etag})
        return Response(
            doc.body, status_code=doc.status, media_type=doc.content_type, headers={"etag": etag}
        )


def rss(*items: tuple[str, str], title: str = "Test feed") -> bytes:
    """An RSS 2.0 document; `items` are (guid, title), newest first as feeds list them."""
    body = "".join(
        f"<item><guid>{guid}</guid><title>{text}</title><link>https://blog.test/{guid}</link></item>"
        for guid, text in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://blog.test/</link>{body}</channel></rss>"
    ).encode()
