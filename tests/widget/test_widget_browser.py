"""The configuration widget in headless Chromium, against the running bridge and Synapse.

A test page on its own loopback origin plays the Matrix client: it embeds the widget the way
hookshot + Element do (`<publicUrl>?widgetId&parentUrl#/?kind=roomConfig&roomId&widgetId`)
and answers the widget API over postMessage (capabilities, supported versions, and OpenID
with a real token that Synapse issues for the test's user). Screenshots of each state, light
and dark, 360 px and desktop, go to test-artifacts/widget/.
"""

from __future__ import annotations

import functools
import json
import os
import re
import socket
import threading
import time
import uuid
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
from support.fake_github import FakeGitHub
from support.flows import command, notice_from, room_with_bot
from support.paths import ROOT
from support.threads import until

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

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
    for service in ("Inbound webhooks", "GitHub", "GitLab"):
        await expect(widget.get_by_role("tab", name=service)).to_be_visible()
    await expect(widget.get_by_role("tab", name="Inbound webhooks")).to_have_attribute(
        "aria-selected", "true"
    )
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
        await card.get_by_label("JavaScript function", exact=True).check()
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
        # Every page of this loop is opened as `user` with this combination's looks.
        open_as_user = functools.partial(
            open_widget,
            browser,
            bridge,
            host,
            user,
            viewport=viewport,
            color_scheme=scheme,
            theme=theme,
        )
        page, widget = await open_as_user(room_id)
        for hook in ("deploys", "nightly-build", "old-alerts"):
            await expect(hook_card(widget, hook)).to_be_visible()
        await expect(hook_card(widget, "deploys").locator(".badge")).to_have_text("Expires soon")
        old = hook_card(widget, "old-alerts")
        await expect(old.locator(".badge")).to_have_text("Expired")
        await expect(old.locator("[data-state=expired]")).to_contain_text("has expired")
        nightly = hook_card(widget, "nightly-build")
        await nightly.get_by_role("button", name="Edit").click()
        await nightly.get_by_label("JavaScript function", exact=True).check()
        assert await widget_bg(page) == background, name
        await assert_labelled(page)
        await shoot(page, f"list-{name}")
        if name == "desktop-light":
            await page.evaluate("window.sendToWidget('theme_change', {name: 'dark'})")

            async def dark(page: Page = page) -> bool:
                return await widget_bg(page) == DARK_BG

            await until(dark, "the theme_change to apply", 5)
        await page.context.close()

        page, widget = await open_as_user(weak_room)
        await widget.get_by_label("Name", exact=True).fill("not-allowed")
        await widget.get_by_role("button", name="Add webhook").click()
        await expect(hook_card(widget, "muted")).to_be_visible()
        await expect(widget.locator("[data-errcode=BOT_CANNOT_SEND]")).to_be_visible()
        alert = widget.locator("[data-errcode=HS_FORBIDDEN_BOT]")
        await expect(alert).to_contain_text("The bot lacks permission")
        await expect(alert).to_contain_text("needs at least 50")
        await shoot(page, f"bot-forbidden-{name}")
        await page.context.close()

        page, widget = await open_as_user(room_id, openid="block")
        await expect(widget.locator("[data-errcode=OPENID_DECLINED]")).to_contain_text("declined")
        await expect(widget.get_by_role("button", name="Try again")).to_be_visible()
        await shoot(page, f"declined-{name}")
        await page.context.close()

        page, widget = await open_as_user(room_id, openid="hang")
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
            "the widget is not served: wire hookshot.widget.static.static_mount into the "
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
        # The template editor's documentation link (built from docs/templates.md).
        docs = await http.get("/widgetapi/v1/static/templates.html")
        assert docs.status_code == 200
        assert docs.headers["content-type"].startswith("text/html")
        assert "<h1" in docs.text and "Message templates" in docs.text
        assert "<code>$.alerts[*].labels.alertname</code>" in docs.text


# --- message formats, delivery log, outbound hooks, GitHub and GitLab --------------------------

GITHUB_REPO = "uk.half-shot.matrix-hookshot.github.repository"
GITLAB_REPO = "uk.half-shot.matrix-hookshot.gitlab.repository"
OUTBOUND = "uk.half-shot.matrix-hookshot.outbound-hook"
WIDGET_SRC = ROOT / "widgets" / "src"


