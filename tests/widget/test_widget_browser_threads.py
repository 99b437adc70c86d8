"""The quiet-room switches (threads, CI reactions) on the GitHub and GitLab tabs in headless
Chromium, against the running bridge and Synapse (the harness is test_widget_browser.py's):
a GitLab project's editor switches them by keyboard and the room's state says so, the rest of
it untouched, and unticked both keys are unset; a GitHub repository (typed) and a GitLab
project (picked from the user's own, through the fake GitLab API) connected from the connect
form with threads on carry them in their new state."""

from __future__ import annotations

import uuid
from typing import Any

from conftest import UserFactory
from support.fake_gitlab import FakeGitLab
from support.flows import command, notice_from, room_with_bot
from support.threads import until
from test_widget_browser import (
    BOT,
    GITHUB_REPO,
    GITLAB_REPO,
    PAGE_ERRORS,
    REACTIONS,
    Browser,
    HostServer,
    assert_labelled,
    browser,
    connection_card,
    expect,
    host,
    needs_browser,
    open_widget,
    shoot,
    switch_threads_on_by_keyboard,
    tab,
    until_switches_saved,
)

from hookshot.dev.stack import BridgeProcess

GITLAB_THREADS = "Thread each merge request and issue"
GITHUB_THREADS = "Thread each pull request and issue"
__all__ = ["browser", "host"]  # the harness's fixtures, used here by name


