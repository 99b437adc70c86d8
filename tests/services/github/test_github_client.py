"""The GitHub client against the fake GitHub API on a real loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from support.fake_github import FakeGitHub, FakeUser

from hookshot.config import GitHubConfig
from hookshot.errors import CommandError, ConfigError
from hookshot.services.github.client import (
    GITHUB_CLOUD_API,
    GITHUB_CLOUD_WEB,
    GitHubApp,
    GitHubClient,
    GitHubError,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubUnauthorized,
    RepoPermissions,
    api_url_for,
    web_url_for,
)
from hookshot.services.github.oauth_api import (
    exchange_oauth_code,
    oauth_authorize_url,
    refresh_oauth_token,
)

REPO = "acme/widgets"
APP_ID = 4242


@pytest.fixture(scope="module")
def server() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def gh(server: FakeGitHub) -> FakeGitHub:
    server.reset()
    return server


@pytest.fixture
def alice(gh: FakeGitHub) -> FakeUser:
    """An admin of acme/widgets, which has one issue (#1) and one PR (#2) by bob."""
    user = gh.add_user("alice", name="Alice")
    gh.add_user("bob")
    gh.add_repo(REPO, collaborators={"alice": "admin", "bob": "write"}, branches=["dev"])
    gh.add_issue(REPO, "Broken widget", user="bob", body="It broke")
    gh.add_issue(REPO, "Fix widget", user="bob", pull_request=True, diff="diff --git a/w b/w\n")
    return user


@pytest.fixture
async def client(gh: FakeGitHub, alice: FakeUser) -> AsyncIterator[GitHubClient]:
    async with GitHubClient.for_token(alice.token, api_url=api_url_for(gh.url)) as c:
        yield c


@pytest.fixture(scope="module")
def app_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # what GitHub hands out
        serialization.NoEncryption(),
    ).decode()


# --- base URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enterprise", "api", "web"),
    [
        (None, GITHUB_CLOUD_API, GITHUB_CLOUD_WEB),
        ("https://ghe.corp.test", "https://ghe.corp.test/api/v3", "https://ghe.corp.test"),
        ("https://ghe.corp.test/", "https://ghe.corp.test/api/v3", "https://ghe.corp.test"),
        # As hookshot: the API sits at the origin; OAuth pages keep the path.
        ("https://corp.test/gh", "https://corp.test/api/v3", "https://corp.test/gh"),
        ("https://api.github.com", "https://api.github.com", GITHUB_CLOUD_WEB),
    ],
)
def test_base_urls_follow_hookshot(enterprise: str | None, api: str, web: str) -> None:
    assert api_url_for(enterprise) == api
    assert web_url_for(enterprise) == web


# --- repositories -----------------------------------------------------------------------------


async def test_get_repo_with_permissions(client: GitHubClient, gh: FakeGitHub) -> None:
    repo = await client.get_repo(REPO)
    assert repo.full_name == REPO
    assert (repo.owner, repo.name) == ("acme", "widgets")
    assert repo.default_branch == "main"
    assert repo.html_url == f"{gh.url}/{REPO}"
    assert repo.permissions == RepoPermissions(
        admin=True, maintain=True, push=True, triage=True, pull=True
    )
    [request] = gh.requests
    assert (request.method, request.path) == ("GET", f"/repos/{REPO}")
    assert request.headers["authorization"] == f"token {gh.users['alice'].token}"


async def test_get_repo_as_an_outsider(gh: FakeGitHub, alice: FakeUser) -> None:
    carol = gh.add_user("carol")
    async with GitHubClient.for_token(carol.token, api_url=gh.api_url) as c:
        repo = await c.get_repo(REPO)
        assert repo.permissions == RepoPermissions(pull=True)
        gh.add_repo("acme/secret", private=True)
        with pytest.raises(GitHubNotFound, match=r"^No such repository acme/secret or no access"):
            await c.get_repo("acme/secret")


async def test_permission_level(client: GitHubClient, gh: FakeGitHub) -> None:
    gh.add_user("carol")
    assert await client.get_permission_level(REPO, "alice") == "admin"
    assert await client.get_permission_level(REPO, "bob") == "write"
    assert await client.get_permission_level(REPO, "carol") == "read"


