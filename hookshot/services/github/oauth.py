"""`github login`: the OAuth dance. The admin room gets a link with a one-time state; GitHub
sends the user back to `GET /github/oauth` (hookshot's legacy `/oauth` too), where the code is
traded for a token that is stored like a personal one."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from hookshot.commands.user_tokens import GitHubAccess
from hookshot.errors import CommandError, HookshotError
from hookshot.services.github.client import exchange_oauth_code, oauth_authorize_url

log = logging.getLogger(__name__)

STATE_TTL = 15 * 60.0  # how long a login link stays valid


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    client_secret: str
    redirect_uri: str

    @classmethod
    def from_config(cls, oauth: Mapping[str, object] | None) -> OAuthApp | None:
        if not oauth:
            return None
        values = [oauth.get(k) for k in ("client_id", "client_secret", "redirect_uri")]
        if not all(isinstance(v, str) and v for v in values):
            return None
        return cls(*(str(v) for v in values))


class GitHubLogin:
    """Pending logins (state -> user) and the callback route."""

    def __init__(
        self,
        github: GitHubAccess,
        app: OAuthApp | None,
        tell_user: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self._github = github
        self._app = app
        self._tell_user = tell_user
        self._pending: dict[str, tuple[str, float]] = {}

    def start(self, user_id: str) -> str:
        """The URL the user opens to log in."""
        if self._app is None:
            raise CommandError(
                "The bridge is not set up for GitHub logins (github.oauth); use "
                "`github setpersonaltoken <token>` instead."
            )
        now = time.monotonic()
        self._pending = {s: v for s, v in self._pending.items() if v[1] > now}
        state = secrets.token_urlsafe(24)
        self._pending[state] = (user_id, now + STATE_TTL)
        return oauth_authorize_url(
            self._app.client_id, self._app.redirect_uri, state, web_url=self._github.web_url
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/github/oauth", self.callback, methods=["GET"]),
            Route("/oauth", self.callback, methods=["GET"]),  # hookshot's older path
        ]

    async def callback(self, request: Request) -> Response:
        code = request.query_params.get("code")
        state = request.query_params.get("state", "")
        pending = self._pending.pop(state, None)
        if self._app is None or not code or pending is None or pending[1] < time.monotonic():
            return _page(400, "This login link is not valid (any more). Ask the bot for a new one.")
        user_id = pending[0]
        try:
            tokens = await exchange_oauth_code(
                self._app.client_id,
                self._app.client_secret,
                code,
                self._app.redirect_uri,
                state,
                web_url=self._github.web_url,
            )
            stored = tokens.stored()
            async with self._github.client_for_token(stored.access_token) as client:
                me = await client.get_authenticated_user()
            await self._github.tokens.store.set(user_id, "github", stored.dumps())
        except HookshotError as err:
            log.warning("GitHub login for %s failed: %s", user_id, err)
            return _page(502, f"Logging in failed: {err}")
        await self._tell_user(user_id, f"You are now logged into GitHub as {me.login}.")
        return _page(200, f"Logged in as {me.login}. You can close this page.")


def _page(status: int, text: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>hookshot</title><p>{escape(text)}</p>", status_code=status
    )
