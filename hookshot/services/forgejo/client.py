"""Forgejo's (and Gitea's) REST API, as much as the commands need, on httpx:

    GET   /api/v1/user                                  `forgejo personaltoken` checks a token
    GET   /api/v1/repos/{owner}/{repo}                  `forgejo repo` reads the repository
    POST  /api/v1/repos/{owner}/{repo}/issues           `create`
    PATCH /api/v1/repos/{owner}/{repo}/issues/{index}   `close` (state: closed)
    POST  /api/v1/repos/{owner}/{repo}/issues/{index}/comments   `close` with a comment

Every failure is a `ForgejoError` whose message is meant for the user."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final
from urllib.parse import quote

import httpx

from hookshot.errors import CommandError

API: Final = "/api/v1"
TIMEOUT: Final = 15.0


class ForgejoError(CommandError):
    """A failed API call, worded for the user."""


@dataclass(frozen=True)
class RepoInfo:
    owner: str
    name: str
    html_url: str
    can_push: bool


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    html_url: str


def _path(owner: str, repo: str) -> str:
    return f"{API}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"


class ForgejoClient:
    """One user's token on one instance."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Authorization": f"token {token}",
                "Accept": "application/json",
                "User-Agent": "hookshot-python",
            },
            timeout=TIMEOUT,
            transport=transport,
            follow_redirects=False,
        )

    async def __aenter__(self) -> ForgejoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.HTTPError as err:
            raise ForgejoError(f"Could not reach {self.base_url}: {type(err).__name__}") from None
        if response.status_code == 401:
            raise ForgejoError(f"{self.base_url} refused the token (401).")
        if response.status_code == 403:
            raise ForgejoError("Your token may not do this (403).")
        if response.status_code == 404:
            raise ForgejoError("Not found (404): check the repository and the issue number.")
        if not response.is_success:
            try:
                message = str(response.json().get("message") or "")
            except (ValueError, AttributeError):
                message = ""
            raise ForgejoError(
                f"{self.base_url} answered {response.status_code}"
                + (f": {message}" if message else ".")
            )
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ForgejoError(
                f"{self.base_url} answered with something that is not JSON."
            ) from None

    async def me(self) -> str:
        user = await self._call("GET", f"{API}/user")
        login = user.get("login") if isinstance(user, dict) else None
        if not isinstance(login, str) or not login:
            raise ForgejoError("The instance did not say who the token belongs to.")
        return login

    async def repo(self, owner: str, repo: str) -> RepoInfo:
        data = await self._call("GET", _path(owner, repo))
        if not isinstance(data, dict):
            raise ForgejoError("The instance answered with an unexpected repository.")
        perms = data.get("permissions")
        perms = perms if isinstance(perms, dict) else {}
        owner_obj = data.get("owner")
        owner_obj = owner_obj if isinstance(owner_obj, dict) else {}
        return RepoInfo(
            owner=str(owner_obj.get("login") or owner),
            name=str(data.get("name") or repo),
            html_url=str(data.get("html_url") or ""),
            can_push=bool(perms.get("push") or perms.get("admin")),
        )

    async def create_issue(self, owner: str, repo: str, title: str, body: str | None) -> Issue:
        data = await self._call(
            "POST", f"{_path(owner, repo)}/issues", {"title": title, "body": body or ""}
        )
        if not isinstance(data, dict) or not isinstance(data.get("number"), int):
            raise ForgejoError("The instance answered with an unexpected issue.")
        return Issue(
            int(data["number"]), str(data.get("title") or title), str(data.get("html_url") or "")
        )

    async def close_issue(self, owner: str, repo: str, number: int) -> None:
        await self._call("PATCH", f"{_path(owner, repo)}/issues/{number}", {"state": "closed"})

    async def comment(self, owner: str, repo: str, number: int, body: str) -> None:
        await self._call("POST", f"{_path(owner, repo)}/issues/{number}/comments", {"body": body})
