"""The configuration widget in headless Chromium, against the running bridge and Synapse.

A test page on its own loopback origin plays the Matrix client: it embeds the widget the way
hookshot + Element do (`<publicUrl>?widgetId&parentUrl#/?kind=roomConfig&roomId&widgetId`)
and answers the widget API over postMessage (capabilities, supported versions, and OpenID
with a real token that Synapse issues for the test's user). Screenshots of each state, light
and dark, 360 px and desktop, go to test-artifacts/widget/.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from conftest import ARTIFACTS, UserFactory
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from support.flows import room_with_bot

from hookshot.devclient import MatrixUser
from hookshot.devstack import BridgeProcess

try:
    from playwright.async_api import (
        Browser,
        Frame,
        FrameLocator,
        Locator,
        Page,
        async_playwright,
        expect,
    )
except ImportError:  # the dev extras are not installed
    async_playwright = None

# Debian's Chromium: Playwright cannot download its own browser builds here.
CHROMIUM = Path(os.environ.get("HOOKSHOT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
if async_playwright is None:
    MISSING = "playwright is not installed (pip install -e '.[dev]')"
elif not CHROMIUM.exists():
    MISSING = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
else:
    MISSING = ""
# Skipped on a developer's machine without a browser; in CI (CI=true) a missing one fails.
needs_browser = pytest.mark.skipif(bool(MISSING) and not os.environ.get("CI"), reason=MISSING)

BOT = "@hookshot:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
WIDGET_ID = "hookshot_room_config_test"
SHOTS = ARTIFACTS / "widget"
DESKTOP = {"width": 1100, "height": 800}
PHONE = {"width": 360, "height": 740}
DARK_BG = "rgb(21, 25, 30)"
LIGHT_BG = "rgb(255, 255, 255)"
PAGE_ERRORS: list[str] = []  # uncaught exceptions in any page: there should be none

# The test's Matrix client: embeds the widget and answers its widget-API requests.
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test Matrix client</title>
<style>html, body { margin: 0; height: 100%; }
iframe { border: 0; width: 100%; height: 100%; display: block; }</style></head>
<body><iframe id="widget" title="Hookshot configuration"
  allow="clipboard-read; clipboard-write"
  sandbox="allow-forms allow-popups allow-popups-to-escape-sandbox allow-same-origin
           allow-scripts allow-modals allow-downloads"></iframe>
<script>
const params = new URLSearchParams(location.search);
const widgetUrl = params.get("widget");
const widgetId = params.get("widgetId");
const openid = params.get("openid") || "allow";   // allow | block | hang
const widgetOrigin = new URL(widgetUrl).origin;
const frame = document.getElementById("widget");
window.widgetLog = [];
let counter = 0;
window.sendToWidget = (action, data) => frame.contentWindow.postMessage(
  {api: "toWidget", widgetId, requestId: "host-" + (++counter), action, data}, widgetOrigin);
window.addEventListener("message", async (ev) => {
  if (ev.origin !== widgetOrigin || ev.source !== frame.contentWindow) return;
  const msg = ev.data || {};
  if (msg.widgetId !== widgetId) return;
  window.widgetLog.push({api: msg.api, action: msg.action, response: !!msg.response});
  const reply = (response) => frame.contentWindow.postMessage({...msg, response}, widgetOrigin);
  if (msg.api === "toWidget") {
    if (msg.response && msg.action === "capabilities") {
      const caps = msg.response.capabilities || [];
      window.sendToWidget("notify_capabilities", {requested: caps, approved: caps});
    }
    return;
  }
  switch (msg.action) {
    case "supported_api_versions":
      return reply({supported_versions:
        ["0.0.1", "0.0.2", "org.matrix.msc2871", "org.matrix.msc2873"]});
    case "get_openid":
      if (openid === "block") return reply({state: "blocked"});
      if (openid === "hang") return;
      return reply({state: "allowed", ...(await window.hostOpenIdToken())});
    default:
      return reply({error: {message: "unsupported: " + msg.action}});
  }
});
frame.addEventListener("load", () => window.sendToWidget("capabilities", {}));
frame.src = widgetUrl;
</script></body></html>"""