async def api_create(
    http: httpx.AsyncClient,
    bridge: BridgeProcess,
    auth: dict[str, str],
    room_id: str,
    event_type: str,
    body: dict[str, Any],
) -> httpx.Response:
    return await http.post(
        f"{bridge.files.webhook_base}/widgetapi/v1/{room_id}/connections/{event_type}",
        json=body,
        headers=auth,
    )


async def post_until_message(
    http: httpx.AsyncClient,
    user: MatrixUser,
    room_id: str,
    url: str,
    body: Callable[[int], Any],
    expected: Callable[[int], str],
) -> dict[str, Any]:
    """POST until the message shows: the bridge applies new state when its echo arrives."""
    for attempt in range(30):
        resp = await http.post(url, json=body(attempt))
        assert resp.is_success, resp.text
        want = expected(attempt)

        def arrived(event: dict[str, Any], want: str = want) -> bool:
            return bool(event.get("content", {}).get("body") == want)

        try:
            return await user.wait_for_event(room_id, arrived, timeout=1.5)
        except AssertionError:
            continue
    raise AssertionError(f"{expected(0)!r} (or a later attempt) never arrived")


def tab(widget: FrameLocator, name: str) -> Locator:
    return widget.get_by_role("tab", name=name, exact=True)


# The CI reactions switch of the forges' editors and connect forms (it needs threads on).
REACTIONS = "CI results as reactions on the thread"


async def switch_threads_on_by_keyboard(page: Page, threads: Locator, reactions: Locator) -> None:
    """Both switches off, CI reactions disabled until threads is on; Space on threads, Tab to
    CI reactions, Space: how a keyboard user turns both on."""
    await expect(threads).not_to_be_checked()
    await expect(reactions).to_be_disabled()
    await threads.focus()
    await page.keyboard.press("Space")
    await expect(threads).to_be_checked()
    await expect(reactions).to_be_enabled()
    await page.keyboard.press("Tab")
    await expect(reactions).to_be_focused()
    await page.keyboard.press("Space")
    await expect(reactions).to_be_checked()


async def until_switches_saved(
    state: Callable[[], Awaitable[dict[str, Any]]], *, on: bool
) -> dict[str, Any]:
    """The connection's state once threads and CI reactions are both saved true (`on`), or
    both unset (not false) with the rest still there."""

    async def saved() -> dict[str, Any] | None:
        now = await state()
        if on:
            done = now.get("threads") is True and now.get("ciReactions") is True
        else:
            done = bool(now) and "threads" not in now and "ciReactions" not in now
        return now if done else None

    what = "set" if on else "unset"
    found: dict[str, Any] = await until(saved, f"threads and CI reactions {what} in the state")
    return found


def connection_card(widget: FrameLocator, name: str) -> Locator:
    return hook_card(widget, name)


