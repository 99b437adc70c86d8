"""The widget API as a test's client sees it: a session for a Matrix user (its OpenID token
exchanged, as the widget does) and the address of a route."""

from __future__ import annotations

import httpx

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess


async def widget_session(http: httpx.AsyncClient, bridge: BridgeProcess, user: MatrixUser) -> str:
    """A widget session token for `user`, from an OpenID token Synapse issued to them."""
    openid = await user.openid_token()
    resp = await http.post(
        widget_api(bridge, "/exchange_openid"),
        json={"matrixServer": openid["matrix_server_name"], "openIdToken": openid["access_token"]},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["userId"] == user.user_id
    return str(resp.json()["token"])


def widget_api(bridge: BridgeProcess, path: str) -> str:
    """The address of the widget API's `path` ("/{roomId}/connections/...")."""
    return f"{bridge.files.webhook_base}/widgetapi/v1{path}"
