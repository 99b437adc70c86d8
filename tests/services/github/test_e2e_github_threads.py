"""Quiet rooms for GitHub against the real Synapse: with `threads: true` and `ciReactions: true`
a pull request's notices go into one thread, CI results react on its root (replacing the
previous reaction) and the root is edited to the PR's current state."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from conftest import GITHUB_SECRET, UserFactory
from support.flows import notice_from, room_with_bot
from support.paths import CORPORA
from support.threads import latest_edit, reactions_by, relations, until

from hookshot.core.signatures import github_signature
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
GITHUB = "uk.half-shot.matrix-hookshot.github.repository"


def _payload(file: str, org: str, repo: str) -> dict[str, Any]:
    """A corpus payload (Codertocat/Hello-World, PR #2) moved to `org/repo`."""
    text = (CORPORA / "github" / file).read_text()
    data: dict[str, Any] = json.loads(text.replace("Codertocat/Hello-World", f"{org}/{repo}"))
    return data


async def _deliver(
    http: httpx.AsyncClient, bridge: BridgeProcess, event: str, payload: dict[str, Any]
) -> None:
    body = json.dumps(payload).encode()
    resp = await http.post(
        bridge.files.webhook_base + "/github/webhook",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": github_signature(GITHUB_SECRET, body),
        },
    )
    assert resp.status_code == 202, resp.text


async def test_a_pull_request_lives_in_one_thread_with_ci_reactions(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    org, repo = f"org{uuid.uuid4().hex[:6]}", "quiet"
    room_id = await room_with_bot(user, BOT)
    state = {
        "org": org,
        "repo": repo,
        "enableHooks": ["pull_request", "issue.comment", "workflow"],
        "threads": True,
        "ciReactions": True,
    }
    await user.send_state(room_id, GITHUB, f"{org}/{repo}", state)
    await user.send_text(room_id, "!gh help")
    await user.wait_for_event(room_id, notice_from(BOT, f"Commands for {org}/{repo}:"))

    async with httpx.AsyncClient() as http:
        await _deliver(
            http, bridge, "pull_request", _payload("pull_request.opened.1.json", org, repo)
        )
        root_event = await user.wait_for_event(room_id, notice_from(BOT, "🔵"))
        root = str(root_event["event_id"])
        assert "m.relates_to" not in root_event["content"]

        comment = _payload("issue_comment.created.1.json", org, repo)
        comment["issue"].update(number=2, pull_request={"merged_at": None})
        await _deliver(http, bridge, "issue_comment", comment)
        review = _payload("pull_request_review.submitted.1.json", org, repo)
        review["review"]["state"] = "approved"
        await _deliver(http, bridge, "pull_request_review", review)

        async def two_in_thread() -> bool:
            return len(await relations(user, room_id, root, "m.thread")) >= 2

        await until(two_in_thread, "the comment and the review in the thread")

        # A failing check reacts ❌; its re-run passing replaces that with ✅.
        await _deliver(http, bridge, "check_run", _payload("check_run.completed.1.json", org, repo))

        async def failed() -> bool:
            return await reactions_by(user, room_id, root, BOT) == ["❌"]

        await until(failed, "❌ on the root")
        await _deliver(http, bridge, "check_run", _payload("check_run.completed.2.json", org, repo))

        async def passed() -> bool:
            return await reactions_by(user, room_id, root, BOT) == ["✅"]

        await until(passed, "✅ replacing ❌ on the root")

        merged = _payload("pull_request.closed.1.json", org, repo)
        merged["pull_request"]["merged"] = True
        await _deliver(http, bridge, "pull_request", merged)

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
