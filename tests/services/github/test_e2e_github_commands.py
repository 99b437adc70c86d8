"""GitHub commands end to end: a user stores a token in their admin room, connects a room to
a repository and drives issues and workflows, all against a local fake GitHub API."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from conftest import UserFactory
from support.fake_github import FakeGitHub
from support.flows import command, notice_from, room_with_bot

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
GITHUB = "uk.half-shot.matrix-hookshot.github.repository"


async def _logged_in(user: MatrixUser, gh: FakeGitHub, login: str) -> str:
    """Store the user's token through their admin room (a DM they open); returns the DM."""
    token = gh.add_user(login).token
    # Moderator in the DM lets the bot delete the message that carries the token.
    dm = await user.create_room(
        invite=[BOT], is_direct=True, power_level_content_override={"users": {BOT: 50}}
    )
    await user.wait_for_event(dm, notice_from(BOT, "Hello!"))
    event_id = await command(user, dm, f"github setpersonaltoken {token}")
    await user.wait_for_event(dm, notice_from(BOT, f"Connected as {login}. Token stored."))
    # The message with the token is redacted: only its shell stays in the history.
    original = next(e for e in await user.messages(dm) if e["event_id"] == event_id)
    assert "body" not in original.get("content", {})
    await command(user, dm, "github status")
    await user.wait_for_event(dm, notice_from(BOT, f"You are logged in as {login}."))
    return dm


