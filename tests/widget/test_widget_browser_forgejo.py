"""The widget's Forgejo / Gitea tab in headless Chromium, against the running bridge, Synapse
and the fake of Forgejo's REST API (the harness is test_widget_browser.py's): a repository's
editor switches threads by keyboard and CI reactions, the room's state says so; connecting
one from the tab with the user's token; a member sees the list without the controls."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from conftest import UserFactory
from support.fake_forgejo import FakeForgejo
from support.flows import command, notice_from, room_with_bot
from test_widget_browser import (
    BOT,
    PAGE_ERRORS,
    REACTIONS,
    Browser,
    HostServer,
    _widget_session,
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
    until,
    until_switches_saved,
)

from hookshot.dev.stack import BridgeProcess

FORGEJO = "org.hookshot-python.forgejo.repository"
TAB = "Forgejo / Gitea"
THREADS = "Thread each pull request and issue"
__all__ = ["browser", "host"]  # the harness's fixtures, used here by name


@needs_browser
async def test_forgejo_threads_toggle_in_the_widget(
    bridge: BridgeProcess, host: HostServer, browser: Browser, new_user: UserFactory
) -> None:
    """Threads ticked by keyboard, CI reactions (which need threads) ticked, saved: the room's
    state and the card say so and nothing else changed; unticked, both keys are gone."""
    user = await new_user()
    owner = f"o{uuid.uuid4().hex[:8]}"
    room_id = await room_with_bot(user, BOT)
    key = f"trygitea/{owner}/hello-world"
    hooks = ["push", "pull_request", "workflow.run"]
    await user.send_state(
        room_id,
        FORGEJO,
        key,
        {"instance": "trygitea", "owner": owner, "repo": "hello-world", "enableHooks": hooks},
    )

    async def state() -> dict[str, Any]:
        return await user.get_state(room_id, FORGEJO, key) or {}

    page, widget = await open_widget(browser, bridge, host, user, room_id)
    await tab(widget, TAB).click()
    card = connection_card(widget, f"{owner}/hello-world")
    await expect(card).to_be_visible()
    await expect(card.locator(".badge")).to_have_text(["trygitea"])

    await card.get_by_role("button", name="Edit").click()
    threads = card.get_by_role("checkbox", name=THREADS)
    reactions = card.get_by_role("checkbox", name=REACTIONS)
    await expect(threads).to_be_focused()  # the editor opens on its first switch
    await switch_threads_on_by_keyboard(page, threads, reactions)
    await assert_labelled(page)
    await shoot(page, "forgejo-threads-desktop-light")
    await card.get_by_role("button", name="Save").click()
    await expect(card.locator(".badge")).to_have_text(["trygitea", "Threads", "CI reactions"])

    final = await until_switches_saved(state, on=True)
    assert (final["owner"], final["enableHooks"]) == (owner, hooks)  # the rest untouched

    await card.get_by_role("button", name="Edit").click()
    await expect(threads).to_be_checked()
    await threads.uncheck()
    await expect(reactions).not_to_be_checked()
    await expect(reactions).to_be_disabled()
    await card.get_by_role("button", name="Save").click()
    await expect(card.locator(".badge")).to_have_text(["trygitea"])

    await until_switches_saved(state, on=False)
    await page.context.close()
    assert PAGE_ERRORS == []


@needs_browser
async def test_forgejo_repository_connected_and_removed_in_the_widget(
    bridge: BridgeProcess,
    host: HostServer,
    browser: Browser,
    fake_forgejo: FakeForgejo,
    new_user: UserFactory,
) -> None:
    """Typed by URL with threads on: refused without a token (the bridge's words shown), added
    once the bot has one; then removed. A member sees the card without Edit or Remove."""
    user, member = await new_user(), await new_user()
    login = f"u{uuid.uuid4().hex[:6]}"
    token = fake_forgejo.add_user(login).token
    fake_forgejo.add_repo(login, "gadgets", pushers={login})
    room_id = await room_with_bot(user, BOT)
    await user.invite(room_id, member.user_id)
    await member.join(room_id)

    page, widget = await open_widget(browser, bridge, host, user, room_id)
    await tab(widget, TAB).click()
    form = widget.locator("form.create")
    await form.get_by_label("Repository").fill("not a repository")
    await form.get_by_role("button", name="Add repository").click()
    await expect(form.locator("[data-errcode=REPO]")).to_be_visible()
    await expect(form.get_by_label("Repository")).to_be_focused()

    await form.get_by_label("Repository").fill(f"{fake_forgejo.url}/{login}/gadgets")
    await form.get_by_role("checkbox", name=THREADS).check()
    await form.get_by_role("button", name="Add repository").click()
    refused = form.locator("[data-errcode=HS_BAD_VALUE]")
    await expect(refused).to_contain_text("You have no token for this Forgejo instance")

    dm = await user.create_room(
        invite=[BOT], is_direct=True, power_level_content_override={"users": {BOT: 50}}
    )
    await user.wait_for_event(dm, notice_from(BOT, "Hello!"))
    await command(user, dm, f"forgejo personaltoken fake {token}")
    await form.get_by_role("button", name="Add repository").click()
    card = connection_card(widget, f"{login}/gadgets")
    await expect(card).to_be_visible()
    await expect(card.locator(".badge")).to_have_text(["fake", "Threads"])
    await expect(card.get_by_role("button", name="Edit")).to_be_focused()
    key = f"fake/{login}/gadgets"

    async def made() -> bool:
        content = await user.get_state(room_id, FORGEJO, key)
        return bool(content) and content.get("threads") is True

    await until(made, "the new connection in the room's state")
    await shoot(page, "forgejo-connected-desktop-light")

    # A member sees it, without the controls or the form.
    member_page, member_widget = await open_widget(browser, bridge, host, member, room_id)
    await tab(member_widget, TAB).click()
    theirs = connection_card(member_widget, f"{login}/gadgets")
    await expect(theirs).to_be_visible()
    await expect(theirs.get_by_role("button")).to_have_count(0)
    await expect(member_widget.locator("form.create")).to_be_hidden()
    await member_page.context.close()

    await card.get_by_role("button", name="Remove").click()
    await card.get_by_role("button", name="Remove repository").click()
    await expect(card).to_have_count(0)
    assert await user.get_state(room_id, FORGEJO, key) == {"disabled": True}
    async with httpx.AsyncClient() as http:
        auth = {"Authorization": f"Bearer {await _widget_session(http, bridge, user)}"}
        listing = await http.get(
            f"{bridge.files.webhook_base}/widgetapi/v1/{room_id}/connections/forgejo",
            headers=auth,
        )
        assert listing.status_code == 200 and listing.json()["canEdit"] is True
    await page.context.close()
    assert PAGE_ERRORS == []