async def test_list_user_repos_follows_pagination(client: GitHubClient, gh: FakeGitHub) -> None:
    for n in range(120):
        gh.add_repo(f"alice/r{n:03}")
    repos = await client.list_user_repos(limit=1000)
    assert len(repos) == 121
    assert repos[0].full_name == REPO
    pages = gh.requests_to("GET", "/user/repos")
    assert len(pages) == 2
    assert pages[1].query["page"] == "2"
    assert len(await client.list_user_repos(limit=5)) == 5


async def test_bad_repo_names_are_refused_before_calling(
    client: GitHubClient, gh: FakeGitHub
) -> None:
    with pytest.raises(GitHubError, match="not a repository name"):
        await client.get_repo("widgets")
    with pytest.raises(CommandError):
        await client.get_repo("a/b/c")
    assert gh.requests == []


# --- issues -----------------------------------------------------------------------------------


async def test_create_issue(client: GitHubClient, gh: FakeGitHub) -> None:
    issue = await client.create_issue(REPO, "New thing", "Details", ["bug", "ui"])
    assert (issue.number, issue.title, issue.state, issue.is_pr) == (3, "New thing", "open", False)
    assert issue.labels == ("bug", "ui")
    assert issue.user == "alice"
    assert issue.html_url == f"{gh.url}/{REPO}/issues/3"
    [request] = gh.requests
    assert (request.method, request.path) == ("POST", f"/repos/{REPO}/issues")
    assert request.json() == {"title": "New thing", "body": "Details", "labels": ["bug", "ui"]}


async def test_create_issue_without_body(client: GitHubClient, gh: FakeGitHub) -> None:
    await client.create_issue(REPO, "Bare")
    assert gh.requests[-1].json() == {"title": "Bare", "labels": []}


async def test_create_issue_validation_error(client: GitHubClient) -> None:
    with pytest.raises(GitHubError) as err:
        await client.create_issue(REPO, " ")
    assert err.value.status == 422
    assert err.value.message == "GitHub could not do that: Validation Failed: title missing field."


async def test_get_issue_or_pr(client: GitHubClient) -> None:
    issue = await client.get_issue_or_pr(REPO, 1)
    assert (issue.title, issue.state, issue.is_pr, issue.body) == (
        "Broken widget",
        "open",
        False,
        "It broke",
    )
    pull = await client.get_issue_or_pr(REPO, 2)
    assert pull.is_pr
    assert pull.html_url.endswith(f"/{REPO}/pull/2")
    with pytest.raises(GitHubNotFound, match=r"#99 in acme/widgets"):
        await client.get_issue_or_pr(REPO, 99)


async def test_latest_issue_number(client: GitHubClient, gh: FakeGitHub) -> None:
    assert await client.latest_issue_number(REPO) == 2
    assert gh.requests[-1].query == {"sort": "created", "direction": "desc", "per_page": "1"}
    gh.add_repo("alice/empty")
    assert await client.latest_issue_number("alice/empty") is None


async def test_add_assignees(client: GitHubClient, gh: FakeGitHub) -> None:
    gh.add_user("mallory")
    issue = await client.add_assignees(REPO, 1, ["bob", "mallory"])
    # GitHub skips whom it cannot assign; the caller sees who was.
    assert issue.assignees == ("bob",)
    [request] = gh.requests
    assert (request.method, request.path) == ("POST", f"/repos/{REPO}/issues/1/assignees")
    assert request.json() == {"assignees": ["bob", "mallory"]}


async def test_close_issue_with_comment(client: GitHubClient, gh: FakeGitHub) -> None:
    issue = await client.close_issue(REPO, 1, "Fixed in #2")
    assert issue.state == "closed"
    assert [(r.method, r.path, r.json()) for r in gh.requests] == [
        ("POST", f"/repos/{REPO}/issues/1/comments", {"body": "Fixed in #2"}),
        ("PATCH", f"/repos/{REPO}/issues/1", {"state": "closed"}),
    ]
    [comment] = await client.list_issue_comments(REPO, 1)
    assert (comment.body, comment.user) == ("Fixed in #2", "alice")


async def test_close_issue_without_right_is_refused(gh: FakeGitHub, alice: FakeUser) -> None:
    carol = gh.add_user("carol")
    async with GitHubClient.for_token(carol.token, api_url=gh.api_url) as c:
        with pytest.raises(GitHubError) as err:
            await c.close_issue(REPO, 1)
    assert err.value.status == 403
    assert err.value.message == "GitHub refused: Must have admin rights to Repository."


