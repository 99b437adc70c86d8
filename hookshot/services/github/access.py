"""GitHub API clients acting as a Matrix user, from the token they stored (a personal token,
or an OAuth login's). Expiring tokens (GitHub Apps' user tokens live 8 hours) are renewed with
their refresh token shortly before they run out."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from hookshot.core.tokens import GitHubToken
from hookshot.errors import CommandError
from hookshot.services.github.client import GitHubClient, GitHubError, api_url_for, web_url_for
from hookshot.services.github.config import GitHubConfig
from hookshot.services.github.oauth_api import OAuthApp, refresh_oauth_token, revoke_oauth_grant

if TYPE_CHECKING:
    from hookshot.commands.user_tokens import UserTokens

log = logging.getLogger(__name__)

NOT_LOGGED_IN_GITHUB = (
    "You are not logged into GitHub. Start a DM with this bot and use the command "
    "`github setpersonaltoken <token>`."
)
LOGIN_AGAIN_GITHUB = (
    "Your GitHub login has expired and could not be renewed; log in again with `github login` "
    "in your DM with this bot."
)
# Renew this long before expiry, so a token never runs out in the middle of a command.
REFRESH_MARGIN_MS: Final = 5 * 60 * 1000


class GitHubAccess:
    """GitHub API clients acting as a Matrix user (their stored token)."""

    def __init__(
        self,
        config: GitHubConfig,
        tokens: UserTokens,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.oauth = OAuthApp.from_config(config.oauth)
        self.api_url = api_url_for(config.enterprise_url)
        self.web_url = web_url_for(config.enterprise_url)
        self._clock = clock
        # One renewal at a time per user: a refresh token works only once.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def client_for_token(self, token: str) -> GitHubClient:
        return GitHubClient.for_token(token, api_url=self.api_url)

    async def token_of(self, user_id: str) -> GitHubToken | None:
        """The stored token as it is (not renewed)."""
        raw = await self.tokens.store.get(user_id, "github")
        return GitHubToken.parse(raw) if raw else None

    async def access_token(self, user_id: str) -> str | None:
        """The user's token, renewed first when it expires within `REFRESH_MARGIN_MS`; None
        when they have none. CommandError when it expired and cannot be renewed."""
        token = await self.token_of(user_id)
        if token is None or not self._due(token):
            return token.access_token if token else None
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            # Another command may have renewed it while this one waited.
            token = await self.token_of(user_id)
            if token is None or not self._due(token):
                return token.access_token if token else None
            return await self._refresh(user_id, token)

    async def user_client(self, user_id: str) -> GitHubClient:
        """A client acting as `user_id`; CommandError when they have no (usable) token."""
        token = await self.access_token(user_id)
        if token is None:
            raise CommandError(NOT_LOGGED_IN_GITHUB)
        return self.client_for_token(token)

    async def revoke(self, token: GitHubToken) -> None:
        """Withdraw the user's authorisation of the bridge's app at GitHub (GitHubError if not
        confirmed), which revokes this token and its refresh token."""
        if self.oauth is None:
            raise GitHubError(None, "the bridge has no GitHub OAuth app configured")
        await revoke_oauth_grant(
            self.oauth.client_id, self.oauth.client_secret, token.access_token, api_url=self.api_url
        )

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _due(self, token: GitHubToken) -> bool:
        return token.expires_at_ms is not None and (
            token.expires_at_ms - REFRESH_MARGIN_MS <= self._now_ms()
        )

    async def _refresh(self, user_id: str, token: GitHubToken) -> str:
        now = self._now_ms()
        still_valid = not token.expired(now)
        if self.oauth is None or token.refresh_token is None or not token.refreshable(now):
            if still_valid:
                return token.access_token
            raise CommandError(LOGIN_AGAIN_GITHUB)
        try:
            renewed = await refresh_oauth_token(
                self.oauth.client_id,
                self.oauth.client_secret,
                token.refresh_token,
                web_url=self.web_url,
            )
        except GitHubError as err:
            log.warning("Renewing the GitHub token of %s failed: %s", user_id, err.message)
            if still_valid:
                return token.access_token
            raise CommandError(f"{LOGIN_AGAIN_GITHUB} ({err.message})") from None
        await self.tokens.store.set(user_id, "github", renewed.stored(now).dumps())
        log.info("Renewed the GitHub token of %s", user_id)
        return renewed.access_token

    def parse_repo_url(self, url: str) -> tuple[str, str]:
        """(org, repo) from `https://github.com/org/repo` (or the enterprise host)."""
        base = re.escape(self.web_url.rstrip("/"))
        found = re.fullmatch(
            base + r"/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?", url.strip()
        )
        if found is None:
            raise CommandError("The GitHub url you entered was not valid.")
        return found.group(1), found.group(2)