async def test_repo_setup_and_issue_commands(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    user = await new_user()
    login = f"dev{uuid.uuid4().hex[:6]}"
    repo = f"{login}/widgets"
    fake_github.add_repo(repo, collaborators={login: "admin"})
    fake_github.add_workflow(repo, "CI", ".github/workflows/ci.yml", inputs={"level": False})
    await _logged_in(user, fake_github, login)
    room_id = await room_with_bot(user, BOT)

    await command(user, room_id, f"!hookshot github repo {fake_github.url}/{repo}")
    await user.wait_for_event(room_id, notice_from(BOT, f"Room configured to bridge {repo}"))
    assert await user.get_state(room_id, GITHUB, repo.lower()) == {"org": login, "repo": "widgets"}

    await user.send_state(
        room_id,
        GITHUB,
        repo.lower(),
        {"org": login, "repo": "widgets", "newIssue": {"labels": ["triage"]}},
    )
    await command(user, room_id, '!gh create "Broken widget" "It is broken" bug')
    created = await user.wait_for_event(room_id, notice_from(BOT, "Created issue [#1]"))
    assert "Broken widget" in created["content"]["body"]
    issue = fake_github.repos[repo.lower()].issues[1]
    assert (issue.title, issue.body, sorted(issue.labels)) == (
        "Broken widget",
        "It is broken",
        ["bug", "triage"],
    )

    # A hotlink: `#1` in chat gets a reply naming the issue; code spans are left alone.
    mention = await user.send_text(room_id, "see #1, not `#1`")
    hot = await user.wait_for_event(room_id, notice_from(BOT, "Issue [#1]"))
    assert hot["content"]["body"].endswith(": Broken widget (open)")
    assert hot["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == mention

    await command(user, room_id, f"!gh assign 1 {login}")
    await user.wait_for_event(room_id, notice_from(BOT, "Assigned [#1]"))
    assert issue.assignees == [login]
    await command(user, room_id, '!gh close 1 "Fixed in main"')
    assert issue.state == "closed"
    assert [c.body for c in fake_github.repos[repo.lower()].comments.values()] == ["Fixed in main"]

    await command(user, room_id, "!gh workflow run CI level=high")
    await user.wait_for_event(room_id, notice_from(BOT, "Workflow CI triggered."))
    dispatch = fake_github.requests[-1]
    assert dispatch.path.endswith("/dispatches")
    assert dispatch.json() == {"ref": "main", "inputs": {"level": "high"}}


async def test_commands_need_a_token_and_write_access(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    user = await new_user()
    login = f"ro{uuid.uuid4().hex[:6]}"
    repo = f"acme{uuid.uuid4().hex[:4]}/thing"
    fake_github.add_repo(repo, collaborators={login: "read"})
    room_id = await room_with_bot(user, BOT)
    await command(user, room_id, f"!hookshot github repo {fake_github.url}/{repo}", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: You are not logged into GitHub.")
    )
    dm = await _logged_in(user, fake_github, login)
    await command(user, room_id, f"!hookshot github repo {fake_github.url}/{repo}", ok=False)
    await user.wait_for_event(
        room_id,
        notice_from(BOT, "Failed to handle command: You must at least have write permissions"),
    )
    await command(user, room_id, "!hookshot github repo https://example.org/nope", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: The GitHub url you entered")
    )
    await command(user, dm, "github setpersonaltoken not-a-token", ok=False)
    await user.wait_for_event(dm, notice_from(BOT, "Failed to handle command: Your GitHub token"))


async def test_github_login_with_oauth(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    user = await new_user()
    login = f"oauth{uuid.uuid4().hex[:6]}"
    fake_github.add_user(login)
    dm = await user.create_room(invite=[BOT], is_direct=True)
    await user.wait_for_event(dm, notice_from(BOT, "Hello!"))
    await command(user, dm, "github login")
    prompt = await user.wait_for_event(dm, notice_from(BOT, "Open "))
    url = prompt["content"]["body"].split()[1]
    async with httpx.AsyncClient(follow_redirects=True) as http:
        # The fake's consent page approves at once as `login` and sends us to the callback.
        page = await http.get(url + f"&login={login}")
        assert page.status_code == 200 and f"Logged in as {login}" in page.text
        replay = await http.get(str(page.url))  # the same state twice is refused
        assert replay.status_code == 410
    await user.wait_for_event(dm, notice_from(BOT, f"You are now logged into GitHub as {login}."))
    await command(user, dm, "github status")
    await user.wait_for_event(dm, notice_from(BOT, f"You are logged in as {login}."))


async def test_review_by_replying_to_a_pull_request_notice(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    from test_e2e_github import _deliver, _payload

    user = await new_user()
    login = f"rev{uuid.uuid4().hex[:6]}"
    repo = f"{login}org/app"
    fake_github.add_user("author")
    fake_github.add_repo(repo, collaborators={login: "write", "author": "write"})
    pr = fake_github.add_issue(repo, "Add feature", user="author", pull_request=True)
    dm = await _logged_in(user, fake_github, login)
    assert dm
    room_id = await room_with_bot(user, BOT)
    org, name = repo.split("/")
    await user.send_state(room_id, GITHUB, repo, {"org": org, "repo": name})
    # The bridge applies state in room order: once `!gh help` is answered, the connection is
    # in place (a delivery posted before that would find no connection).
    await user.send_text(room_id, "!gh help")
    await user.wait_for_event(room_id, notice_from(BOT, f"Commands for {repo}:"))
    payload = _payload("pull_request.opened.1.json", org, name)
    payload["pull_request"]["number"] = pr.number
    async with httpx.AsyncClient() as http:
        assert (await _deliver(http, bridge, "pull_request", payload)).status_code == 202
    notice = await user.wait_for_event(room_id, notice_from(BOT, "🔵"))
    reply = await user.send_event(
        room_id,
        "m.room.message",
        {
            "msgtype": "m.text",
            "body": "> <@hookshot:localhost> the notice\n\n✅ Looks good",
            "m.relates_to": {"m.in_reply_to": {"event_id": notice["event_id"]}},
        },
    )
    await user.wait_for_event(
        room_id,
        lambda e: (
            e.get("type") == "m.reaction"
            and e["content"]["m.relates_to"]
            == {"rel_type": "m.annotation", "event_id": reply, "key": "✅"}
        ),
    )
    review = fake_github.requests_to("POST", f"/repos/{repo}/pulls/{pr.number}/reviews")[-1]
    assert review.json() == {"body": "Looks good", "event": "APPROVE", "comments": []}


async def test_reactions_on_issue_notices_reach_github(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    from test_e2e_github import _deliver, _payload

    user = await new_user()
    login = f"fan{uuid.uuid4().hex[:6]}"
    repo = f"{login}org/lib"
    fake_github.add_repo(repo, collaborators={login: "write"})
    fake_github.add_user("reporter")
    issue = fake_github.add_issue(repo, "Crash on start", user="reporter")
    await _logged_in(user, fake_github, login)
    room_id = await room_with_bot(user, BOT)
    org, name = repo.split("/")
    await user.send_state(room_id, GITHUB, repo, {"org": org, "repo": name})
    # The bridge applies state in room order: once `!gh help` is answered, the connection is
    # in place (a delivery posted before that would find no connection).
    await user.send_text(room_id, "!gh help")
    await user.wait_for_event(room_id, notice_from(BOT, f"Commands for {repo}:"))
    payload = _payload("issues.opened.1.json", org, name)
    payload["issue"]["number"] = issue.number
    async with httpx.AsyncClient() as http:
        assert (await _deliver(http, bridge, "issues", payload)).status_code == 202
    notice = await user.wait_for_event(room_id, notice_from(BOT, "📥"))
    await user.send_event(
        room_id,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": notice["event_id"], "key": "🚀"}},
    )
    for _ in range(50):
        if issue.reactions:
            break
        await asyncio.sleep(0.1)
    assert issue.reactions == [(login, "rocket")]


async def test_pr_diff_is_attached_when_enabled(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    from conftest import GITHUB_APP_ID
    from test_e2e_github import _deliver, _payload

    user = await new_user()
    org, name = f"diff{uuid.uuid4().hex[:6]}", "tool"
    fake_github.add_user("author")
    fake_github.add_repo(f"{org}/{name}")
    fake_github.install_app(GITHUB_APP_ID, org)
    diff = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n"
    pr = fake_github.add_issue(f"{org}/{name}", "Swap", user="author", pull_request=True, diff=diff)
    room_id = await room_with_bot(user, BOT)
    await user.send_state(
        room_id,
        GITHUB,
        f"{org}/{name}",
        {"org": org, "repo": name, "prDiff": {"enabled": True, "maxLines": 20}},
    )
    await user.send_text(room_id, "!gh help")  # answered once the state is applied
    await user.wait_for_event(room_id, notice_from(BOT, f"Commands for {org}/{name}:"))
    payload = _payload("pull_request.opened.1.json", org, name)
    payload["pull_request"]["number"] = pr.number
    async with httpx.AsyncClient() as http:
        assert (await _deliver(http, bridge, "pull_request", payload)).status_code == 202
    event = await user.wait_for_event(room_id, notice_from(BOT, "🔵"))
    assert "+new" in event["content"]["body"]
    assert "language-diff" in event["content"]["formatted_body"]


async def test_repo_setup_with_threads(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    user = await new_user()
    login = f"thr{uuid.uuid4().hex[:6]}"
    repo = f"{login}/quiet"
    fake_github.add_repo(repo, collaborators={login: "write"})
    await _logged_in(user, fake_github, login)
    room_id = await room_with_bot(user, BOT)
    url = f"{fake_github.url}/{repo}"

    # Bad words after the URL are refused before anything is written.
    await command(user, room_id, f"!hookshot github repo {url} threads maybe", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: Say `threads on` or `threads off`.")
    )
    await command(user, room_id, f"!hookshot github repo {url} quietly on", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: Only `threads on` or `threads off`")
    )
    assert await user.get_state(room_id, GITHUB, repo.lower()) is None

    await command(user, room_id, f"!hookshot github repo {url} threads on")
    await user.wait_for_event(
        room_id, notice_from(BOT, f"Room configured to bridge {repo} with threads on")
    )
    state = {"org": login, "repo": "quiet", "threads": True}
    assert await user.get_state(room_id, GITHUB, repo.lower()) == state

    # On a connection the room already has, only the switch changes.
    await user.send_state(room_id, GITHUB, repo.lower(), {**state, "commandPrefix": "!quiet"})
    await user.send_text(room_id, "!quiet help")  # answered once the state is applied
    await user.wait_for_event(room_id, notice_from(BOT, f"Commands for {repo}:"))
    await command(user, room_id, f"!hookshot github repo {url} THREADS off")
    await user.wait_for_event(
        room_id, notice_from(BOT, f"Room configured to bridge {repo} with threads off")
    )
    after = await user.get_state(room_id, GITHUB, repo.lower())
    assert after is not None
    assert (after["threads"], after["commandPrefix"]) == (False, "!quiet"), after