async def test_comments(client: GitHubClient, gh: FakeGitHub) -> None:
    old = gh.add_comment(REPO, 1, "old news", user="bob")
    old.created -= 3600
    created = await client.create_comment(REPO, 1, "fresh")
    fetched = await client.get_comment(REPO, created.id)
    assert fetched == created
    assert fetched.html_url.endswith(f"#issuecomment-{created.id}")
    assert isinstance(fetched.created_at, datetime)
    since = datetime.now(UTC) - timedelta(minutes=2)
    assert [c.body for c in await client.list_issue_comments(REPO, 1, since=since)] == ["fresh"]
    assert len(await client.list_issue_comments(REPO, 1)) == 2
    with pytest.raises(GitHubNotFound, match="No such comment 1 in acme/widgets"):
        await client.get_comment(REPO, 1)


# --- pull requests ----------------------------------------------------------------------------


async def test_pr_diff(client: GitHubClient, gh: FakeGitHub) -> None:
    assert await client.get_pr_diff(REPO, 2) == "diff --git a/w b/w\n"
    [request] = gh.requests
    assert request.path == f"/repos/{REPO}/pulls/2"
    assert request.headers["accept"] == "application/vnd.github.v3.diff"
    with pytest.raises(GitHubNotFound, match="No such pull request #1 in acme/widgets"):
        await client.get_pr_diff(REPO, 1)


async def test_review(client: GitHubClient, gh: FakeGitHub) -> None:
    review = await client.create_review(REPO, 2, "APPROVE", "LGTM")
    assert review.state == "APPROVED"
    assert gh.requests[-1].json() == {"body": "LGTM", "event": "APPROVE", "comments": []}
    changes = await client.create_review(REPO, 2, "REQUEST_CHANGES", "Please add tests")
    assert changes.state == "CHANGES_REQUESTED"
    assert [r["state"] for r in gh.repos[REPO].reviews] == ["APPROVED", "CHANGES_REQUESTED"]


async def test_review_of_own_pr_is_refused(gh: FakeGitHub, alice: FakeUser) -> None:
    bob = gh.users["bob"]
    async with GitHubClient.for_token(bob.token, api_url=gh.api_url) as c:
        with pytest.raises(GitHubError) as err:
            await c.create_review(REPO, 2, "APPROVE")
    assert err.value.status == 422
    assert "Can not approve your own pull request" in err.value.message


async def test_review_event_is_checked(client: GitHubClient) -> None:
    with pytest.raises(GitHubError, match="APPROVE, REQUEST_CHANGES, COMMENT"):
        await client.create_review(REPO, 2, "MERGE")  # type: ignore[arg-type]


# --- actions ----------------------------------------------------------------------------------


async def test_trigger_workflow_by_name(client: GitHubClient, gh: FakeGitHub) -> None:
    wf = gh.add_workflow(REPO, "Build Docs", ".github/workflows/docs.yml", inputs={"tag": False})
    found = await client.trigger_workflow(REPO, "build docs ", inputs={"tag": "v1"})
    assert found.id == wf.id
    assert gh.repos[REPO].dispatches == [
        {"workflow": wf.id, "ref": "main", "inputs": {"tag": "v1"}}
    ]
    dispatch = gh.requests[-1]
    assert (dispatch.method, dispatch.path) == (
        "POST",
        f"/repos/{REPO}/actions/workflows/{wf.id}/dispatches",
    )


async def test_trigger_workflow_by_file_on_a_ref(client: GitHubClient, gh: FakeGitHub) -> None:
    wf = gh.add_workflow(REPO, "CI", ".github/workflows/ci.yml")
    await client.trigger_workflow(REPO, "ci.yml", ref="dev")
    assert gh.repos[REPO].dispatches == [{"workflow": wf.id, "ref": "dev", "inputs": {}}]
    # No listing and no default-branch lookup when both are given.
    assert [r.path for r in gh.requests] == [
        f"/repos/{REPO}/actions/workflows/ci.yml",
        f"/repos/{REPO}/actions/workflows/{wf.id}/dispatches",
    ]