class HostServer:
    """The test client's page on its own loopback origin (uvicorn in a thread)."""

    def __init__(self) -> None:
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def __enter__(self) -> HostServer:
        async def page(_: Request) -> Response:
            return HTMLResponse(HOST_PAGE)

        app = Starlette(routes=[Route("/", page)])
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        self._socket = sock
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", access_log=False, http="h11", ws="none"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="widget-host", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the widget host page server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()


@pytest.fixture(scope="module")
def host() -> Iterator[HostServer]:
    with HostServer() as server:
        yield server


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert async_playwright is not None, MISSING
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


def widget_url(bridge: BridgeProcess, host: HostServer, room_id: str, theme: str | None) -> str:
    """The widget's address as hookshot writes it and Element completes it."""
    public = f"{bridge.files.webhook_base}/widgetapi/v1/static/"
    query = urlencode({"widgetId": WIDGET_ID, "parentUrl": host.url})
    fragment = {"kind": "roomConfig", "roomId": room_id, "widgetId": WIDGET_ID}
    if theme:
        fragment["theme"] = theme
    return f"{public}?{query}#/?{urlencode(fragment)}"


async def open_widget(
    browser: Browser,
    bridge: BridgeProcess,
    host: HostServer,
    user: MatrixUser,
    room_id: str,
    *,
    viewport: dict[str, int] = DESKTOP,
    color_scheme: str = "light",
    theme: str | None = None,
    openid: str = "allow",
) -> tuple[Page, FrameLocator]:
    """A fresh browser context showing the widget for `user` in `room_id`."""
    context = await browser.new_context(
        viewport=viewport, color_scheme=color_scheme, locale="en-GB", timezone_id="UTC"
    )
    await context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=bridge.files.webhook_base
    )
    page = await context.new_page()
    page.on("pageerror", lambda err: PAGE_ERRORS.append(f"{room_id}: {err}"))

    async def token() -> dict[str, Any]:
        return await user.openid_token()

    await page.expose_function("hostOpenIdToken", token)
    url = widget_url(bridge, host, room_id, theme)
    await page.goto(
        f"{host.url}?{urlencode({'widget': url, 'widgetId': WIDGET_ID, 'openid': openid})}"
    )
    return page, page.frame_locator("#widget")


async def widget_frame(page: Page) -> Frame:
    """The widget's document (for evaluate), inside the host page."""
    handle = await page.query_selector("#widget")
    frame = await handle.content_frame() if handle is not None else None
    assert frame is not None, "the host page has no widget frame"
    return frame


