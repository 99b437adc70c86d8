"""GitHub's OAuth endpoints for user logins (`github login`): the consent page's URL, trading
a code or a refresh token for the user's tokens (`POST <web>/login/oauth/access_token`), and
withdrawing the user's authorisation with the app's credentials
(`DELETE <api>/applications/{client_id}/grant`).

The web base is github.com (or `github.enterpriseUrl`), the API base api.github.com (or the
enterprise `/api/v3`): see `client.api_url_for` / `web_url_for`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import httpx

from hookshot.core.tokens import GitHubToken
from hookshot.services.github.client import (
    DEFAULT_TIMEOUT,
    GITHUB_CLOUD_API,
    GITHUB_CLOUD_WEB,
    USER_AGENT,
    GitHubError,
)


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """`github.oauth`: the OAuth (or GitHub App) client the bridge logs users in with."""

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


@dataclass(frozen=True, slots=True)
class OAuthTokens:
    """GitHub's answer to a code exchange or refresh; lifetimes in seconds from now."""

    access_token: str
    token_type: str
    scope: str = ""
    expires_in: int | None = None
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None

    def stored(self, now_ms: int | None = None) -> GitHubToken:
        """The token as hookshot stores it (absolute expiry times)."""
        return GitHubToken.from_oauth(
            self.access_token,
            self.token_type,
            now_ms=now_ms if now_ms is not None else int(time.time() * 1000),
            expires_in=self.expires_in,
            refresh_token=self.refresh_token,
            refresh_token_expires_in=self.refresh_token_expires_in,
        )


def oauth_authorize_url(
    client_id: str, redirect_uri: str, state: str, *, web_url: str = GITHUB_CLOUD_WEB
) -> str:
    """Where `github login` sends the user (parameters in hookshot's order)."""
    query = urlencode({"state": state, "client_id": client_id, "redirect_uri": redirect_uri})
    return f"{web_url.rstrip('/')}/login/oauth/authorize?{query}"


async def exchange_oauth_code(
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    state: str,
    *,
    web_url: str = GITHUB_CLOUD_WEB,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> OAuthTokens:
    """Trade the `code` GitHub sent to the OAuth callback for the user's tokens."""
    params = {
        "client_id": client_id,
        "client_secret": client_secret,
        "code": code,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return await _oauth_token_request(web_url, params, transport=transport, timeout=timeout)


async def refresh_oauth_token(
    client_id: str,
    client_secret: str,
    refresh_token: str,
    *,
    web_url: str = GITHUB_CLOUD_WEB,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> OAuthTokens:
    """Renew an expiring user token (GitHub Apps' expiring user tokens)."""
    params = {
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
        "grant_type": "refresh_token",
    }
    return await _oauth_token_request(web_url, params, transport=transport, timeout=timeout)


async def revoke_oauth_grant(
    client_id: str,
    client_secret: str,
    access_token: str,
    *,
    api_url: str = GITHUB_CLOUD_API,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Withdraw the user's authorisation of the app, given one of their tokens (GitHub's
    "Delete an app authorization"): every token of theirs for the app stops working, refresh
    tokens included, which deleting only the access token would not promise. Raises
    `GitHubError` unless GitHub confirms (204)."""
    url = f"{api_url.rstrip('/')}/applications/{quote(client_id, safe='')}/grant"
    headers = {"Accept": "application/vnd.github+json", "User-Agent": USER_AGENT}
    async with httpx.AsyncClient(transport=transport, timeout=timeout, headers=headers) as http:
        try:
            resp = await http.request(
                "DELETE",
                url,
                json={"access_token": access_token},
                auth=(client_id, client_secret),
            )
        except httpx.HTTPError as err:
            raise GitHubError(None, f"Could not reach GitHub at {api_url}") from err
    if resp.status_code == 204:
        return
    try:
        data = resp.json()
    except ValueError:
        data = None
    reason = data.get("message") if isinstance(data, dict) else None
    # GitHub answers 404 both for an unknown token and for wrong app credentials.
    raise GitHubError(
        resp.status_code, f"GitHub answered {resp.status_code}{f' {reason}' if reason else ''}"
    )


async def _oauth_token_request(
    web_url: str,
    params: Mapping[str, str],
    *,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
) -> OAuthTokens:
    url = f"{web_url.rstrip('/')}/login/oauth/access_token"
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    async with httpx.AsyncClient(transport=transport, timeout=timeout, headers=headers) as http:
        try:
            resp = await http.post(url, data=dict(params))
        except httpx.HTTPError as err:
            raise GitHubError(None, f"Could not reach GitHub at {web_url}.") from err
    data = _oauth_body(resp)
    if "error" in data:
        reason = " ".join(str(data[k]) for k in ("error", "error_description") if data.get(k))
        raise GitHubError(resp.status_code, f"GitHub Error: {reason}")
    token = data.get("access_token")
    if resp.status_code >= 400 or not isinstance(token, str) or not token:
        raise GitHubError(resp.status_code, "GitHub's OAuth answer carried no access token.")
    return OAuthTokens(
        access_token=token,
        token_type=str(data.get("token_type") or "bearer"),
        scope=str(data.get("scope") or ""),
        expires_in=_seconds(data.get("expires_in")),
        refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
        refresh_token_expires_in=_seconds(data.get("refresh_token_expires_in")),
    )


def _oauth_body(resp: httpx.Response) -> dict[str, Any]:
    """GitHub answers JSON when asked, form-encoded otherwise (which hookshot parses)."""
    if "json" in resp.headers.get("content-type", ""):
        try:
            data = resp.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return dict(parse_qsl(resp.text))


def _seconds(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
