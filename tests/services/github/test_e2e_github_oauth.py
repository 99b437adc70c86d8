"""`github login` as a user goes through it, against the real homeserver and the fake GitHub:
the link from the admin room, GitHub's redirect to our callback and the page it shows, the
notice, commands with a token that is renewed before it expires, and `github logout`."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from conftest import GITHUB_CLIENT, UserFactory
from support.fake_github import FakeGitHub
from support.flows import command, notice_from, room_with_bot

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
GRANT = f"/applications/{GITHUB_CLIENT[0]}/grant"
# Inside the bridge's renewal margin (5 minutes): every use renews first, as an 8-hour token
# would be renewed in its last minutes.
SHORT_LIFETIME = 120


async def _dm(user: MatrixUser) -> str:
    dm = await user.create_room(invite=[BOT], is_direct=True)
    await user.wait_for_event(dm, notice_from(BOT, "Hello!"))
    return dm


async def _said(user: MatrixUser, room_id: str) -> set[str]:
    return {e["event_id"] for e in await user.messages(room_id)}


async def _next_notice(user: MatrixUser, room_id: str, seen: set[str], prefix: str) -> Any:
    """The first notice starting with `prefix` that was not in the room before (`seen`)."""
    match = notice_from(BOT, prefix)
    return await user.wait_for_event(room_id, lambda e: e["event_id"] not in seen and match(e))


async def _log_in(user: MatrixUser, dm: str, login: str, lifetime: int) -> httpx.Response:
    """`github login`, then the browser: GitHub's consent page (the fake approves at once as
    `login`, its tokens living `lifetime` seconds) redirects to our callback."""
    seen = await _said(user, dm)
    await command(user, dm, "github login")
    prompt = await _next_notice(user, dm, seen, "Open ")
    url = prompt["content"]["body"].split()[1]
    async with httpx.AsyncClient(follow_redirects=True) as http:
        return await http.get(url + f"&login={login}&expires_in={lifetime}")


def _refreshes(gh: FakeGitHub) -> int:
    return sum(
        1
        for r in gh.requests_to("POST", "/login/oauth/access_token")
        if r.form().get("grant_type") == "refresh_token"
    )


async def test_login_renewal_and_logout(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    user = await new_user()
    login = f"oa{uuid.uuid4().hex[:6]}"
    repo = f"{login}/tools"
    fake_github.add_user(login)
    fake_github.add_repo(repo, collaborators={login: "admin"})
    dm = await _dm(user)
    seen = await _said(user, dm)

    page = await _log_in(user, dm, login, SHORT_LIFETIME)
    assert page.url.path == "/github/oauth" and page.url.host == "127.0.0.1"
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert f"Logged in as {login}. You can close this window." in page.text
    await _next_notice(user, dm, seen, f"You are now logged into GitHub as {login}.")

    # The stored token is about to expire: the next use renews it at GitHub first.
    renewals = _refreshes(fake_github)
    seen = await _said(user, dm)
    await command(user, dm, "github status")
    await _next_notice(user, dm, seen, f"You are logged in as {login}.")
    assert _refreshes(fake_github) > renewals

    # Commands in a room act with the renewed token.
    room_id = await room_with_bot(user, BOT)
    await command(user, room_id, f"!hookshot github repo {fake_github.url}/{repo}")
    await user.wait_for_event(room_id, notice_from(BOT, f"Room configured to bridge {repo}"))
    await command(user, room_id, '!gh create "Renewed token works"')
    await user.wait_for_event(room_id, notice_from(BOT, "Created issue [#1]"))
    issue = fake_github.repos[repo.lower()].issues[1]
    assert (issue.title, issue.user) == ("Renewed token works", login)

    seen = await _said(user, dm)
    await command(user, dm, "github logout")
    await _next_notice(
        user, dm, seen, "You are logged out: your GitHub token was revoked at GitHub and removed."
    )
    (revoke,) = fake_github.requests_to("DELETE", GRANT)[-1:]
    revoked = json.loads(revoke.body)["access_token"]
    assert not fake_github.token_works(revoked)
    seen = await _said(user, dm)
    await command(user, dm, "github status")
    await _next_notice(user, dm, seen, "You are not logged into GitHub.")
    await command(user, room_id, '!gh create "After logout"', ok=False)
    await user.wait_for_event(room_id, notice_from(BOT, "Failed to handle command: You are not"))


async def test_failed_renewal_and_failed_revoke(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    user = await new_user()
    login = f"ob{uuid.uuid4().hex[:6]}"
    fake_github.add_user(login)
    dm = await _dm(user)
    page = await _log_in(user, dm, login, SHORT_LIFETIME)
    assert page.status_code == 200, page.text

    # GitHub refuses the renewal, but the token has minutes left: the command still works.
    fake_github.fail(
        "POST",
        "/login/oauth/access_token",
        200,
        {"error": "bad_refresh_token", "error_description": "The refresh token is bad."},
    )
    seen = await _said(user, dm)
    await command(user, dm, "github status")
    await _next_notice(user, dm, seen, f"You are logged in as {login}.")

    # GitHub cannot revoke: the token is forgotten here anyway and the notice says so.
    fake_github.fail("DELETE", GRANT, 500, {"message": "Server Error"})
    seen = await _said(user, dm)
    await command(user, dm, "github logout")
    notice = await _next_notice(user, dm, seen, "Your GitHub token was removed here, but revoking")
    assert "GitHub answered 500 Server Error" in notice["content"]["body"]
    assert f"{fake_github.url}/settings/applications" in notice["content"]["body"]
    seen = await _said(user, dm)
    await command(user, dm, "github status")
    await _next_notice(user, dm, seen, "You are not logged into GitHub.")


async def test_callback_failures_are_pages(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    user = await new_user()
    login = f"oc{uuid.uuid4().hex[:6]}"
    fake_github.add_user(login)
    dm = await _dm(user)
    page = await _log_in(user, dm, login, SHORT_LIFETIME)
    assert page.status_code == 200
    callback = str(page.url)
    async with httpx.AsyncClient() as http:
        replay = await http.get(callback)
        unknown = await http.get(f"{bridge.files.webhook_base}/oauth?state=forged&code=x")
        bare = await http.get(f"{bridge.files.webhook_base}/github/oauth")
    assert replay.status_code == 410 and "already used" in replay.text
    assert unknown.status_code == 400 and "does not know this login link" in unknown.text
    assert bare.status_code == 400 and "carries no state" in bare.text
    for answer in (replay, unknown, bare):
        assert answer.headers["content-type"].startswith("text/html")
        assert "github login" in answer.text