@needs_browser
async def test_gitlab_threads_toggle_in_the_widget(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """Threads ticked by keyboard, then CI reactions (which need threads), saved: the room's
    state and the card say so and nothing else changed; unticked, both keys are gone."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    path = f"group/p{uuid.uuid4().hex[:8]}"
    key = f"fake/{path}"
    hooks = ["merge_request", "pipeline", "issue"]
    content = {
        "instance": "fake",
        "path": path,
        "enableHooks": hooks,
        "commandPrefix": "!proj",
        "includeCommentBody": True,
        "someoneElses": {"kept": True},  # a key we do not model stays as it is
    }
    await user.send_state(room_id, GITLAB_REPO, key, content)

    async def state() -> dict[str, Any]:
        return await user.get_state(room_id, GITLAB_REPO, key) or {}

    page, widget = await open_widget(browser, bridge, host, user, room_id)
    await tab(widget, "GitLab").click()
    card = connection_card(widget, path)
    await expect(card).to_be_visible()
    await expect(card.locator(".badge")).to_have_text(["fake"])

    await card.get_by_role("button", name="Edit").click()
    threads = card.get_by_role("checkbox", name=GITLAB_THREADS)
    reactions = card.get_by_role("checkbox", name=REACTIONS)
    await switch_threads_on_by_keyboard(page, threads, reactions)
    await assert_labelled(page)
    await shoot(page, "gitlab-threads-desktop-light")
    await card.get_by_role("button", name="Save").click()
    await expect(card.locator(".badge")).to_have_text(["fake", "Threads", "CI reactions"])

    final = await until_switches_saved(state, on=True)
    # The rest untouched (the editor sends the events it shows: the same ones).
    assert set(final.pop("enableHooks")) == set(hooks)
    rest = {k: v for k, v in content.items() if k != "enableHooks"}
    assert final == {**rest, "threads": True, "ciReactions": True}

    await card.get_by_role("button", name="Edit").click()
    await expect(threads).to_be_checked()
    await expect(reactions).to_be_checked()
    await threads.focus()
    await page.keyboard.press("Space")
    await expect(threads).not_to_be_checked()
    await expect(reactions).not_to_be_checked()
    await expect(reactions).to_be_disabled()
    await card.get_by_role("button", name="Save").click()
    await expect(card.locator(".badge")).to_have_text(["fake"])

    final = await until_switches_saved(state, on=False)
    assert set(final.pop("enableHooks")) == set(hooks)
    assert final == rest  # unset, not false

    # Saved as it is: the card stays as it was, the editor closes, and Edit has the focus.
    await card.get_by_role("button", name="Edit").click()
    await card.get_by_role("button", name="Save").click()
    await expect(card.get_by_role("button", name="Save")).to_be_hidden()
    await expect(card.get_by_role("button", name="Edit")).to_be_focused()
    await expect(card.get_by_role("button", name="Edit")).to_have_attribute(
        "aria-expanded", "false"
    )
    await page.context.close()
    assert PAGE_ERRORS == []


@needs_browser
async def test_github_and_gitlab_connected_with_threads_on(
    bridge: BridgeProcess,
    host: HostServer,
    browser: Browser,
    fake_gitlab: FakeGitLab,
    new_user: UserFactory,
) -> None:
    """The connect forms' switches: a GitHub repository typed by hand with threads and CI
    reactions, a GitLab project picked from the user's own with threads only; each new state
    event carries exactly what was ticked."""
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    name = f"r{uuid.uuid4().hex[:8]}"
    username = f"gl{uuid.uuid4().hex[:6]}"
    project = f"{username}/service"
    fake_gitlab.add_project(project, members={username: 40})
    token = fake_gitlab.add_user(username).token
    dm = await user.create_room(
        invite=[BOT], is_direct=True, power_level_content_override={"users": {BOT: 50}}
    )
    await user.wait_for_event(dm, notice_from(BOT, "Hello!"))
    await command(user, dm, f"gitlab personaltoken fake {token}")
    await user.wait_for_event(dm, notice_from(BOT, f"Connected as {username}. Token stored."))

    page, widget = await open_widget(browser, bridge, host, user, room_id)
    await tab(widget, "GitHub").click()
    form = widget.locator("section[data-service=github] form.create")
    await form.get_by_label("Repository", exact=True).filter(visible=True).fill(f"acme/{name}")
    threads = form.get_by_role("checkbox", name=GITHUB_THREADS)
    reactions = form.get_by_role("checkbox", name=REACTIONS)
    await switch_threads_on_by_keyboard(page, threads, reactions)
    await assert_labelled(page)
    await shoot(page, "github-add-threads-desktop-light")
    await form.get_by_role("button", name="Add repository").click()
    card = connection_card(widget, f"acme/{name}")
    await expect(card).to_be_visible()
    await expect(card.locator(".badge")).to_have_text(["Threads", "CI reactions"])
    await expect(card.get_by_role("button", name="Edit")).to_be_focused()
    gh_state = await user.get_state(room_id, GITHUB_REPO, f"acme/{name}")
    assert gh_state is not None
    assert (gh_state["repo"], gh_state["threads"], gh_state["ciReactions"]) == (name, True, True)
    # The editor opens with what the form set.
    await card.get_by_role("button", name="Edit").click()
    await expect(card.get_by_role("checkbox", name=GITHUB_THREADS)).to_be_checked()
    await expect(card.get_by_role("checkbox", name=REACTIONS)).to_be_checked()

    await tab(widget, "GitLab").click()
    gl_form = widget.locator("section[data-service=gitlab] form.create")
    picker = gl_form.get_by_label("Project", exact=True)
    await expect(picker).to_have_js_property("tagName", "SELECT")
    await picker.select_option(label=f"{project} (fake)")
    gl_threads = gl_form.get_by_role("checkbox", name=GITLAB_THREADS)
    await gl_threads.focus()
    await page.keyboard.press("Space")
    await expect(gl_threads).to_be_checked()
    await shoot(page, "gitlab-add-threads-desktop-light")
    await gl_form.get_by_role("button", name="Add project").click()
    gl_card = connection_card(widget, project)
    await expect(gl_card).to_be_visible()
    await expect(gl_card.locator(".badge")).to_have_text(["fake", "Threads"])

    async def made() -> dict[str, Any] | None:
        return await user.get_state(room_id, GITLAB_REPO, f"fake/{project}".lower())

    gl_state = await until(made, "the new GitLab connection in the room's state")
    assert (gl_state["instance"], gl_state["path"], gl_state["threads"]) == (
        "fake",
        project,
        True,
    )
    assert "ciReactions" not in gl_state  # not ticked: not written
    await page.context.close()
    assert PAGE_ERRORS == []