async def shoot(page: Page, name: str) -> Path:
    """A screenshot of the whole widget document (the iframe grown to its content)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    frame = await widget_frame(page)
    height = await frame.evaluate("document.documentElement.scrollHeight")
    viewport = page.viewport_size or DESKTOP
    await page.evaluate(
        "h => { document.getElementById('widget').style.height = h + 'px'; }",
        max(height, viewport["height"]),
    )
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    await page.evaluate("() => { document.getElementById('widget').style.height = ''; }")
    return path


async def widget_bg(page: Page) -> str:
    frame = await widget_frame(page)
    return str(await frame.evaluate("getComputedStyle(document.documentElement).backgroundColor"))


def hook_card(widget: FrameLocator, name: str) -> Locator:
    return widget.locator("li.hook").filter(
        has=widget.get_by_role("heading", name=name, exact=True)
    )


async def wait_for_body(user: MatrixUser, room_id: str, body: str, timeout: float = 15) -> None:
    await user.wait_for_event(
        room_id, lambda e: e.get("content", {}).get("body") == body, timeout=timeout
    )


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@needs_browser
async def test_webhook_lifecycle_in_the_widget(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """At 360 px, by keyboard where it matters: create a hook, use its URL, give it a
    transformation function, then remove it, checking the room each time."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    page, widget = await open_widget(browser, bridge, host, user, room_id, viewport=PHONE)

    await expect(widget.get_by_role("heading", name="Inbound webhooks")).to_be_visible()
    services = widget.locator(".service-list")
    for service in ("Inbound webhooks", "GitHub", "GitLab"):
        await expect(services).to_contain_text(service)
    await expect(widget.get_by_text("No webhooks in this room yet.")).to_be_visible()
    await expect(widget.locator(".whoami")).to_contain_text(user.user_id)
    log = await page.evaluate("window.widgetLog")
    assert {"api": "fromWidget", "action": "get_openid", "response": False} in log
    await shoot(page, "lifecycle-1-empty-360-light")

    # Create by keyboard: type the name, Enter submits; focus lands on the new URL.
    await widget.get_by_label("Name", exact=True).focus()
    await page.keyboard.type("widget-hook")
    await page.keyboard.press("Enter")
    card = hook_card(widget, "widget-hook")
    url_field = card.get_by_label("Webhook URL")
    await expect(url_field).to_be_focused()
    url = await url_field.input_value()
    assert url.startswith(f"{bridge.files.webhook_base}/webhook/"), url
    state = await user.get_state(room_id, HOOK, "widget-hook")
    assert state is not None and state["name"] == "widget-hook"

    await page.keyboard.press("Tab")
    await expect(card.get_by_role("button", name="Copy URL")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(card.get_by_role("button", name="Copied")).to_be_visible()
    await shoot(page, "lifecycle-2-created-360-light")

    async with httpx.AsyncClient() as http:
        posted = await http.post(url, json={"text": "hello from the widget test"})
        assert posted.status_code == 202, posted.text
        await wait_for_body(user, room_id, "hello from the widget test")

        # Edit: the example function is offered; replace it and ask to wait for delivery.
        await card.get_by_role("button", name="Edit").click()
        await card.get_by_label("Transform requests with a JavaScript function").check()
        code = card.get_by_label("Transformation function (JavaScript)")
        assert 'version: "v2"' in await code.input_value()
        await shoot(page, "lifecycle-3-edit-example-360-light")
        await code.fill('result = { plain: `fn: ${data.text}`, version: "v2" };')
        await card.get_by_label("Answer the sender only after the message is sent").check()
        await card.get_by_role("button", name="Save").click()
        await expect(card.get_by_role("button", name="Edit")).to_be_focused()
        await expect(card.locator(".badge", has_text="Function")).to_be_visible()

        async def saved() -> bool:
            content = await user.get_state(room_id, HOOK, "widget-hook") or {}
            return bool(content.get("transformationFunction")) and content.get("waitForComplete")

        await until(saved, "the edited state")
        # The bridge applies the new state when its echo arrives: retry until it shows.
        for attempt in range(30):
            resp = await http.post(url, json={"text": f"edited {attempt}"})
            assert resp.is_success, resp.text
            try:
                await wait_for_body(user, room_id, f"fn: edited {attempt}", timeout=1.5)
                break
            except AssertionError:
                continue
        else:
            raise AssertionError("the transformation function never ran")

        # Remove, with an inline confirmation.
        await card.get_by_role("button", name="Remove").click()
        confirm = card.get_by_role("button", name="Remove webhook")
        await expect(confirm).to_be_focused()
        await shoot(page, "lifecycle-4-confirm-remove-360-light")
        await confirm.click()
        await expect(card).to_have_count(0)
        await expect(widget.get_by_text("No webhooks in this room yet.")).to_be_visible()
        assert await user.get_state(room_id, HOOK, "widget-hook") == {"disabled": True}

        async def gone() -> bool:
            return (await http.post(url, json={"text": "gone"})).status_code == 404

        await until(gone, "the removed hook to refuse requests")
    await shoot(page, "lifecycle-5-removed-360-light")
    assert PAGE_ERRORS == []
    await page.context.close()


async def _widget_session(http: httpx.AsyncClient, bridge: BridgeProcess, user: MatrixUser) -> str:
    openid = await user.openid_token()
    resp = await http.post(
        f"{bridge.files.webhook_base}/widgetapi/v1/exchange_openid",
        json={"matrixServer": openid["matrix_server_name"], "openIdToken": openid["access_token"]},
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["token"])


COMBOS = [
    # (name, viewport, prefers-color-scheme, theme URL parameter, expected background)
    ("desktop-light", DESKTOP, "light", None, LIGHT_BG),
    ("360-light", PHONE, "dark", "light", LIGHT_BG),  # the client's theme wins over the OS
    ("desktop-dark", DESKTOP, "light", "dark", DARK_BG),
    ("360-dark", PHONE, "dark", None, DARK_BG),
]


@needs_browser
async def test_widget_states_light_and_dark(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """Every state, in both themes, at 360 px and on a desktop: the hook list (live,
    expiring soon, expired, an editor open), a bot without permission, a declined OpenID
    request and the loading state."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    # The bot may neither write state nor send messages here.
    weak_room = await room_with_bot(
        user, BOT, power_level_content_override={"users": {BOT: 0}, "events_default": 10}
    )
    soon = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    async with httpx.AsyncClient() as http:
        auth = {"Authorization": f"Bearer {await _widget_session(http, bridge, user)}"}
        for body in ({"name": "deploys", "expirationDate": soon}, {"name": "nightly-build"}):
            made = await http.post(
                f"{bridge.files.webhook_base}/widgetapi/v1/{room_id}/connections/{HOOK}",
                json=body,
                headers=auth,
            )
            assert made.status_code == 200, made.text
    # An expired hook, written by hand as the docs allow.
    await user.send_state(
        room_id,
        HOOK,
        "old-alerts",
        {"name": "old-alerts", "expirationDate": "2024-01-01T00:00:00Z"},
    )
    await user.send_state(weak_room, HOOK, "muted", {"name": "muted"})

    for name, viewport, scheme, theme, background in COMBOS:
        page, widget = await open_widget(
            browser,
            bridge,
            host,
            user,
            room_id,
            viewport=viewport,
            color_scheme=scheme,
            theme=theme,
        )
        for hook in ("deploys", "nightly-build", "old-alerts"):
            await expect(hook_card(widget, hook)).to_be_visible()
        await expect(hook_card(widget, "deploys").locator(".badge")).to_have_text("Expires soon")
        old = hook_card(widget, "old-alerts")
        await expect(old.locator(".badge")).to_have_text("Expired")
        await expect(old.locator("[data-state=expired]")).to_contain_text("has expired")
        nightly = hook_card(widget, "nightly-build")
        await nightly.get_by_role("button", name="Edit").click()
        await nightly.get_by_label("Transform requests with a JavaScript function").check()
        assert await widget_bg(page) == background, name
        await assert_labelled(page)
        await shoot(page, f"list-{name}")
        if name == "desktop-light":
            await page.evaluate("window.sendToWidget('theme_change', {name: 'dark'})")

            async def dark(page: Page = page) -> bool:
                return await widget_bg(page) == DARK_BG

            await until(dark, "the theme_change to apply", 5)
        await page.context.close()

        page, widget = await open_widget(
            browser,
            bridge,
            host,
            user,
            weak_room,
            viewport=viewport,
            color_scheme=scheme,
            theme=theme,
        )
        await widget.get_by_label("Name", exact=True).fill("not-allowed")
        await widget.get_by_role("button", name="Add webhook").click()
        await expect(hook_card(widget, "muted")).to_be_visible()
        await expect(widget.locator("[data-errcode=BOT_CANNOT_SEND]")).to_be_visible()
        alert = widget.locator("[data-errcode=HS_FORBIDDEN_BOT]")
        await expect(alert).to_contain_text("The bot lacks permission")
        await expect(alert).to_contain_text("needs at least 50")
        await shoot(page, f"bot-forbidden-{name}")
        await page.context.close()

        page, widget = await open_widget(
            browser,
            bridge,
            host,
            user,
            room_id,
            viewport=viewport,
            color_scheme=scheme,
            theme=theme,
            openid="block",
        )
        await expect(widget.locator("[data-errcode=OPENID_DECLINED]")).to_contain_text("declined")
        await expect(widget.get_by_role("button", name="Try again")).to_be_visible()
        await shoot(page, f"declined-{name}")
        await page.context.close()

        page, widget = await open_widget(
            browser,
            bridge,
            host,
            user,
            room_id,
            viewport=viewport,
            color_scheme=scheme,
            theme=theme,
            openid="hang",
        )
        await expect(widget.locator("p.status")).to_contain_text("Connecting")
        await shoot(page, f"loading-{name}")
        await page.context.close()

    # A member without power sees the hooks but neither their URLs nor the create form.
    member = await new_user()
    await user.invite(room_id, member.user_id)
    await member.join(room_id)
    page, widget = await open_widget(browser, bridge, host, member, room_id)
    await expect(widget.get_by_text("needs a higher power level")).to_be_visible()
    await expect(hook_card(widget, "nightly-build")).to_contain_text("only shown to people")
    await expect(widget.get_by_role("button", name="Add webhook")).to_be_hidden()
    await expect(widget.locator("input.url")).to_have_count(0)
    await shoot(page, "read-only-desktop-light")
    await page.context.close()
    assert PAGE_ERRORS == []


@needs_browser
async def test_widget_outside_a_usable_room(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """Opened in a room the bot is not in, or not from a Matrix client at all."""
    user = await new_user()
    lonely_room = await user.create_room(name="no bot here")
    page, widget = await open_widget(browser, bridge, host, user, lonely_room)
    alert = widget.locator("[data-errcode=HS_NOT_IN_ROOM]")
    await expect(alert).to_contain_text("The bridge cannot see this room")
    await expect(alert.get_by_role("button", name="Try again")).to_be_visible()
    await shoot(page, "not-in-room-desktop-light")
    await page.context.close()

    context = await browser.new_context(viewport=PHONE, color_scheme="dark")
    page = await context.new_page()
    await page.goto(f"{bridge.files.webhook_base}/widgetapi/v1/static/")
    await expect(page.locator("[data-errcode=PARAMS]")).to_contain_text(
        "must be opened from a Matrix room"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "no-params-360-dark.png"), full_page=True)
    await context.close()
    assert PAGE_ERRORS == []


async def assert_labelled(page: Page) -> None:
    """Every visible form control has a label, every button a name."""
    frame = await widget_frame(page)
    unlabelled = await frame.evaluate(
        """() => [...document.querySelectorAll('input, textarea, select, button')]
            .filter(el => el.offsetParent !== null)
            .filter(el => el.tagName === 'BUTTON'
                ? !el.textContent.trim()
                : !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.outerHTML)"""
    )
    assert unlabelled == [], json.dumps(unlabelled, indent=1)


async def test_widget_is_served_with_cache_headers(bridge: BridgeProcess) -> None:
    """index.html revalidates; hashed assets are immutable; unknown files are 404."""
    async with httpx.AsyncClient(base_url=bridge.files.webhook_base) as http:
        index = await http.get("/widgetapi/v1/static/")
        assert index.status_code == 200, (
            "the widget is not served: wire hookshot.widgetapi.static.static_mount into the "
            "widgets resource"
        )
        assert index.headers["content-type"].startswith("text/html")
        assert index.headers["cache-control"] == "no-cache"
        assert "./assets/" in index.text
        asset = index.text.split('src="./', 1)[1].split('"', 1)[0]
        script = await http.get(f"/widgetapi/v1/static/{asset}")
        assert script.status_code == 200
        assert "immutable" in script.headers["cache-control"]
        missing = await http.get("/widgetapi/v1/static/nope.js")
        assert missing.status_code == 404