async def test_trigger_workflow_errors(client: GitHubClient, gh: FakeGitHub) -> None:
    gh.add_workflow(REPO, "CI", ".github/workflows/ci.yml")
    gh.add_workflow(REPO, "Release", ".github/workflows/release.yml")
    with pytest.raises(GitHubNotFound) as missing:
        await client.trigger_workflow(REPO, "Deploy")
    assert missing.value.message == (
        'Could not find a workflow by the name of "Deploy". '
        "The workflows on this repository are CI, Release."
    )
    with pytest.raises(GitHubNotFound, match=r'No workflow file "nope\.yml"'):
        await client.trigger_workflow(REPO, "nope.yml")
    with pytest.raises(GitHubError, match="No ref found for: nope") as bad_ref:
        await client.trigger_workflow(REPO, "CI", ref="nope")
    assert bad_ref.value.status == 422
    with pytest.raises(GitHubError, match=r'Unexpected inputs provided: \["x"\]'):
        await client.trigger_workflow(REPO, "CI", inputs={"x": "1"})
    assert gh.repos[REPO].dispatches == []


# --- the caller -------------------------------------------------------------------------------


async def test_authenticated_user(client: GitHubClient) -> None:
    me = await client.get_authenticated_user()
    assert (me.login, me.name) == ("alice", "Alice")


async def test_root_layout_works_too(gh: FakeGitHub, alice: FakeUser) -> None:
    async with GitHubClient.for_token(alice.token, api_url=gh.url) as c:
        assert (await c.get_authenticated_user()).login == "alice"


# --- errors -----------------------------------------------------------------------------------


async def test_bad_token(gh: FakeGitHub, alice: FakeUser) -> None:
    async with GitHubClient.for_token("ghp_wrong", api_url=gh.api_url) as c:
        with pytest.raises(GitHubUnauthorized, match=r"^Your GitHub token is not valid") as err:
            await c.get_repo(REPO)
    assert err.value.status == 401


async def test_server_errors(client: GitHubClient, gh: FakeGitHub) -> None:
    gh.fail("GET", f"/repos/{REPO}", 502)
    with pytest.raises(GitHubError) as err:
        await client.get_repo(REPO)
    assert (err.value.status, err.value.message) == (
        502,
        "GitHub is having trouble (502); try again later.",
    )
    assert (await client.get_repo(REPO)).full_name == REPO  # only the next one failed