@needs_browser
async def test_template_hook_in_the_widget(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """Create a hook, give it a template (a mistake is reported first), save, POST: the
    templated message arrives; then switch it to a built-in format."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    page, widget = await open_widget(browser, bridge, host, user, room_id)

    await widget.get_by_label("Name", exact=True).fill("tpl-hook")
    await widget.get_by_role("button", name="Add webhook").click()
    card = hook_card(widget, "tpl-hook")
    url = await card.get_by_label("Webhook URL").input_value()

    await card.get_by_role("button", name="Edit").click()
    await expect(card.get_by_label("Default", exact=True)).to_be_checked()
    await card.get_by_label("Template", exact=True).check()
    docs = card.get_by_role("link", name="template documentation")
    assert await docs.get_attribute("href") == "./templates.html"
    message = card.get_by_label("Message", exact=True)
    await expect(message).to_be_visible()
    await expect(card.get_by_label("Transformation function (JavaScript)")).to_be_hidden()

    # Empty, then a placeholder the bridge refuses: both explained, nothing saved.
    await card.get_by_role("button", name="Save").click()
    await expect(card.locator("[data-errcode=TEMPLATE]")).to_contain_text("Write the message")
    await expect(message).to_be_focused()
    await message.fill("{{ $.status | uper }}")
    await card.get_by_role("button", name="Save").click()
    refused = card.locator("[data-errcode=HS_BAD_VALUE]")
    await expect(refused).to_contain_text("unknown filter 'uper'")
    await shoot(page, "template-refused-desktop-light")

    await message.fill("Build {{ $.build }} is {{ $.status | upper }}")
    await card.get_by_label("Message type").fill("m.text")
    await card.get_by_label("Send nothing when").fill("$.status == 'skipped'")
    await card.get_by_role("button", name="Save").click()
    await expect(card.get_by_role("button", name="Edit")).to_be_focused()
    await expect(card.locator(".badge", has_text="Template")).to_be_visible()

    async def templated() -> bool:
        content = await user.get_state(room_id, HOOK, "tpl-hook") or {}
        return "template" in content

    await until(templated, "the template in the room state")
    state = await user.get_state(room_id, HOOK, "tpl-hook")
    assert state is not None
    assert state["template"] == {
        "plain": "Build {{ $.build }} is {{ $.status | upper }}",
        "msgtype": "m.text",
        "empty_if": "$.status == 'skipped'",
    }
    async with httpx.AsyncClient() as http:
        event = await post_until_message(
            http,
            user,
            room_id,
            url,
            lambda n: {"build": n, "status": "passed"},
            lambda n: f"Build {n} is PASSED",
        )
    assert event["content"]["msgtype"] == "m.text"

    # The editor shows the saved template; a built-in format replaces it.
    await card.get_by_role("button", name="Edit").click()
    await expect(card.get_by_label("Template", exact=True)).to_be_checked()
    await expect(message).to_have_value("Build {{ $.build }} is {{ $.status | upper }}")
    await card.get_by_label("Built-in format").check()
    await card.get_by_label("Format", exact=True).select_option("grafana")
    await card.get_by_role("button", name="Save").click()
    await expect(card.locator(".badge", has_text="Grafana Alerting")).to_be_visible()

    async def formatted() -> bool:
        content = await user.get_state(room_id, HOOK, "tpl-hook") or {}
        return content.get("format") == "grafana" and "template" not in content

    await until(formatted, "the format replacing the template")
    await page.context.close()
    assert PAGE_ERRORS == []


@needs_browser
async def test_delivery_log_in_the_widget(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """At 360 px: requests to a hook show in its delivery log (time, method, status, size,
    result, notes), newest first; Refresh picks up a new one."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    async with httpx.AsyncClient() as http:
        auth = {"Authorization": f"Bearer {await _widget_session(http, bridge, user)}"}
        made = await api_create(http, bridge, auth, room_id, HOOK, {"name": "log-hook"})
        assert made.status_code == 200, made.text
        url = made.json()["secrets"]["url"]
        first_body = b'{"text": "first delivery"}'
        first = await http.post(
            url, content=first_body, headers={"content-type": "application/json"}
        )
        assert first.status_code == 202, first.text
        await wait_for_body(user, room_id, "first delivery")
        second = await http.put(
            url, content=b"plain text body", headers={"content-type": "text/plain"}
        )
        assert second.is_success, second.text
        await wait_for_body(user, room_id, "Received webhook data: plain text body")

        page, widget = await open_widget(browser, bridge, host, user, room_id, viewport=PHONE)
        card = hook_card(widget, "log-hook")
        toggle = card.get_by_role("button", name="Delivery log")
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await toggle.focus()
        await page.keyboard.press("Enter")
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        table = card.get_by_role("table", name="Recent requests to log-hook, newest first")
        rows = table.locator("tbody tr")
        await expect(rows).to_have_count(2)
        newest, oldest = rows.nth(0), rows.nth(1)
        await expect(newest.locator("td[data-label=Method]")).to_have_text("PUT")
        await expect(oldest.locator("td[data-label=Method]")).to_have_text("POST")
        await expect(oldest.locator("td[data-label=Status]")).to_have_text("202")
        await expect(oldest.locator("td[data-label=Size]")).to_have_text(f"{len(first_body)} B")
        await expect(oldest.locator("td[data-label=Result]")).to_contain_text("sent")
        await expect(oldest.locator("td[data-label=Time] time")).to_have_attribute(
            "datetime", re.compile(r"^\d{4}-\d\d-\d\dT")
        )
        await expect(card.locator(".log .hint")).to_have_text("2 recent requests, newest first.")
        await shoot(page, "delivery-log-360-light")

        third = await http.post(url, json={"text": "third delivery"})
        assert third.status_code == 202, third.text
        await wait_for_body(user, room_id, "third delivery")
        await card.get_by_role("button", name="Refresh log").click()
        await expect(rows).to_have_count(3)
        await expect(rows.nth(0).locator("td[data-label=Result]")).to_contain_text("sent")
        await page.set_viewport_size({"width": DESKTOP["width"], "height": DESKTOP["height"]})
        await expect(table.get_by_role("columnheader", name="Notes")).to_be_visible()
        await shoot(page, "delivery-log-desktop-light")
        await page.context.close()
    assert PAGE_ERRORS == []


@needs_browser
async def test_new_url_in_the_widget(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """At 360 px, by keyboard: New URL asks first (Cancel keeps the URL), then shows the new
    URL in the card, focused; the old one answers 404 and the new one posts."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    async with httpx.AsyncClient() as http:
        auth = {"Authorization": f"Bearer {await _widget_session(http, bridge, user)}"}
        made = await api_create(http, bridge, auth, room_id, HOOK, {"name": "rotate-hook"})
        assert made.status_code == 200, made.text
        old_url = made.json()["secrets"]["url"]

        page, widget = await open_widget(browser, bridge, host, user, room_id, viewport=PHONE)
        card = hook_card(widget, "rotate-hook")
        url_field = card.get_by_label("Webhook URL")
        await expect(url_field).to_have_value(old_url)
        button = card.get_by_role("button", name="New URL for rotate-hook")
        await button.focus()
        await page.keyboard.press("Enter")
        confirm = card.get_by_role("button", name="Make a new URL")
        await expect(confirm).to_be_focused()
        await expect(card.get_by_text("The current one stops working at once")).to_be_visible()
        await shoot(page, "rotate-1-confirm-360-light")
        await card.get_by_role("button", name="Cancel").click()
        await expect(button).to_be_focused()
        await expect(url_field).to_have_value(old_url)

        await button.click()
        await confirm.click()
        await expect(url_field).not_to_have_value(old_url)
        await expect(url_field).to_be_focused()
        new_url = await url_field.input_value()
        assert new_url.startswith(f"{bridge.files.webhook_base}/webhook/"), new_url
        await shoot(page, "rotate-2-new-url-360-light")

        gone = await http.post(old_url, json={"text": "old"})
        assert (gone.status_code, gone.json()) == (404, {"ok": False, "error": "Webhook not found"})
        fresh = await http.post(new_url, json={"text": "rotated in the widget"})
        assert fresh.status_code == 202, fresh.text
        await wait_for_body(user, room_id, "rotated in the widget")
        await page.context.close()
    assert PAGE_ERRORS == []


@needs_browser
async def test_github_and_gitlab_typed_by_hand(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """Without a token of the user's, the pickers say how to log in; a repository and a
    project typed by hand are connected, listed, edited and removed."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    page, widget = await open_widget(browser, bridge, host, user, room_id)

    # Tabs by keyboard: ArrowRight moves to the next service and opens it.
    await tab(widget, "Inbound webhooks").focus()
    await page.keyboard.press("End")
    await expect(tab(widget, "Forgejo / Gitea")).to_be_focused()
    await page.keyboard.press("ArrowLeft")
    await expect(tab(widget, "GitLab")).to_be_focused()
    await page.keyboard.press("ArrowLeft")
    github_tab = tab(widget, "GitHub")
    await expect(github_tab).to_be_focused()
    await expect(github_tab).to_have_attribute("aria-selected", "true")
    await expect(widget.get_by_role("heading", name="GitHub repositories")).to_be_visible()
    login = widget.locator("[data-state=login]")
    await expect(login).to_contain_text("Log in with the bot first")
    await expect(login).to_contain_text("github setpersonaltoken")
    await expect(widget.get_by_text("No repositories are connected")).to_be_visible()

    repo = widget.get_by_label("Repository", exact=True).filter(visible=True)
    await repo.fill("not a repository")
    await widget.get_by_role("button", name="Add repository").click()
    await expect(widget.locator("[data-errcode=REPO]")).to_contain_text("owner/name")
    await expect(repo).to_be_focused()

    await repo.fill("https://github.com/Example-Org/Widget-Repo.git")
    form = widget.locator("form.create")
    await form.locator("summary", has_text="Workflow runs").click()
    await form.get_by_label("workflow.run.failure", exact=True).check()
    await form.locator("summary", has_text="Issues").click()
    await form.get_by_label("issue.labeled", exact=True).uncheck()
    await expect(form.locator("summary", has_text="Issues")).to_contain_text("4 of 7")
    await form.get_by_label("Command prefix").fill("!ci")
    await assert_labelled(page)
    await shoot(page, "github-add-desktop-light")
    await widget.get_by_role("button", name="Add repository").click()

    card = connection_card(widget, "Example-Org/Widget-Repo")
    await expect(card).to_be_visible()
    await expect(card.get_by_role("button", name="Edit")).to_be_focused()
    await expect(card).to_contain_text("Commands start with !ci")
    state = await user.get_state(room_id, GITHUB_REPO, "example-org/widget-repo")
    assert state is not None
    assert (state["org"], state["repo"], state["commandPrefix"]) == (
        "Example-Org",
        "Widget-Repo",
        "!ci",
    )
    assert "workflow.run.failure" in state["enableHooks"]
    assert "issue.labeled" not in state["enableHooks"]
    assert "issue" in state["enableHooks"]

    # Edit: a too short prefix is explained; a good one is saved.
    await card.get_by_role("button", name="Edit").click()
    prefix = card.get_by_label("Command prefix")
    await expect(prefix).to_have_value("!ci")
    await prefix.fill("x")
    await card.get_by_role("button", name="Save").click()
    await expect(card.locator("[data-errcode=PREFIX]")).to_contain_text("2–24")
    await prefix.fill("!web")
    await card.locator("summary", has_text="Pushes").click()
    await card.get_by_label("push", exact=True).check()
    await card.get_by_role("button", name="Save").click()
    await expect(card).to_contain_text("Commands start with !web")

    async def edited() -> bool:
        content = await user.get_state(room_id, GITHUB_REPO, "example-org/widget-repo") or {}
        return content.get("commandPrefix") == "!web" and "push" in content.get("enableHooks", [])

    await until(edited, "the edited GitHub connection")

    # GitLab: no token here either; the instance is typed (the bridge does not list them).
    await tab(widget, "GitLab").click()
    await expect(widget.get_by_role("heading", name="GitLab projects")).to_be_visible()
    await expect(widget.locator("[data-state=login]")).to_contain_text("gitlab personaltoken")
    await widget.get_by_label("Instance").fill("fake")
    await widget.get_by_label("Project path").fill(
        "https://gitlab.test/group/sub/project/-/tree/main"
    )
    await widget.get_by_role("button", name="Add project").click()
    project = connection_card(widget, "group/sub/project")
    await expect(project).to_be_visible()
    await expect(project.locator(".badge")).to_have_text("fake")
    gl_state = await user.get_state(room_id, GITLAB_REPO, "fake/group/sub/project")
    assert gl_state is not None and gl_state["instance"] == "fake"
    assert gl_state["path"] == "group/sub/project"
    assert "merge_request" in gl_state["enableHooks"]
    await shoot(page, "gitlab-added-desktop-light")

    # An unknown instance is the bridge's to refuse.
    await widget.get_by_label("Instance").fill("nowhere")
    await widget.get_by_label("Project path").fill("a/b")
    await widget.get_by_role("button", name="Add project").click()
    await expect(widget.locator("form.create [data-errcode=HS_BAD_VALUE]")).to_contain_text(
        "Instance name not recognised"
    )

    # Back on GitHub (kept as it was): remove the repository.
    await tab(widget, "GitHub").click()
    await card.get_by_role("button", name="Remove").click()
    confirm = card.get_by_role("button", name="Remove repository")
    await expect(confirm).to_be_focused()
    await confirm.click()
    await expect(card).to_have_count(0)
    await expect(widget.get_by_text("No repositories are connected")).to_be_visible()

    async def removed() -> bool:
        content = await user.get_state(room_id, GITHUB_REPO, "example-org/widget-repo")
        return content == {"disabled": True}

    await until(removed, "the GitHub connection to be removed")
    await page.context.close()
    assert PAGE_ERRORS == []


@needs_browser
async def test_github_picker_with_a_token(
    bridge: BridgeProcess,
    host: HostServer,
    browser: Browser,
    new_user: UserFactory,
    fake_github: FakeGitHub,
) -> None:
    """With a GitHub token given to the bot, the repository is picked from the user's own."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    login = f"picker{uuid.uuid4().hex[:6]}"
    fake_github.add_repo(f"{login}/picked", collaborators={login: "write"})
    token = fake_github.add_user(login).token
    dm = await user.create_room(invite=[BOT], is_direct=True)
    await user.wait_for_event(dm, notice_from(BOT, "Hello!"))
    await command(user, dm, f"github setpersonaltoken {token}")
    await user.wait_for_event(dm, notice_from(BOT, "Connected as"))

    page, widget = await open_widget(browser, bridge, host, user, room_id, viewport=PHONE)
    await tab(widget, "GitHub").click()
    # The list and the typed field share their label; one of them is shown at a time.
    picker = widget.get_by_label("Repository", exact=True).filter(visible=True)
    login_hint = widget.locator("[data-state=login]")
    await expect(picker.or_(login_hint)).to_be_visible()
    if await login_hint.is_visible():
        await page.context.close()
        pytest.skip("the bridge does not list GitHub targets (GET /v1/targets) yet")
    await expect(picker).to_have_js_property("tagName", "SELECT")
    await picker.select_option(label=f"{login}/picked")
    await shoot(page, "github-picker-360-light")
    await widget.get_by_role("button", name="Add repository").click()
    await expect(connection_card(widget, f"{login}/picked")).to_be_visible()
    assert await user.get_state(room_id, GITHUB_REPO, f"{login}/picked".lower()) is not None

    # Typing by hand stays possible.
    await widget.get_by_role("button", name="Type a repository instead").click()
    await expect(picker).to_be_focused()
    await expect(picker).to_have_js_property("tagName", "INPUT")
    await widget.get_by_role("button", name="Choose from your repositories").click()
    await expect(picker).to_have_js_property("tagName", "SELECT")
    await page.context.close()
    assert PAGE_ERRORS == []


@needs_browser
async def test_github_threads_toggle_in_the_widget(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """A repository's editor switches threads (by keyboard) and CI reactions (which need
    threads) on, the room's state and the card say so; switched off, both keys are gone."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    async with httpx.AsyncClient() as http:
        auth = {"Authorization": f"Bearer {await _widget_session(http, bridge, user)}"}
        made = await api_create(
            http, bridge, auth, room_id, GITHUB_REPO, {"org": "acme", "repo": "threaded"}
        )
        assert made.status_code == 200, made.text

    async def state() -> dict[str, Any]:
        return await user.get_state(room_id, GITHUB_REPO, "acme/threaded") or {}

    page, widget = await open_widget(browser, bridge, host, user, room_id)
    await tab(widget, "GitHub").click()
    card = connection_card(widget, "acme/threaded")
    await expect(card).to_be_visible()
    await expect(card.locator(".badge")).to_have_count(0)

    await card.get_by_role("button", name="Edit").click()
    threads = card.get_by_role("checkbox", name="Thread each pull request and issue")
    reactions = card.get_by_role("checkbox", name="CI results as reactions on the thread")
    await expect(threads).not_to_be_checked()
    await expect(reactions).to_be_disabled()
    await threads.focus()
    await page.keyboard.press("Space")
    await expect(threads).to_be_checked()
    await expect(reactions).to_be_enabled()
    await reactions.check()
    await assert_labelled(page)
    await shoot(page, "github-threads-desktop-light")
    await card.get_by_role("button", name="Save").click()
    await expect(card.locator(".badge")).to_have_text(["Threads", "CI reactions"])

    await until_switches_saved(state, on=True)
    assert set((await state())["enableHooks"]) == set(made.json()["config"]["enableHooks"])

    # Off again: unticking threads unticks (and disables) CI reactions; both keys are unset.
    await card.get_by_role("button", name="Edit").click()
    await expect(threads).to_be_checked()
    await expect(reactions).to_be_checked()
    await threads.uncheck()
    await expect(reactions).not_to_be_checked()
    await expect(reactions).to_be_disabled()
    await card.get_by_role("button", name="Save").click()
    await expect(card.locator(".badge")).to_have_count(0)

    final = await until_switches_saved(state, on=False)
    assert "threads" not in final and "ciReactions" not in final, final  # unset, not false
    await page.context.close()
    assert PAGE_ERRORS == []


@needs_browser
async def test_outbound_hook_in_the_widget(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """Add an outbound hook: its token is shown once with a copy button; it is listed, and
    removed."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    page, widget = await open_widget(browser, bridge, host, user, room_id, viewport=PHONE)
    outbound_tab = tab(widget, "Outbound webhooks")
    await expect(widget.get_by_role("tab").first).to_be_visible()
    if not await outbound_tab.count():
        await page.context.close()
        pytest.skip("the bridge does not offer genericOutbound in /v1/config/sections")
    await outbound_tab.click()
    await expect(
        widget.get_by_role("heading", name="Outbound webhooks", exact=True)
    ).to_be_visible()
    await widget.get_by_label("Name", exact=True).fill("relay")
    await widget.get_by_label("URL", exact=True).fill("ftp://example.com/x")
    await widget.get_by_role("button", name="Add outbound webhook").click()
    await expect(widget.locator("[data-errcode=URL]")).to_contain_text("http")

    await widget.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/events")
    await widget.get_by_label("POST").check()
    await widget.get_by_role("button", name="Add outbound webhook").click()
    token_box = widget.locator("[data-token-for=relay]")
    token = token_box.get_by_label("Token")
    await expect(token).to_be_focused()
    await expect(widget.get_by_label("PUT")).to_be_checked()  # the form is ready for another
    value = await token.input_value()
    assert value.startswith("hs-ob-"), value
    await expect(token_box).to_contain_text("X-Matrix-Hookshot-Token")
    await token_box.get_by_role("button", name="Copy token").click()
    await expect(token_box.get_by_role("button", name="Copied")).to_be_visible()
    card = connection_card(widget, "relay")
    await expect(card).to_contain_text("http://127.0.0.1:9/events")
    await expect(card.locator(".badge")).to_have_text("POST")
    await assert_labelled(page)
    await shoot(page, "outbound-token-360-light")
    state = await user.get_state(room_id, OUTBOUND, "relay")
    assert state == {"name": "relay", "url": "http://127.0.0.1:9/events", "method": "POST"}

    await token_box.get_by_role("button", name="Done").click()
    await expect(token_box).to_have_count(0)
    # Listed from the bridge after a refresh, without the token.
    await (
        widget.locator("[data-service=genericOutbound]")
        .get_by_role("button", name="Refresh")
        .click()
    )
    await expect(card).to_be_visible()
    await expect(widget.get_by_label("Token")).to_have_count(0)

    await card.get_by_role("button", name="Remove").click()
    await card.get_by_role("button", name="Remove outbound webhook").click()
    await expect(card).to_have_count(0)
    await expect(widget.get_by_text("No outbound webhooks in this room yet.")).to_be_visible()
    await page.context.close()
    assert PAGE_ERRORS == []


@needs_browser
async def test_new_pages_light_and_dark(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """Screenshots of every page, in both themes, at 360 px and on a desktop: a templated
    hook's editor and delivery log, outbound hooks, GitHub repositories, GitLab projects."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    template = {"plain": "**{{ $.title }}** is {{ $.status | upper }}", "msgtype": "m.text"}
    async with httpx.AsyncClient() as http:
        auth = {"Authorization": f"Bearer {await _widget_session(http, bridge, user)}"}
        made = await api_create(
            http, bridge, auth, room_id, HOOK, {"name": "alerts", "template": template}
        )
        assert made.status_code == 200, made.text
        url = made.json()["secrets"]["url"]
        for status in ("firing", "resolved"):
            resp = await http.post(url, json={"title": "Disk", "status": status})
            assert resp.status_code == 202, resp.text
            await wait_for_body(user, room_id, f"**Disk** is {status.upper()}")
        resp = await http.post(url, content=b"{not json", headers={"content-type": "text/plain"})
        assert resp.is_success, resp.text
        github = await api_create(
            http,
            bridge,
            auth,
            room_id,
            GITHUB_REPO,
            {"org": "matrix-org", "repo": "matrix-hookshot", "commandPrefix": "!hs"},
        )
        assert github.status_code == 200, github.text
        gitlab = await api_create(
            http, bridge, auth, room_id, GITLAB_REPO, {"instance": "fake", "path": "group/project"}
        )
        assert gitlab.status_code == 200, gitlab.text
        outbound = await api_create(
            http,
            bridge,
            auth,
            room_id,
            OUTBOUND,
            {"name": "archive", "url": "https://archive.example.com/matrix", "method": "PUT"},
        )
        has_outbound = outbound.status_code == 200

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
        card = hook_card(widget, "alerts")
        await expect(card.locator(".badge", has_text="Template")).to_be_visible()
        await card.get_by_role("button", name="Edit").click()
        await expect(card.get_by_label("Message", exact=True)).to_have_value(template["plain"])
        await card.get_by_role("button", name="Delivery log").click()
        await expect(card.locator("tbody tr")).to_have_count(3)
        assert await widget_bg(page) == background, name
        await assert_labelled(page)
        await shoot(page, f"template-log-{name}")

        if has_outbound:
            await tab(widget, "Outbound webhooks").click()
            await expect(connection_card(widget, "archive")).to_be_visible()
            await assert_labelled(page)
            await shoot(page, f"outbound-{name}")

        await tab(widget, "GitHub").click()
        gh = connection_card(widget, "matrix-org/matrix-hookshot")
        await expect(gh).to_contain_text("Commands start with !hs")
        await expect(widget.locator("[data-state=login], select")).to_have_count(1)
        await widget.locator("form.create summary", has_text="Pull requests").click()
        await gh.get_by_role("button", name="Edit").click()
        await assert_labelled(page)
        await shoot(page, f"github-{name}")

        await tab(widget, "GitLab").click()
        await expect(connection_card(widget, "group/project")).to_be_visible()
        await assert_labelled(page)
        await shoot(page, f"gitlab-{name}")
        await page.context.close()
    assert PAGE_ERRORS == []


def _ts_strings(source: str, const: str) -> set[str]:
    """The quoted names of a `const` in widgets/src/hooks.ts (group labels left out)."""
    start = source.index(f"export const {const}")
    end = source.index("\n];", start)
    body = re.sub(r'label: "[^"]*"', "", source[start:end])
    return set(re.findall(r'"([^"]+)"', body))


def test_widget_event_names_match_the_bridge() -> None:
    """The widget's copy of ALLOWED_HOOKS and DEFAULT_HOOKS is the bridge's."""
    from hookshot.services.github import repo as github_repo
    from hookshot.services.gitlab import repo as gitlab_repo

    source = (WIDGET_SRC / "hooks.ts").read_text()
    assert _ts_strings(source, "GITHUB_HOOK_GROUPS") == set(github_repo.ALLOWED_HOOKS)
    assert _ts_strings(source, "GITHUB_DEFAULT_HOOKS") == set(github_repo.DEFAULT_HOOKS)
    assert _ts_strings(source, "GITLAB_HOOK_GROUPS") == set(gitlab_repo.ALLOWED_HOOKS)
    assert _ts_strings(source, "GITLAB_DEFAULT_HOOKS") == set(gitlab_repo.DEFAULT_HOOKS)


def test_widget_formats_match_the_bridge() -> None:
    """The widget offers exactly the bridge's built-in formats."""
    from hookshot.services.generic.transform.formats import FORMATS

    source = (WIDGET_SRC / "webhooks.ts").read_text()
    start = source.index("export const FORMATS")
    block = source[start : source.index("};", start)]
    assert set(re.findall(r'^\s+"?([a-z-]+)"?:', block, re.M)) == set(FORMATS)
