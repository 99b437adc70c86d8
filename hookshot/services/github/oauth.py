"""`github login`: the OAuth dance. The admin room gets a link with a one-time state; GitHub
sends the user back to `GET /github/oauth` (hookshot's legacy `/oauth` too), where the code is
traded for a token that is stored like a personal one. The callback always answers a small
HTML page (no external assets) that says what happened, with a status that matches it."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from hookshot.errors import CommandError, HookshotError
from hookshot.ops.redaction import register_secret
from hookshot.services.github.access import GitHubAccess
from hookshot.services.github.client import GitHubError
from hookshot.services.github.oauth_api import OAuthApp, exchange_oauth_code, oauth_authorize_url

log = logging.getLogger(__name__)

STATE_TTL: Final = 30 * 60.0  # how long a login link stays valid (hookshot's 30 minutes)
# Spent and expired states are remembered this long, so a late click hears "expired", not
# "unknown"; the cap bounds memory whatever happens.
_REMEMBER: Final = 24 * 3600.0
_MAX_REMEMBERED: Final = 10_000
NEW_LINK = "Say `github login` in your DM with the bot for a new link."


@dataclass
class _Login:
    user_id: str
    expires: float
    used: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """What the callback shows: an HTTP status, a heading and one paragraph."""

    status: int
    title: str
    text: str


def render_page(page: Page) -> HTMLResponse:
    """The callback's answer; the URL carried a code, so no caching and no referrer."""
    kind = "ok" if page.status < 400 else "error"
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(page.title)} · hookshot</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;"
        "padding:0 1rem;line-height:1.5;color:#1f2328}h1{font-size:1.4rem}"
        ".error h1{color:#b42318}.ok h1{color:#1a7f37}</style></head>"
        f'<body class="{kind}"><main><h1>{escape(page.title)}</h1>'
        f"<p>{escape(page.text)}</p></main></body></html>"
    )
    return HTMLResponse(
        html,
        status_code=page.status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def install_page(setup_action: str) -> Page:
    """GitHub App installs come back with `setup_action` and no state of ours (as in hookshot)."""
    if setup_action == "install":
        return Page(200, "GitHub App installed", "You can close this window.")
    if setup_action == "request":
        return Page(
            200,
            "GitHub App installation requested",
            "An owner of the organisation has to approve it on GitHub. You can close this window.",
        )
    return Page(
        200, "GitHub App installation", f"GitHub reports the installation as {setup_action}."
    )


class GitHubLogin:
    """Pending logins (state -> user) and the callback route."""

    def __init__(
        self,
        github: GitHubAccess,
        tell_user: Callable[[str, str], Awaitable[None]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._github = github
        self._tell_user = tell_user
        self._clock = clock
        self._logins: dict[str, _Login] = {}

    @property
    def _app(self) -> OAuthApp | None:
        return self._github.oauth

    def start(self, user_id: str) -> str:
        """The URL the user opens to log in."""
        if self._app is None:
            raise CommandError(
                "The bridge is not set up for GitHub logins (github.oauth); use "
                "`github setpersonaltoken <token>` instead."
            )
        now = self._clock()
        self._forget_old(now)
        state = secrets.token_urlsafe(24)
        register_secret(state)
        self._logins[state] = _Login(user_id, now + STATE_TTL)
        return oauth_authorize_url(
            self._app.client_id, self._app.redirect_uri, state, web_url=self._github.web_url
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/github/oauth", self.callback, methods=["GET"]),
            Route("/oauth", self.callback, methods=["GET"]),  # hookshot's older path
        ]

    async def callback(self, request: Request) -> Response:
        return render_page(await self._handle(request))

    async def _handle(self, request: Request) -> Page:
        query = request.query_params
        app = self._app
        if app is None:
            return Page(
                404, "GitHub login is not available", "This bridge has no GitHub OAuth app."
            )
        setup_action = query.get("setup_action")
        if setup_action and not query.get("state"):
            return install_page(setup_action)
        state = query.get("state", "")
        login = self._logins.get(state) if state else None
        if not state:
            return Page(400, "Login failed", f"The link carries no state. {NEW_LINK}")
        if login is None:
            return Page(
                400,
                "Login failed",
                f"The bridge does not know this login link (it may have restarted). {NEW_LINK}",
            )
        if login.used:
            return Page(410, "Login link already used", f"Each link works once. {NEW_LINK}")
        if login.expires < self._clock():
            return Page(410, "Login link expired", f"Links work for 30 minutes. {NEW_LINK}")
        if error := query.get("error"):
            login.used = True
            return self._github_refused(error, query.get("error_description", ""))
        code = query.get("code")
        register_secret(code)
        if not code:
            return Page(400, "Login failed", f"GitHub sent no code. {NEW_LINK}")
        login.used = True
        return await self._finish(app, login.user_id, code, state)

    async def _finish(self, app: OAuthApp, user_id: str, code: str, state: str) -> Page:
        try:
            tokens = await exchange_oauth_code(
                app.client_id,
                app.client_secret,
                code,
                app.redirect_uri,
                state,
                web_url=self._github.web_url,
            )
            stored = tokens.stored()
            async with self._github.client_for_token(stored.access_token) as client:
                me = await client.get_authenticated_user()
        except GitHubError as err:
            log.warning("GitHub login for %s failed: %s", user_id, err.message)
            await self._tell_user(user_id, f"Logging into GitHub failed: {err.message}")
            return Page(
                502,
                "Login failed",
                f"GitHub did not complete the login: {err.message.rstrip('.')}. {NEW_LINK}",
            )
        try:
            await self._github.tokens.store.set(user_id, "github", stored.dumps())
        except HookshotError as err:
            log.error("Storing the GitHub token of %s failed: %s", user_id, err)
            return Page(500, "Login failed", f"The bridge could not store your token: {err}")
        await self._tell_user(user_id, f"You are now logged into GitHub as {me.login}.")
        return Page(
            200, "Logged in to GitHub", f"Logged in as {me.login}. You can close this window."
        )

    @staticmethod
    def _github_refused(error: str, description: str) -> Page:
        if error == "access_denied":
            return Page(403, "Login cancelled", f"You did not authorise the bridge. {NEW_LINK}")
        reason = f"{error}: {description}" if description else error
        return Page(502, "Login failed", f"GitHub reported an error ({reason}). {NEW_LINK}")

    def _forget_old(self, now: float) -> None:
        logins = {s: v for s, v in self._logins.items() if v.expires + _REMEMBER > now}
        if len(logins) >= _MAX_REMEMBERED:
            # Oldest first (insertion order); pending ones are kept over spent ones.
            spent = [s for s, v in logins.items() if v.used or v.expires < now]
            for s in spent[: len(logins) - _MAX_REMEMBERED + 1]:
                del logins[s]
            while len(logins) >= _MAX_REMEMBERED:
                del logins[next(iter(logins))]
        self._logins = logins
