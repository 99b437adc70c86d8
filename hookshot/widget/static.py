"""The configuration widget's built files (`widgets/` -> `hookshot/widget_static/`), served at
`/widgetapi/v1/static/` as hookshot does, so `widgets.publicUrl` can point there.

The build output is committed inside the package: `pip install` serves it without npm.
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "widget_static"
STATIC_PATH = "/widgetapi/v1/static"
# Vite names built assets by content hash: they never change under the same name.
_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"


class WidgetFiles(StaticFiles):
    """StaticFiles with cache headers: hashed assets forever, index.html always revalidated."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code < 400:
            hashed = path.startswith("assets/") or path.startswith("assets\\")
            response.headers["Cache-Control"] = _IMMUTABLE if hashed else _REVALIDATE
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


async def _not_built(_: Request) -> Response:
    return JSONResponse(
        {"errcode": "HS_NOTFOUND", "error": "The widget is not built: run `make widget`"},
        status_code=404,
    )


def static_mount(path: str = STATIC_PATH, directory: Path = STATIC_DIR) -> Mount:
    """A Mount serving the built widget at `path` (index.html for the directory itself).

    Put it before the `/widgetapi` API mount. Without a build it answers 404 (logged once)
    rather than stopping the bridge."""
    if not (directory / "index.html").is_file():
        log.warning("widget: no built widget in %s; run `make widget`", directory)
        return Mount(path, routes=[Route("/{rest:path}", _not_built)])
    return Mount(path, app=WidgetFiles(directory=directory, html=True), name="widget_static")
