"""The GitLab client against the fake GitLab API on a real loopback port."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from support.fake_gitlab import DEVELOPER, GUEST, MAINTAINER, OWNER, REPORTER, FakeGitLab, FakeUser

from hookshot.config import GitLabConfig
from hookshot.errors import CommandError
from hookshot.services.gitlab.client import (
    BRIDGE_HOOK_EVENTS,
    HOOKSHOT_HOOK_EVENTS,
    AccessLevel,
    GitLabClient,
    GitLabError,
    GitLabForbidden,
    GitLabNotFound,
    GitLabRateLimited,
    GitLabUnauthorized,
    GitLabUnavailable,
    access_level_of,
    project_ref,
)

PROJECT = "acme/widgets"
ENCODED = "acme%2Fwidgets"
INSTANCE = "test"
HOOK_URL = "https://hookshot.test/hookshot/"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeGitLab]:
    with FakeGitLab() as fake:
        yield fake


@pytest.fixture
def gl(server: FakeGitLab) -> FakeGitLab:
    server.reset()
    return server


@pytest.fixture
def alice(gl: FakeGitLab) -> FakeUser:
    """A Maintainer of acme/widgets, which has one issue (#1) by bob, a Developer."""
    user = gl.add_user("alice", name="Alice")
    gl.add_user("bob")
    gl.add_project(PROJECT, members={"alice": MAINTAINER, "bob": DEVELOPER}, description="W")
    gl.add_issue(PROJECT, "Broken widget", author="bob", description="It broke")
    return user


@pytest.fixture
async def client(gl: FakeGitLab, alice: FakeUser) -> AsyncIterator[GitLabClient]:
    async with GitLabClient(gl.url, alice.token, name=INSTANCE) as c:
        yield c


def as_user(gl: FakeGitLab, user: FakeUser) -> GitLabClient:
    return GitLabClient(gl.url, user.token, name=INSTANCE)


async def test_client_for_a_configured_instance(gl: FakeGitLab, alice: FakeUser) -> None:
    config = GitLabConfig(instances={"test": gl.url, "other": "https://x.test"}, webhook_secret="s")
    async with GitLabClient.for_instance(config, "test", alice.token) as c:
        assert (c.instance, c.api_url) == ("test", f"{gl.url}/api/v4")
        assert (await c.get_user()).username == "alice"
    with pytest.raises(GitLabError) as err:
        GitLabClient.for_instance(config, "nope", alice.token)
    assert (
        err.value.message == 'The bridge knows no GitLab instance "nope" (it knows: other, test).'
    )


# --- the user ---------------------------------------------------------------------------------


async def test_get_user(client: GitLabClient, gl: FakeGitLab, alice: FakeUser) -> None:
    me = await client.get_user()
    assert (me.id, me.username, me.name, me.state) == (alice.id, "alice", "Alice", "active")
    assert me.web_url == f"{gl.url}/alice"
    [request] = gl.requests
    assert (request.method, request.path) == ("GET", "/user")
    # Bearer, as hookshot sends it: good for personal, project and OAuth tokens alike.
    assert request.headers["authorization"] == f"Bearer {alice.token}"
    assert request.headers["user-agent"] == "hookshot-python"


async def test_fake_also_takes_private_token(gl: FakeGitLab, alice: FakeUser) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{gl.api_url}/user", headers={"PRIVATE-TOKEN": alice.token})
    assert answer.json()["username"] == "alice"
    assert gl.requests[-1].token == alice.token


# --- projects and access levels ---------------------------------------------------------------


async def test_get_project(client: GitLabClient, gl: FakeGitLab) -> None:
    project = await client.get_project(PROJECT)
    assert project.id == gl.projects[PROJECT].id
    assert project.path_with_namespace == PROJECT
    assert (project.name, project.path, project.description) == ("widgets", "widgets", "W")
    assert project.web_url == f"{gl.url}/{PROJECT}"
    assert (project.visibility, project.default_branch, project.archived) == (
        "private",
        "main",
        False,
    )
    assert project.access_level == AccessLevel.MAINTAINER
    assert project.may_bridge
    assert project.may_add_hook
    # The path travels URL-encoded, as one segment.
    assert gl.requests[-1].path == f"/projects/{ENCODED}"


async def test_get_project_by_id_and_any_case(client: GitLabClient, gl: FakeGitLab) -> None:
    pid = gl.projects[PROJECT].id
    assert (await client.get_project(pid)).path_with_namespace == PROJECT
    assert gl.requests[-1].path == f"/projects/{pid}"
    assert (await client.get_project("ACME/Widgets/")).id == pid
    assert gl.requests[-1].path == "/projects/ACME%2FWidgets"


@pytest.mark.parametrize(
    ("project_role", "group_role", "level", "may_bridge", "may_add_hook"),
    [
        (None, None, 0, False, False),
        (GUEST, None, 10, False, False),
        (REPORTER, None, 20, False, False),
        (DEVELOPER, None, 30, True, False),
        (MAINTAINER, None, 40, True, True),
        (None, DEVELOPER, 30, True, False),
        (None, OWNER, 50, True, True),
        # The higher of the two counts, whichever it is.
        (DEVELOPER, MAINTAINER, 40, True, True),
        (MAINTAINER, REPORTER, 40, True, True),
    ],
)
async def test_access_level_rule(
    gl: FakeGitLab,
    project_role: int | None,
    group_role: int | None,
    level: int,
    may_bridge: bool,
    may_add_hook: bool,
) -> None:
    carol = gl.add_user("carol")
    gl.add_group("acme", members={"carol": group_role} if group_role else {})
    members = {"carol": project_role} if project_role else {}
    gl.add_project("acme/team/gadgets", members=members, visibility="public")
    async with as_user(gl, carol) as c:
        project = await c.get_project("acme/team/gadgets")
        # The member list agrees with the project's permissions block.
        assert await c.get_access_level("acme/team/gadgets") == level
    assert project.access_level == level
    assert (project.may_bridge, project.may_add_hook) == (may_bridge, may_add_hook)
    assert gl.requests[0].path == "/projects/acme%2Fteam%2Fgadgets"


def test_access_level_of_permissions_blocks() -> None:
    assert access_level_of(None) == 0
    assert access_level_of({"project_access": None, "group_access": None}) == 0
    assert access_level_of({"project_access": {"access_level": 30}, "group_access": None}) == 30
    assert (
        access_level_of(
            {"project_access": {"access_level": 20}, "group_access": {"access_level": 50}}
        )
        == 50
    )


async def test_personal_project_owner(gl: FakeGitLab, alice: FakeUser) -> None:
    gl.add_project("alice/dotfiles")
    async with as_user(gl, alice) as c:
        assert (await c.get_project("alice/dotfiles")).access_level == AccessLevel.OWNER


async def test_get_access_level_calls(
    client: GitLabClient, gl: FakeGitLab, alice: FakeUser
) -> None:
    assert await client.get_access_level(PROJECT) == MAINTAINER
    assert [r.path for r in gl.requests] == ["/user", f"/projects/{ENCODED}/members/all/{alice.id}"]
    gl.requests.clear()
    bob = gl.users["bob"]
    assert await client.get_access_level(PROJECT, user_id=bob.id) == DEVELOPER
    assert len(gl.requests) == 1
    # Hookshot reads "no such member" (and no such project) as no access at all.
    assert await client.get_access_level("acme/nothing", user_id=bob.id) == 0


async def test_private_project_of_others_is_not_found(gl: FakeGitLab, alice: FakeUser) -> None:
    gl.add_project("acme/secret")
    carol = gl.add_user("carol")
    async with as_user(gl, carol) as c:
        with pytest.raises(GitLabNotFound) as err:
            await c.get_project("acme/secret")
    assert err.value.status == 404
    assert err.value.message == "No such project acme/secret on test, or no access to it."


async def test_public_project_of_others(gl: FakeGitLab, alice: FakeUser) -> None:
    gl.add_project("acme/open", visibility="public")
    carol = gl.add_user("carol")
    async with as_user(gl, carol) as c:
        project = await c.get_project("acme/open")
    assert project.access_level == 0
    assert not project.may_bridge


@pytest.mark.parametrize("bad", ["widgets", "", "/", "a//b", "a/b c", 0, -3])
async def test_bad_project_refs_are_refused_before_calling(
    client: GitLabClient, gl: FakeGitLab, bad: str | int
) -> None:
    with pytest.raises(GitLabError, match="is not a GitLab project") as err:
        await client.get_project(bad)
    assert isinstance(err.value, CommandError)
    assert gl.requests == []


def test_project_ref() -> None:
    assert project_ref("group/sub/project") == "group%2Fsub%2Fproject"
    assert project_ref(" /a.b/c-d_e/ ") == "a.b%2Fc-d_e"
    assert project_ref(42) == "42"
    assert project_ref("42") == "42"


# --- listing projects (the widget) ------------------------------------------------------------


async def test_list_projects_as_hookshot_asks(client: GitLabClient, gl: FakeGitLab) -> None:
    gl.add_project("acme/readonly", members={"alice": REPORTER})
    gl.add_project("acme/old", members={"alice": MAINTAINER}, archived=True)
    gl.add_project("alice/mine")
    gl.add_project("other/public", visibility="public")
    projects = await client.list_projects(AccessLevel.DEVELOPER)
    assert [p.path_with_namespace for p in projects] == [PROJECT, "alice/mine"]
    assert projects[0].access_level is None  # simple listings carry no permissions
    assert projects[0].web_url == f"{gl.url}/{PROJECT}"
    [request] = gl.requests
    assert request.path == "/projects"
    assert request.query == {
        "archived": "false",
        "min_access_level": "30",
        "simple": "true",
        "pagination": "keyset",
        "per_page": "10",
        "order_by": "id",
        "sort": "asc",
    }


async def test_list_projects_pages_search_and_group(client: GitLabClient, gl: FakeGitLab) -> None:
    gl.add_group("acme", members={"alice": DEVELOPER})
    for n in range(12):
        gl.add_project(f"acme/p{n:02}")
    gl.add_group("acme/sub")
    gl.add_project("acme/sub/deep")
    first = await client.list_projects()
    assert len(first) == 10
    rest = await client.list_projects(id_after=first[-1].id)
    assert [p.path_with_namespace for p in rest] == [
        "acme/p09",
        "acme/p10",
        "acme/p11",
        "acme/sub/deep",
    ]
    assert gl.requests[-1].query["id_after"] == str(first[-1].id)

    found = await client.list_projects(search="p1", per_page=50)
    assert [p.path for p in found] == ["p10", "p11"]
    assert gl.requests[-1].query["search"] == "p1"

    in_group = await client.list_projects(group="acme/sub")
    assert [p.path_with_namespace for p in in_group] == ["acme/sub/deep"]
    assert gl.requests[-1].path == "/groups/acme%2Fsub/projects"
    with pytest.raises(GitLabNotFound, match="No such group nope on test"):
        await client.list_projects(group="nope")


# --- hooks ------------------------------------------------------------------------------------


def test_hookshot_hook_events() -> None:
    assert dict(HOOKSHOT_HOOK_EVENTS) == {
        "issues_events": True,
        "merge_requests_events": True,
        "push_events": True,
        "releases_events": True,
        "tag_push_events": True,
        "wiki_page_events": True,
    }
    assert set(BRIDGE_HOOK_EVENTS) - set(HOOKSHOT_HOOK_EVENTS) == {
        "note_events",
        "pipeline_events",
        "job_events",
    }


async def test_add_project_hook(client: GitLabClient, gl: FakeGitLab) -> None:
    hook = await client.add_project_hook(PROJECT, HOOK_URL, "s3cret", HOOKSHOT_HOOK_EVENTS)
    [request] = gl.requests
    assert (request.method, request.path) == ("POST", f"/projects/{ENCODED}/hooks")
    assert request.json() == {
        "url": HOOK_URL,
        "token": "s3cret",
        "enable_ssl_verification": True,
        **HOOKSHOT_HOOK_EVENTS,
    }
    [stored] = gl.projects[PROJECT].hooks
    assert (stored.url, stored.token) == (HOOK_URL, "s3cret")
    assert {k for k, on in stored.events.items() if on} == set(HOOKSHOT_HOOK_EVENTS)
    assert (hook.id, hook.url, hook.project_id) == (stored.id, HOOK_URL, gl.projects[PROJECT].id)
    assert hook.events["issues_events"] is True
    assert hook.events["note_events"] is False
    assert hook.enable_ssl_verification
    assert isinstance(hook.created_at, datetime)


async def test_add_project_hook_refuses_unknown_events(
    client: GitLabClient, gl: FakeGitLab
) -> None:
    with pytest.raises(ValueError, match="issue_events"):
        await client.add_project_hook(PROJECT, HOOK_URL, "s", {"issue_events": True})
    assert gl.requests == []


async def test_hooks_need_maintainer(gl: FakeGitLab, alice: FakeUser) -> None:
    async with as_user(gl, gl.users["bob"]) as c:
        with pytest.raises(GitLabForbidden) as listing:
            await c.list_project_hooks(PROJECT)
        with pytest.raises(GitLabForbidden) as adding:
            await c.add_project_hook(PROJECT, HOOK_URL, "s", HOOKSHOT_HOOK_EVENTS)
    assert (
        listing.value.message == "You need the Maintainer role on acme/widgets to see its webhooks."
    )
    assert adding.value.message == "You need the Maintainer role on acme/widgets to add a webhook."
    assert adding.value.status == 403
    assert gl.projects[PROJECT].hooks == []


async def test_bad_hook_url_is_explained(client: GitLabClient) -> None:
    with pytest.raises(GitLabError) as err:
        await client.add_project_hook(PROJECT, "ftp://x", "s", HOOKSHOT_HOOK_EVENTS)
    assert err.value.status == 422
    assert err.value.message == (
        "GitLab could not do that: url is blocked: Only allowed schemes are http, https."
    )


async def test_list_project_hooks_reads_every_page(client: GitLabClient, gl: FakeGitLab) -> None:
    for n in range(130):
        gl.add_hook(PROJECT, f"https://other.test/{n}", issues_events=True)
    hooks = await client.list_project_hooks(PROJECT)
    assert len(hooks) == 130
    assert hooks[-1].url == "https://other.test/129"
    pages = gl.requests_to("GET", f"/projects/{ENCODED}/hooks")
    assert [r.query.get("page") for r in pages] == [None, "2"]
    assert all(r.query["per_page"] == "100" for r in pages)


async def test_ensure_project_hook(client: GitLabClient, gl: FakeGitLab) -> None:
    gl.add_hook(PROJECT, "https://other.test/")
    hook, created = await client.ensure_project_hook(PROJECT, HOOK_URL, "s", HOOKSHOT_HOOK_EVENTS)
    assert created
    again, created_again = await client.ensure_project_hook(
        PROJECT, HOOK_URL, "s", HOOKSHOT_HOOK_EVENTS
    )
    assert (again.id, created_again) == (hook.id, False)
    assert len(gl.projects[PROJECT].hooks) == 2
    assert [r.method for r in gl.requests] == ["GET", "POST", "GET"]


# --- issues -----------------------------------------------------------------------------------


async def test_create_issue(client: GitLabClient, gl: FakeGitLab) -> None:
    issue = await client.create_issue(PROJECT, "New thing", "Details", ["bug", " ui ", ""])
    assert (issue.iid, issue.title, issue.state, issue.author) == (
        2,
        "New thing",
        "opened",
        "alice",
    )
    assert issue.description == "Details"
    assert issue.labels == ("bug", "ui")
    assert not issue.confidential
    assert issue.web_url == f"{gl.url}/{PROJECT}/-/issues/2"
    assert issue.reference == f"{PROJECT}#2"
    assert issue.project_id == gl.projects[PROJECT].id
    [request] = gl.requests
    assert (request.method, request.path) == ("POST", f"/projects/{ENCODED}/issues")
    assert request.json() == {"title": "New thing", "description": "Details", "labels": "bug,ui"}


async def test_create_confidential_issue(client: GitLabClient, gl: FakeGitLab) -> None:
    issue = await client.create_issue(PROJECT, "Leak", confidential=True)
    assert issue.confidential
    assert gl.requests[-1].json() == {"title": "Leak", "confidential": True}
    assert gl.projects[PROJECT].issues[issue.iid].confidential


async def test_create_issue_validation(client: GitLabClient) -> None:
    with pytest.raises(GitLabError) as err:
        await client.create_issue(PROJECT, "  ")
    assert err.value.status == 400
    assert err.value.message == "GitLab could not do that: title can't be blank."


async def test_create_issue_on_public_project_as_outsider(gl: FakeGitLab, alice: FakeUser) -> None:
    gl.add_project("acme/open", visibility="public")
    carol = gl.add_user("carol")
    async with as_user(gl, carol) as c:
        issue = await c.create_issue("acme/open", "Hello")
        assert issue.author == "carol"
        with pytest.raises(GitLabNotFound, match="No such project acme/widgets on test"):
            await c.create_issue(PROJECT, "Hello")


async def test_get_issue(client: GitLabClient, gl: FakeGitLab) -> None:
    issue = await client.get_issue(PROJECT, 1)
    assert (issue.title, issue.description, issue.author, issue.state) == (
        "Broken widget",
        "It broke",
        "bob",
        "opened",
    )
    assert gl.requests[-1].path == f"/projects/{ENCODED}/issues/1"
    with pytest.raises(GitLabNotFound) as missing:
        await client.get_issue(PROJECT, 99)
    assert missing.value.message == "No such issue #99 in acme/widgets on test, or no access to it."
    with pytest.raises(GitLabNotFound) as no_project:
        await client.get_issue("acme/nothing", 1)
    assert no_project.value.message == "No such project acme/nothing on test, or no access to it."
    with pytest.raises(GitLabError, match="is not an issue number"):
        await client.get_issue(PROJECT, 0)


async def test_confidential_issue_is_hidden_from_guests(gl: FakeGitLab, alice: FakeUser) -> None:
    gl.add_user("gus")
    gl.projects[PROJECT].members["gus"] = GUEST
    secret = gl.add_issue(PROJECT, "Secret", author="bob", confidential=True)
    async with as_user(gl, gl.users["gus"]) as c:
        with pytest.raises(GitLabNotFound):
            await c.get_issue(PROJECT, secret.iid)
    async with as_user(gl, alice) as c:
        assert (await c.get_issue(PROJECT, secret.iid)).confidential


async def test_close_issue(client: GitLabClient, gl: FakeGitLab) -> None:
    issue = await client.close_issue(PROJECT, 1)
    assert issue.state == "closed"
    [request] = gl.requests
    assert (request.method, request.path) == ("PUT", f"/projects/{ENCODED}/issues/1")
    assert request.json() == {"state_event": "close"}
    assert gl.projects[PROJECT].issues[1].state == "closed"
    # Closing again is fine, as on GitLab.
    assert (await client.close_issue(PROJECT, 1)).state == "closed"


async def test_close_issue_needs_a_role_or_authorship(gl: FakeGitLab, alice: FakeUser) -> None:
    gus = gl.add_user("gus")
    gl.projects[PROJECT].members["gus"] = GUEST
    own = gl.add_issue(PROJECT, "Mine", author="gus")
    async with as_user(gl, gus) as c:
        with pytest.raises(GitLabForbidden) as err:
            await c.close_issue(PROJECT, 1)
        assert (await c.close_issue(PROJECT, own.iid)).state == "closed"
    assert err.value.message == "GitLab does not let you close issue #1 in acme/widgets."
    assert gl.projects[PROJECT].issues[1].state == "opened"


async def test_add_issue_note(client: GitLabClient, gl: FakeGitLab) -> None:
    long_body = "A reply from Matrix. " * 500  # well past what a query string should carry
    note = await client.add_issue_note(PROJECT, 1, long_body)
    assert (note.body, note.author) == (long_body, "alice")
    assert isinstance(note.created_at, datetime)
    [request] = gl.requests
    assert (request.method, request.path) == ("POST", f"/projects/{ENCODED}/issues/1/notes")
    assert request.json() == {"body": long_body}
    assert request.query == {}
    [stored] = gl.projects[PROJECT].notes
    assert (stored.id, stored.iid) == (note.id, 1)
    with pytest.raises(GitLabError, match=r"^GitLab could not do that: note can't be blank\.$"):
        await client.add_issue_note(PROJECT, 1, " ")
    with pytest.raises(GitLabNotFound, match="No such issue #7 in acme/widgets"):
        await client.add_issue_note(PROJECT, 7, "hi")


# --- errors -----------------------------------------------------------------------------------


async def test_bad_token(gl: FakeGitLab, alice: FakeUser) -> None:
    async with GitLabClient(gl.url, "glpat-wrong", name=INSTANCE) as c:
        with pytest.raises(GitLabUnauthorized) as err:
            await c.get_user()
    assert err.value.status == 401
    assert err.value.message == (
        "Your GitLab token for test is not valid; set a new one with `gitlab personaltoken`."
    )


async def test_revoked_token(gl: FakeGitLab, alice: FakeUser) -> None:
    gl.revoke(alice.token)
    async with GitLabClient(gl.url, alice.token) as c:
        with pytest.raises(GitLabUnauthorized, match=rf"^Your GitLab token for {gl.url} is not"):
            await c.get_project(PROJECT)


@pytest.mark.parametrize("token", ["", "two words", "line\nbreak"])
async def test_unusable_tokens_never_leave(gl: FakeGitLab, token: str) -> None:
    async with GitLabClient(gl.url, token, name=INSTANCE) as c:
        with pytest.raises(GitLabUnauthorized):
            await c.get_user()
    assert gl.requests == []


async def test_read_only_token_is_explained(gl: FakeGitLab, alice: FakeUser) -> None:
    reader = gl.add_user("reader", scopes=("read_api",))
    gl.projects[PROJECT].members["reader"] = MAINTAINER
    async with as_user(gl, reader) as c:
        assert (await c.get_issue(PROJECT, 1)).iid == 1
        with pytest.raises(GitLabForbidden) as err:
            await c.create_issue(PROJECT, "Nope")
    assert err.value.message == (
        "Your GitLab token for test lacks the `api` scope this needs; "
        "create one with that scope and set it again."
    )


async def test_server_errors(client: GitLabClient, gl: FakeGitLab) -> None:
    gl.fail("GET", f"/projects/{PROJECT}", 502)
    with pytest.raises(GitLabUnavailable) as err:
        await client.get_project(PROJECT)
    assert (err.value.status, err.value.message) == (
        502,
        "GitLab at test is having trouble (502); try again later.",
    )
    assert (await client.get_project(PROJECT)).path_with_namespace == PROJECT  # just once


async def test_rate_limited(client: GitLabClient, gl: FakeGitLab) -> None:
    gl.fail("GET", "/user", 429, {"message": "Retry later"}, headers={"Retry-After": "60"})
    with pytest.raises(GitLabRateLimited) as err:
        await client.get_user()
    assert err.value.retry_at is not None
    assert err.value.retry_at > datetime.now(UTC) + timedelta(seconds=50)
    assert err.value.message.startswith("GitLab's rate limit was reached; try again after ")
    reset = int(datetime.now(UTC).timestamp()) + 300
    gl.fail("GET", "/user", 429, headers={"RateLimit-Reset": str(reset)})
    with pytest.raises(GitLabRateLimited) as by_reset:
        await client.get_user()
    assert by_reset.value.retry_at == datetime.fromtimestamp(reset, UTC)


async def test_other_refusals(client: GitLabClient, gl: FakeGitLab) -> None:
    gl.fail("GET", "/user", 403, {"message": "403 Forbidden - Your account has been blocked."})
    with pytest.raises(GitLabForbidden, match=r"^GitLab refused: 403 Forbidden - Your account"):
        await client.get_user()
    gl.fail("GET", "/user", 403, {"message": "403 Forbidden"})
    with pytest.raises(GitLabForbidden, match=r"^GitLab does not allow you to do that\.$"):
        await client.get_user()
    gl.fail("GET", "/user", 409, {"message": ["Already", "taken"]})
    with pytest.raises(GitLabError, match=r"^GitLab could not do that: Already; taken\.$"):
        await client.get_user()
    gl.fail("GET", "/user", 418, {"error": "teapot"})
    with pytest.raises(GitLabError, match=r"^GitLab answered 418: teapot\.$"):
        await client.get_user()


async def test_unreachable_gitlab() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    async with GitLabClient(url, "glpat-x", timeout=2) as c:
        with pytest.raises(GitLabUnavailable) as err:
            await c.get_user()
    assert err.value.status is None
    assert err.value.message == f"Could not reach GitLab at {url}."


def _transport(
    answer: httpx.Response | Exception, seen: list[httpx.Request]
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler)


async def test_timeout() -> None:
    seen: list[httpx.Request] = []
    transport = _transport(httpx.ReadTimeout("slow"), seen)
    async with GitLabClient("https://gl.test", "t", name="corp", transport=transport) as c:
        with pytest.raises(GitLabUnavailable, match=r"^GitLab at corp did not answer in time"):
            await c.get_user()


async def test_instance_under_a_path() -> None:
    seen: list[httpx.Request] = []
    transport = _transport(httpx.Response(200, json={"id": 1, "username": "u"}), seen)
    async with GitLabClient("https://corp.test/gitlab/", "t", transport=transport) as c:
        assert (await c.get_user()).username == "u"
        # Not a project's shape: refused as an error, not a crash.
        with pytest.raises(GitLabError, match="missing fields"):
            await c.get_project("a/b")
    assert str(seen[0].url) == "https://corp.test/gitlab/api/v4/user"
    assert seen[1].url.raw_path == b"/gitlab/api/v4/projects/a%2Fb"


async def test_wrong_instance_url_is_explained() -> None:
    seen: list[httpx.Request] = []
    page = httpx.Response(200, text="<html>Sign in</html>", headers={"content-type": "text/html"})
    async with GitLabClient("https://www.test", "t", transport=_transport(page, seen)) as c:
        with pytest.raises(GitLabError, match=r"^https://www\.test did not answer like GitLab's"):
            await c.get_user()
    moved = httpx.Response(301, headers={"location": "https://gitlab.test/api/v4/user"})
    async with GitLabClient("http://gitlab.test", "t", transport=_transport(moved, seen)) as c:
        with pytest.raises(GitLabError) as err:
            await c.get_user()
    assert err.value.status == 301
    assert err.value.message == (
        "GitLab at http://gitlab.test redirected to https://gitlab.test/api/v4/user; "
        "check the instance URL in gitlab.instances."
    )


async def test_fake_routes_on_the_raw_path(gl: FakeGitLab, alice: FakeUser) -> None:
    headers = {"Authorization": f"Bearer {alice.token}"}
    async with httpx.AsyncClient() as http:
        unencoded = await http.get(f"{gl.api_url}/projects/acme/widgets", headers=headers)
        unknown = await http.get(f"{gl.api_url}/projects/{ENCODED}/wikis", headers=headers)
        anonymous = await http.get(f"{gl.api_url}/user")
    assert (unencoded.status_code, unencoded.json()) == (404, {"error": "404 Not Found"})
    assert unknown.status_code == 404
    assert anonymous.status_code == 401
    assert [r.path for r in gl.requests] == [
        "/projects/acme/widgets",
        f"/projects/{ENCODED}/wikis",
        "/user",
    ]
