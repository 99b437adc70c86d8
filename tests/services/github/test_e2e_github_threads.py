"""Quiet rooms for GitHub against the real Synapse: with `threads: true` and `ciReactions: true`
a pull request's notices go into one thread, CI results react on its root (replacing the
previous reaction) and the root is edited to the PR's current state."""

from __future__ import annotations

import uuid
from functools import partial

import httpx
from conftest import GITHUB_SECRET, UserFactory
from support.flows import notice_from, room_with_bot
from support.github_hooks import GITHUB_REPO as GITHUB
from support.github_hooks import deliver, payload, threaded_repo
from support.threads import latest_edit, reactions_by, relations, until

from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"


async def test_a_pull_request_lives_in_one_thread_with_ci_reactions(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    org, repo = await threaded_repo(user, room_id, BOT)

    async with httpx.AsyncClient() as http:
        github = partial(deliver, http, bridge, GITHUB_SECRET)
        await github("pull_request", payload("pull_request.opened.1.json", org, repo))
        root_event = await user.wait_for_event(room_id, notice_from(BOT, "🔵"))
        root = str(root_event["event_id"])
        assert "m.relates_to" not in root_event["content"]

        comment = payload("issue_comment.created.1.json", org, repo)
        comment["issue"].update(number=2, pull_request={"merged_at": None})
        await github("issue_comment", comment)
        review = payload("pull_request_review.submitted.1.json", org, repo)
        review["review"]["state"] = "approved"
        await github("pull_request_review", review)

        async def two_in_thread() -> bool:
            return len(await relations(user, room_id, root, "m.thread")) >= 2

        await until(two_in_thread, "the comment and the review in the thread")

        # A failing check reacts ❌; its re-run passing replaces that with ✅.
        await github("check_run", payload("check_run.completed.1.json", org, repo))

        async def failed() -> bool:
            return await reactions_by(user, room_id, root, BOT) == ["❌"]

        await until(failed, "❌ on the root")
        await github("check_run", payload("check_run.completed.2.json", org, repo))

        async def passed() -> bool:
            return await reactions_by(user, room_id, root, BOT) == ["✅"]

        await until(passed, "✅ replacing ❌ on the root")

        merged = payload("pull_request.closed.1.json", org, repo)
        merged["pull_request"]["merged"] = True
        await github("pull_request", merged)

        async def merged_root() -> str | None:
            body = await latest_edit(user, room_id, root)
            return body if "is **merged**" in body else None

        body = await until(merged_root, "the root edited to merged")
    assert "CI: ✅ 1 passed" in body, body

    thread = [
        e["content"]["body"]
        for e in await relations(user, room_id, root, "m.thread")
        if e["type"] == "m.room.message"
    ]
    assert len(thread) == 3, thread
    assert thread[0].startswith("🗣") and thread[1].startswith("✅") and "merged PR" in thread[2]
    # The main timeline: the root, its edits, no other bot message.
    timeline = [
        e
        for e in await user.messages(room_id)
        if e.get("sender") == BOT
        and e["type"] == "m.room.message"
        and e["content"].get("m.relates_to", {}).get("rel_type") not in ("m.thread", "m.replace")
        and not e["content"].get("body", "").startswith("Commands for")
    ]
    assert [e["event_id"] for e in timeline] == [root]


async def test_threads_command_switches_the_connection(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    org, repo = f"org{uuid.uuid4().hex[:6]}", "switch"
    room_id = await room_with_bot(user, BOT)
    await user.send_state(room_id, GITHUB, f"{org}/{repo}", {"org": org, "repo": repo})
    await user.send_text(room_id, "!gh threads on")
    await user.wait_for_event(room_id, notice_from(BOT, f"Threads on for {org}/{repo}"))
    state = await user.get_state(room_id, GITHUB, f"{org}/{repo}")
    assert state is not None and state["threads"] is True and state["org"] == org
    await user.send_text(room_id, "!gh threads maybe")
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: Say `threads on`")
    )
    await user.send_text(room_id, "!gh threads off")
    await user.wait_for_event(room_id, notice_from(BOT, f"Threads off for {org}/{repo}"))
    state = await user.get_state(room_id, GITHUB, f"{org}/{repo}")
    assert state is not None and state["threads"] is False