async def test_primary_rate_limit(client: GitHubClient, gh: FakeGitHub) -> None:
    reset = int(time.time()) + 600
    gh.fail(
        "GET",
        "/user",
        403,
        {"message": "API rate limit exceeded for user ID 1."},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    with pytest.raises(GitHubRateLimited) as err:
        await client.get_authenticated_user()
    assert err.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert err.value.message.startswith("GitHub's rate limit was reached; try again after ")


async def test_secondary_rate_limit(client: GitHubClient, gh: FakeGitHub) -> None:
    gh.fail("GET", "/user", 429, {"message": "slow down"}, headers={"retry-after": "30"})
    with pytest.raises(GitHubRateLimited) as err:
        await client.get_authenticated_user()
    assert err.value.retry_at is not None
    assert err.value.retry_at > datetime.now(UTC) + timedelta(seconds=20)


async def test_unreachable_github() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/v3"
    async with GitHubClient.for_token("x", api_url=url, timeout=2) as c:
        with pytest.raises(GitHubError) as err:
            await c.get_repo(REPO)
    assert err.value.status is None
    assert err.value.message == f"Could not reach GitHub at {url}."


# --- as the bridge's GitHub App ---------------------------------------------------------------


@pytest.fixture
def installed(gh: FakeGitHub, alice: FakeUser, app_key_pem: str) -> int:
    gh.add_app(APP_ID, app_key_pem, slug="hookshot-test")
    gh.add_repo("acme/other")
    return gh.install_app(APP_ID, "acme", repos=[REPO]).id


@pytest.fixture
def github_app(gh: FakeGitHub, app_key_pem: str) -> Iterator[GitHubApp]:
    app = GitHubApp(APP_ID, app_key_pem, api_url=api_url_for(gh.url))
    yield app
    app.close()


async def test_app_info(github_app: GitHubApp, gh: FakeGitHub, installed: int) -> None:
    info = await github_app.app_info()
    assert (info.id, info.slug, info.html_url) == (
        APP_ID,
        "hookshot-test",
        f"{gh.url}/apps/hookshot-test",
    )
    assert gh.requests[-1].headers["authorization"].startswith("Bearer ey")


async def test_app_installation_token_flow(
    github_app: GitHubApp, gh: FakeGitHub, installed: int
) -> None:
    client = await github_app.client_for_repo(REPO)
    assert (await client.get_issue_or_pr(REPO, 1)).title == "Broken widget"
    repo = await client.get_repo(REPO)
    assert repo.permissions is None  # GitHub reports permissions for users only
    assert await github_app.client_for_repo(REPO.upper()) is client

    calls = [(r.method, r.path, r.headers["authorization"].split(" ")[0]) for r in gh.requests]
    assert calls == [
        ("GET", f"/repos/{REPO}/installation", "Bearer"),
        ("POST", f"/app/installations/{installed}/access_tokens", "Bearer"),
        ("GET", f"/repos/{REPO}/issues/1", "token"),
        ("GET", f"/repos/{REPO}", "token"),
    ]
    [minted] = gh.installation_tokens
    assert gh.requests[-1].token == minted
    assert await github_app.installation_token(REPO) == minted


async def test_app_renews_tokens_near_expiry(
    github_app: GitHubApp, gh: FakeGitHub, installed: int
) -> None:
    gh.installation_token_ttl = timedelta(minutes=4)  # inside the renewal margin
    client = await github_app.client_for_repo(REPO)
    await client.get_issue_or_pr(REPO, 1)
    await client.get_issue_or_pr(REPO, 1)
    assert len(gh.requests_to("POST", f"/app/installations/{installed}/access_tokens")) == 2
    assert gh.requests[-1].token != gh.requests[-3].token


async def test_app_not_installed(github_app: GitHubApp, installed: int) -> None:
    with pytest.raises(GitHubNotFound, match="GitHub App is not installed on acme/other"):
        await github_app.client_for_repo("acme/other")


async def test_app_installations_by_owner(
    github_app: GitHubApp, gh: FakeGitHub, installed: int
) -> None:
    found = await github_app.installation_for_owner("acme")
    assert (found.id, found.account, found.repository_selection) == (installed, "acme", "selected")
    gh.install_app(APP_ID, "alice")
    mine = await github_app.installation_for_owner("alice", user=True)
    assert mine.repository_selection == "all"
    assert gh.requests[-1].path == "/users/alice/installation"


async def test_app_with_the_wrong_key(gh: FakeGitHub, installed: int) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    app = GitHubApp(APP_ID, pem, api_url=gh.api_url)
    try:
        with pytest.raises(GitHubUnauthorized, match="GitHub App credentials"):
            await app.client_for_repo(REPO)
    finally:
        app.close()


async def test_app_from_config(
    gh: FakeGitHub, installed: int, app_key_pem: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "github-key.pem"
    key_file.write_text(app_key_pem)
    config = GitHubConfig(
        webhook_secret="s",
        app_id=str(APP_ID),
        private_key_file=str(key_file),
        enterprise_url=gh.url,
    )
    app = GitHubApp.from_config(config)
    try:
        assert app.api_url == gh.api_url
        assert (await app.installation_for_repo(REPO)).id == installed
    finally:
        app.close()

    with pytest.raises(ConfigError) as no_auth:
        GitHubApp.from_config(GitHubConfig(webhook_secret="s"))
    assert no_auth.value.key == "github.auth"
    missing = GitHubConfig(webhook_secret="s", app_id="1", private_key_file=str(tmp_path / "x"))
    with pytest.raises(ConfigError) as no_file:
        GitHubApp.from_config(missing)
    assert no_file.value.key == "github.auth.privateKeyFile"


# --- OAuth ------------------------------------------------------------------------------------


def test_authorize_url() -> None:
    url = oauth_authorize_url("Iv1.abc", "https://hook.test/oauth", "st@te 1")
    assert url == (
        "https://github.com/login/oauth/authorize"
        "?state=st%40te+1&client_id=Iv1.abc&redirect_uri=https%3A%2F%2Fhook.test%2Foauth"
    )
    enterprise = oauth_authorize_url("c", "r", "s", web_url=web_url_for("https://ghe.test/"))
    assert enterprise.startswith("https://ghe.test/login/oauth/authorize?")


async def test_oauth_login_round_trip(gh: FakeGitHub, alice: FakeUser) -> None:
    gh.add_oauth_app("Iv1.abc", "shh", redirect_uri="https://hook.test/oauth")
    # The user approves on the (fake) consent page and GitHub redirects to our callback.
    authorize = oauth_authorize_url("Iv1.abc", "https://hook.test/oauth", "s1", web_url=gh.url)
    async with httpx.AsyncClient() as http:
        page = await http.get(authorize + "&login=alice")
    assert page.status_code == 302
    callback = parse_qs(urlsplit(page.headers["location"]).query)
    assert callback["state"] == ["s1"]

    tokens = await exchange_oauth_code(
        "Iv1.abc", "shh", callback["code"][0], "https://hook.test/oauth", "s1", web_url=gh.url
    )
    assert tokens.token_type == "bearer"
    assert tokens.expires_in is None
    request = gh.requests[-1]
    assert (request.method, request.path) == ("POST", "/login/oauth/access_token")
    assert request.form()["client_secret"] == "shh"
    assert request.headers["accept"] == "application/json"
    stored = tokens.stored(now_ms=5)
    assert stored.access_token == tokens.access_token
    assert stored.expires_at_ms is None

    async with GitHubClient.for_token(tokens.access_token, api_url=gh.api_url) as c:
        assert (await c.get_authenticated_user()).login == "alice"


async def test_oauth_errors(gh: FakeGitHub, alice: FakeUser) -> None:
    gh.add_oauth_app("Iv1.abc", "shh")
    with pytest.raises(GitHubError, match=r"^GitHub Error: bad_verification_code The code"):
        await exchange_oauth_code("Iv1.abc", "shh", "nope", "r", "s", web_url=gh.url)
    code = gh.oauth_code("Iv1.abc", "alice")
    with pytest.raises(GitHubError, match="incorrect_client_credentials"):
        await exchange_oauth_code("Iv1.abc", "wrong", code, "r", "s", web_url=gh.url)


async def test_oauth_expiring_tokens_refresh(gh: FakeGitHub, alice: FakeUser) -> None:
    gh.add_oauth_app("Iv1.exp", "shh", expiring=True)
    first = await exchange_oauth_code(
        "Iv1.exp", "shh", gh.oauth_code("Iv1.exp", "alice"), "r", "s", web_url=gh.url
    )
    assert first.expires_in == 28800
    assert first.refresh_token is not None
    stored = first.stored(now_ms=1_000)
    assert stored.expires_at_ms == 1_000 + 28_800_000
    assert stored.refresh_expires_at_ms == 1_000 + 15_811_200_000

    second = await refresh_oauth_token("Iv1.exp", "shh", first.refresh_token, web_url=gh.url)
    assert second.access_token != first.access_token
    assert gh.requests[-1].form()["grant_type"] == "refresh_token"
    with pytest.raises(GitHubError, match="bad_refresh_token"):
        await refresh_oauth_token("Iv1.exp", "shh", first.refresh_token, web_url=gh.url)


async def test_oauth_form_encoded_answers_are_read() -> None:
    """GitHub answers form-encoded unless asked for JSON, and hookshot parsed that."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            text="access_token=gho_form&scope=repo&token_type=bearer",
            headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        )

    tokens = await exchange_oauth_code(
        "c", "s", "code", "r", "st", transport=httpx.MockTransport(handler)
    )
    assert (tokens.access_token, tokens.scope) == ("gho_form", "repo")


async def test_fake_records_calls_it_does_not_know(gh: FakeGitHub) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{gh.api_url}/repos/a/b/hooks")
    assert answer.status_code == 404
    assert answer.json()["message"] == "Not Found"
    assert gh.requests[-1].path == "/repos/a/b/hooks"


def test_pygithub_loads_only_when_a_client_is_made() -> None:
    # ~19 MiB of RSS and 0.4 s of start-up for a bridge that bridges no GitHub.
    code = (
        "import sys, hookshot.cli, hookshot.runner, hookshot.app\n"
        "print('github' in sys.modules)\n"
        "from hookshot.services.github.client import GitHubClient\n"
        "GitHubClient.for_token('ghp_x').close()\n"
        "print('github' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
