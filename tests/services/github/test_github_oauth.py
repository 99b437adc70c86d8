"""`github login` against the fake GitHub: the callback's pages and statuses, renewing expiring
user tokens before use, and revoking at logout. The matrix side is an in-memory account-data
store; the end-to-end flow through Synapse is in test_e2e_github_oauth.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from support.fake_github import FakeGitHub

from hookshot.commands.user_tokens import (
    LOGIN_AGAIN_GITHUB,
    REFRESH_MARGIN_MS,
    GitHubAccess,
    UserTokens,
)
from hookshot.config import GitHubConfig
from hookshot.core.tokens import GitHubToken, generate_pass_file
from hookshot.errors import CommandError
from hookshot.services.github.client import GitHubError
from hookshot.services.github.oauth import STATE_TTL, GitHubLogin, Page, install_page
from hookshot.services.github.oauth_api import (
    exchange_oauth_code,
    refresh_oauth_token,
    revoke_oauth_grant,
)

CLIENT = ("Iv1.test", "shh")
REDIRECT = "https://bridge.test/github/oauth"
USER = "@alice:bridge.test"


class MemoryAccountData:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    async def get_account_data(self, event_type: str) -> dict[str, Any] | None:
        found = self.data.get(event_type)
        return json.loads(json.dumps(found)) if found is not None else None

    async def set_account_data(self, event_type: str, content: Any) -> None:
        self.data[event_type] = json.loads(json.dumps(content))


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def gh(server: FakeGitHub) -> FakeGitHub:
    server.reset()
    server.add_user("alice")
    server.add_oauth_app(*CLIENT, redirect_uri=REDIRECT)
    return server


@pytest.fixture(scope="module")
def pass_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_pass_file(tmp_path_factory.mktemp("keys") / "passkey.pem", bits=2048)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def access(gh: FakeGitHub, pass_file: Path, clock: Clock) -> GitHubAccess:
    config = GitHubConfig(
        webhook_secret="s",
        enterprise_url=gh.url,
        oauth={"client_id": CLIENT[0], "client_secret": CLIENT[1], "redirect_uri": REDIRECT},
    )
    tokens = UserTokens(MemoryAccountData(), str(pass_file))  # type: ignore[arg-type]
    return GitHubAccess(config, tokens, clock=clock)


@pytest.fixture
def told() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def login(access: GitHubAccess, clock: Clock, told: list[tuple[str, str]]) -> GitHubLogin:
    async def tell(user_id: str, text: str) -> None:
        told.append((user_id, text))

    return GitHubLogin(access, tell, clock=clock)


@pytest.fixture
async def bridge(login: GitHubLogin) -> Any:
    app = Starlette(routes=login.routes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://bridge.test"
    ) as http:
        yield http


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def _store(access: GitHubAccess, token: GitHubToken) -> None:
    await access.tokens.store.set(USER, "github", token.dumps())


# --- the callback -----------------------------------------------------------------------------


async def test_login_stores_the_token_and_says_so(
    gh: FakeGitHub, access: GitHubAccess, login: GitHubLogin, bridge: Any, told: list[Any]
) -> None:
    url = login.start(USER)
    assert url.startswith(f"{gh.url}/login/oauth/authorize?")
    code = gh.oauth_code(CLIENT[0], "alice")
    page = await bridge.get("/github/oauth", params={"code": code, "state": _state(url)})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "Logged in as alice. You can close this window." in page.text
    assert "<script" not in page.text and "http" not in page.text.split("<body", 1)[1]
    assert told == [(USER, "You are now logged into GitHub as alice.")]
    token = await access.token_of(USER)
    assert token is not None and gh.token_works(token.access_token)
    # The link works once.
    again = await bridge.get("/oauth", params={"code": code, "state": _state(url)})
    assert again.status_code == 410 and "already used" in again.text


@pytest.mark.parametrize(
    ("query", "status", "text"),
    [
        ({}, 400, "carries no state"),
        ({"state": "nope", "code": "c"}, 400, "does not know this login link"),
        ({"state": "{state}"}, 400, "GitHub sent no code"),
        ({"state": "{state}", "error": "access_denied"}, 403, "did not authorise"),
        (
            {"state": "{state}", "error": "redirect_uri_mismatch", "error_description": "bad uri"},
            502,
            "GitHub reported an error (redirect_uri_mismatch: bad uri)",
        ),
        ({"state": "{state}", "code": "not-a-code"}, 502, "bad_verification_code"),
    ],
)
async def test_failures_are_readable_pages(
    login: GitHubLogin, bridge: Any, query: dict[str, str], status: int, text: str
) -> None:
    state = _state(login.start(USER))
    params = {k: v.replace("{state}", state) for k, v in query.items()}
    page = await bridge.get("/github/oauth", params=params)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert text in page.text
    assert "github login" in page.text  # every failure says how to get a new link


async def test_an_expired_link_is_gone(
    gh: FakeGitHub, login: GitHubLogin, bridge: Any, clock: Clock
) -> None:
    state = _state(login.start(USER))
    clock.now += STATE_TTL + 1
    page = await bridge.get(
        "/github/oauth", params={"state": state, "code": gh.oauth_code(CLIENT[0], "alice")}
    )
    assert page.status_code == 410 and "expired" in page.text


async def test_github_app_installs_land_on_a_page(bridge: Any) -> None:
    page = await bridge.get(
        "/github/oauth", params={"installation_id": "7", "setup_action": "install"}
    )
    assert page.status_code == 200 and "GitHub App installed" in page.text
    assert install_page("request") == Page(
        200,
        "GitHub App installation requested",
        "An owner of the organisation has to approve it on GitHub. You can close this window.",
    )


async def test_markup_in_github_errors_is_escaped(login: GitHubLogin, bridge: Any) -> None:
    state = _state(login.start(USER))
    page = await bridge.get(
        "/github/oauth", params={"state": state, "error": "x", "error_description": "<b>hi</b>"}
    )
    assert "<b>hi</b>" not in page.text and "&lt;b&gt;hi&lt;/b&gt;" in page.text


# --- renewal ----------------------------------------------------------------------------------


async def _expiring_login(gh: FakeGitHub, access: GitHubAccess, clock: Clock) -> GitHubToken:
    tokens = await exchange_oauth_code(
        *CLIENT, gh.oauth_code(CLIENT[0], "alice", expires_in=28800), REDIRECT, "s", web_url=gh.url
    )
    stored = tokens.stored(int(clock.now * 1000))
    await _store(access, stored)
    return stored


def _refreshes(gh: FakeGitHub) -> list[Any]:
    return [
        r
        for r in gh.requests_to("POST", "/login/oauth/access_token")
        if r.form().get("grant_type") == "refresh_token"
    ]


async def test_a_fresh_token_is_used_as_it_is(
    gh: FakeGitHub, access: GitHubAccess, clock: Clock
) -> None:
    stored = await _expiring_login(gh, access, clock)
    assert await access.access_token(USER) == stored.access_token
    assert _refreshes(gh) == []


async def test_a_token_near_expiry_is_renewed_and_stored(
    gh: FakeGitHub, access: GitHubAccess, clock: Clock
) -> None:
    stored = await _expiring_login(gh, access, clock)
    assert stored.expires_at_ms is not None
    clock.now = (stored.expires_at_ms - REFRESH_MARGIN_MS + 1) / 1000
    fresh = await access.access_token(USER)
    assert fresh is not None and fresh != stored.access_token
    assert len(_refreshes(gh)) == 1
    assert _refreshes(gh)[0].form()["refresh_token"] == stored.refresh_token
    assert gh.token_works(fresh) and not gh.token_works(stored.access_token)
    kept = await access.token_of(USER)
    assert kept is not None and kept.access_token == fresh
    assert kept.refresh_token not in (None, stored.refresh_token)
    async with await access.user_client(USER) as client:
        assert (await client.get_authenticated_user()).login == "alice"


async def test_concurrent_uses_renew_once(
    gh: FakeGitHub, access: GitHubAccess, clock: Clock
) -> None:
    stored = await _expiring_login(gh, access, clock)
    assert stored.expires_at_ms is not None
    clock.now = stored.expires_at_ms / 1000 + 1
    tokens = await asyncio.gather(*(access.access_token(USER) for _ in range(5)))
    assert len(set(tokens)) == 1 and len(_refreshes(gh)) == 1


async def test_a_failed_renewal_asks_to_log_in_again(
    gh: FakeGitHub, access: GitHubAccess, clock: Clock
) -> None:
    stored = await _expiring_login(gh, access, clock)
    assert stored.expires_at_ms is not None
    gh.fail(
        "POST",
        "/login/oauth/access_token",
        200,
        {"error": "bad_refresh_token", "error_description": "The refresh token is bad."},
        times=2,
    )
    # Still valid for a few minutes: the old token is used and renewal is tried again later.
    clock.now = (stored.expires_at_ms - 60_000) / 1000
    assert await access.access_token(USER) == stored.access_token
    clock.now = stored.expires_at_ms / 1000 + 1
    with pytest.raises(CommandError) as err:
        await access.user_client(USER)
    assert str(err.value).startswith(LOGIN_AGAIN_GITHUB)
    assert "bad_refresh_token" in str(err.value)


async def test_an_expired_token_without_refresh_token_asks_to_log_in_again(
    access: GitHubAccess, clock: Clock
) -> None:
    await _store(
        access,
        GitHubToken("gho_x", "bearer", expires_at_ms=int(clock.now * 1000) - 1),
    )
    with pytest.raises(CommandError, match="log in again"):
        await access.access_token(USER)


async def test_personal_tokens_never_expire(access: GitHubAccess) -> None:
    await _store(access, GitHubToken("ghp_pat"))
    assert await access.access_token(USER) == "ghp_pat"


# --- revocation -------------------------------------------------------------------------------


async def test_revoke_withdraws_the_grant(
    gh: FakeGitHub, access: GitHubAccess, clock: Clock
) -> None:
    stored = await _expiring_login(gh, access, clock)
    await access.revoke(stored)
    (request,) = gh.requests_to("DELETE", f"/applications/{CLIENT[0]}/grant")
    assert json.loads(request.body) == {"access_token": stored.access_token}
    assert request.headers["authorization"].startswith("Basic ")
    assert not gh.token_works(stored.access_token)
    # Its refresh token went with it.
    assert stored.refresh_token is not None
    with pytest.raises(GitHubError, match="bad_refresh_token"):
        await refresh_oauth_token(*CLIENT, stored.refresh_token, web_url=gh.url)


async def test_revoke_failures_are_errors(gh: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match="404"):
        await revoke_oauth_grant(CLIENT[0], "wrong", "gho_x", api_url=gh.api_url)
    gh.fail("DELETE", f"/applications/{CLIENT[0]}/grant", 500)
    with pytest.raises(GitHubError, match="500"):
        await revoke_oauth_grant(*CLIENT, "gho_x", api_url=gh.api_url)
