"""GitLab commands end to end against a local fake GitLab: a token per instance in the admin
room, `!hookshot gitlab project` (with the project hook), and `!gl` issue commands."""

from __future__ import annotations

import uuid

from conftest import UserFactory
from support.fake_gitlab import FakeGitLab
from support.flows import command, notice_from, room_with_bot

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
GITLAB = "uk.half-shot.matrix-hookshot.gitlab.repository"


async def _with_token(user: MatrixUser, gl: FakeGitLab, username: str) -> str:
    token = gl.add_user(username).token
    dm = await user.create_room(
        invite=[BOT], is_direct=True, power_level_content_override={"users": {BOT: 50}}
    )
    await user.wait_for_event(dm, notice_from(BOT, "Hello!"))
    await command(user, dm, "gitlab hastoken fake")
    await user.wait_for_event(dm, notice_from(BOT, "No token is stored for fake."))
    await command(user, dm, f"gitlab personaltoken fake {token}")
    await user.wait_for_event(dm, notice_from(BOT, f"Connected as {username}. Token stored."))
    await command(user, dm, "gitlab hastoken fake")
    await user.wait_for_event(dm, notice_from(BOT, "A token is stored for fake."))
    return dm


async def test_project_setup_and_issue_commands(
    bridge: BridgeProcess, fake_gitlab: FakeGitLab, new_user: UserFactory
) -> None:
    user = await new_user()
    username = f"gl{uuid.uuid4().hex[:6]}"
    path = f"{username}-group/service"
    fake_gitlab.add_project(path, members={username: 40})
    await _with_token(user, fake_gitlab, username)
    room_id = await room_with_bot(user, BOT)

    await command(user, room_id, f"!hookshot gitlab project {fake_gitlab.url}/{path}")
    await user.wait_for_event(room_id, notice_from(BOT, f"Room configured to bridge {path}"))
    assert await user.get_state(room_id, GITLAB, f"fake/{path}".lower()) == {
        "instance": "fake",
        "path": path,
    }
    project = fake_gitlab.projects[path.lower()]
    assert [h.url for h in project.hooks] == [f"{bridge.files.webhook_base}/gitlab/webhook"]

    await command(user, room_id, '!gl create "Flaky test" "Fails on Tuesdays" ci,bug')
    await user.wait_for_event(room_id, notice_from(BOT, "Created issue [#1]"))
    await command(user, room_id, '!gl create-confidential "Leaked key"')
    await user.wait_for_event(room_id, notice_from(BOT, "Created confidential issue [#2]"))
    assert project.issues[1].labels == ["ci", "bug"] and project.issues[2].confidential
    await command(user, room_id, '!gl close 1 "Fixed by retrying"')
    assert project.issues[1].state == "closed"
    assert [n.body for n in project.notes] == ["Fixed by retrying"]


async def test_developer_gets_a_hook_warning_and_reporter_is_refused(
    bridge: BridgeProcess, fake_gitlab: FakeGitLab, new_user: UserFactory
) -> None:
    user = await new_user()
    username = f"dev{uuid.uuid4().hex[:6]}"
    # Not the personal namespace: its owner is an Owner on every project in it.
    dev_path, ro_path = f"{username}-grp/dev-project", f"{username}-grp/read-only"
    fake_gitlab.add_project(dev_path, members={username: 30})
    fake_gitlab.add_project(ro_path, members={username: 20})
    room_id = await room_with_bot(user, BOT)
    await command(user, room_id, f"!hookshot gitlab project {fake_gitlab.url}/{dev_path}", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: You are not logged into this GitLab")
    )
    await _with_token(user, fake_gitlab, username)
    await command(user, room_id, f"!hookshot gitlab project {fake_gitlab.url}/{dev_path}")
    configured = await user.wait_for_event(room_id, notice_from(BOT, "Room configured to bridge"))
    assert "Cannot create webhook: you are not a Maintainer" in configured["content"]["body"]
    assert fake_gitlab.projects[dev_path.lower()].hooks == []
    await command(user, room_id, f"!hookshot gitlab project {fake_gitlab.url}/{ro_path}", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: You must at least have Developer")
    )
    await command(user, room_id, "!hookshot gitlab project https://elsewhere.test/a/b", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: No instance found")
    )


async def test_project_setup_with_threads(
    bridge: BridgeProcess, fake_gitlab: FakeGitLab, new_user: UserFactory
) -> None:
    user = await new_user()
    username = f"thr{uuid.uuid4().hex[:6]}"
    path = f"{username}-group/quiet"
    key = f"fake/{path}".lower()
    fake_gitlab.add_project(path, members={username: 40})
    await _with_token(user, fake_gitlab, username)
    room_id = await room_with_bot(user, BOT)
    url = f"{fake_gitlab.url}/{path}"

    # Bad words after the URL are refused before GitLab is asked anything.
    await command(user, room_id, f"!hookshot gitlab project {url} threads maybe", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: Say `threads on` or `threads off`.")
    )
    await command(user, room_id, f"!hookshot gitlab project {url} threads", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: Say `threads on` or `threads off`.")
    )
    await command(user, room_id, f"!hookshot gitlab project {url} threads on now", ok=False)
    await user.wait_for_event(room_id, notice_from(BOT, "Failed to handle command: Too many"))
    assert await user.get_state(room_id, GITLAB, key) is None
    assert fake_gitlab.projects[path.lower()].hooks == []

    await command(user, room_id, f"!hookshot gitlab project {url} threads on")
    await user.wait_for_event(
        room_id, notice_from(BOT, f"Room configured to bridge {path} with threads on")
    )
    state = {"instance": "fake", "path": path, "threads": True}
    assert await user.get_state(room_id, GITLAB, key) == state

    # On a connection the room already has, only the switch changes.
    await user.send_state(room_id, GITLAB, key, {**state, "commandPrefix": "!quiet"})
    await user.send_text(room_id, "!quiet help")  # answered once the state is applied
    await user.wait_for_event(room_id, notice_from(BOT, f"Commands for {path}:"))
    await command(user, room_id, f"!hookshot gitlab project {url} threads off")
    await user.wait_for_event(
        room_id, notice_from(BOT, f"Room configured to bridge {path} with threads off")
    )
    after = await user.get_state(room_id, GITLAB, key)
    assert after is not None
    assert (after["threads"], after["commandPrefix"]) == (False, "!quiet"), after
