"""Quiet rooms for Forgejo against the real Synapse: with `threads: true` and `ciReactions: true`
a pull request's notices go into one thread, CI results react on its root (replacing the
previous reaction) and the root is edited to the PR's current state. Deliveries are corpus
ones (tests/corpora/forgejo), signed and posted to the running bridge."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
from conftest import FORGEJO_INSTANCES, FORGEJO_SECRET, UserFactory
from support.flows import notice_from, room_with_bot
from support.paths import CORPORA
from support.threads import latest_edit, reactions_by, relations, until

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
FORGEJO = "org.hookshot-python.forgejo.repository"
CORPUS = CORPORA / "forgejo"
# pull_request.opened.1 and pull_request.closed-merged.2 are one pull request of one Gitea
# repository: jcitizen/my-repo#1, head commit 2eba238e.
SOURCE = "jcitizen/my-repo"
HEAD = "2eba238e33607c1fa49253182e9fff42baafa1eb"


def _body(name: str, owner: str) -> dict[str, Any]:
    """A corpus body moved to `owner/my-repo` on the `trygitea` instance."""
    text = (CORPUS / f"{name}.json").read_text().replace(SOURCE, f"{owner}/my-repo")
    body: dict[str, Any] = json.loads(text)
    body["repository"]["html_url"] = f"{FORGEJO_INSTANCES['trygitea']}/{owner}/my-repo"
    return body


def _action_run(outcome: str, owner: str) -> dict[str, Any]:
    """An `action_run_<outcome>` body for the PR's head commit. The corpus has no real one (see
    its README): constructed from Forgejo's ActionPayload / ActionRun structs
    (modules/structs), with the repository of pull_request.opened.1."""
    repo = _body("pull_request.opened.1", owner)["repository"]
    return {
        "action": outcome,
        "prior_status": "running",
        "run": {
            "id": 7,
            "title": "Add License File",
            "repository": repo,
            "workflow_id": "ci.yml",
            "prettyref": "feature",
            "commit_sha": HEAD,
            "event": "pull_request",
            "status": outcome,
            "html_url": f"{repo['html_url']}/actions/runs/7",
        },
    }


async def _deliver(
    http: httpx.AsyncClient, bridge: BridgeProcess, event_type: str, event: str, body: Any
) -> None:
    raw = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Forgejo-Event": event,
        "X-Forgejo-Event-Type": event_type,
        "X-Forgejo-Delivery": str(uuid.uuid4()),
        "X-Forgejo-Signature": hmac.new(FORGEJO_SECRET.encode(), raw, hashlib.sha256).hexdigest(),
    }
    resp = await http.post(
        f"{bridge.files.webhook_base}/forgejo/webhook", content=raw, headers=headers
    )
    assert resp.status_code == 202, resp.text


async def _connected(user: MatrixUser, owner: str, **state: Any) -> str:
    """A room with a connection to `owner/my-repo`, once the bridge has it."""
    room_id = await room_with_bot(user, BOT)
    content = {"instance": "trygitea", "owner": owner, "repo": "my-repo", **state}
    await user.send_state(room_id, FORGEJO, f"trygitea/{owner}/my-repo", content)
    await user.send_text(room_id, "!forgejo help")
    await user.wait_for_event(room_id, notice_from(BOT, f"Commands for {owner}/my-repo:"))
    return room_id


async def test_a_pull_request_lives_in_one_thread_with_ci_reactions(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    owner = f"o{uuid.uuid4().hex[:8]}"
    hooks = ["pull_request", "issue.comment", "workflow"]
    room_id = await _connected(user, owner, enableHooks=hooks, threads=True, ciReactions=True)

    async with httpx.AsyncClient(timeout=30) as http:
        opened = _body("pull_request.opened.1", owner)
        await _deliver(http, bridge, "pull_request", "pull_request", opened)
        root_event = await user.wait_for_event(room_id, notice_from(BOT, "🔵"))
        root = str(root_event["event_id"])
        assert "m.relates_to" not in root_event["content"]

        # A real comment on a PR's conversation (is_pull, from another repository), moved
        # onto this PR: its repository, and the number, title and page, are the PR's.
        comment = _body("pull_request_comment.created.2", owner)
        pr = opened["pull_request"]
        comment["repository"] = opened["repository"]
        comment["issue"].update(number=1, title=pr["title"], html_url=pr["html_url"])
        await _deliver(http, bridge, "pull_request_comment", "issue_comment", comment)

        async def one_in_thread() -> bool:
            return len(await relations(user, room_id, root, "m.thread")) >= 1

        await until(one_in_thread, "the comment in the thread")

        # A failing run reacts ❌; its re-run passing replaces that with ✅.
        failing = _action_run("failure", owner)
        await _deliver(http, bridge, "action_run_failure", "action_run_failure", failing)

        async def failed() -> bool:
            return await reactions_by(user, room_id, root, BOT) == ["❌"]

        await until(failed, "❌ on the root")
        passing = _action_run("success", owner)
        await _deliver(http, bridge, "action_run_success", "action_run_success", passing)

        async def passed() -> bool:
            return await reactions_by(user, room_id, root, BOT) == ["✅"]

        await until(passed, "✅ replacing ❌ on the root")

        merged = _body("pull_request.closed-merged.2", owner)
        await _deliver(http, bridge, "pull_request", "pull_request", merged)

        async def merged_root() -> str | None:
            body = await latest_edit(user, room_id, root)
            return body if "is **merged**" in body else None

        body = await until(merged_root, "the root edited to merged")
    assert f"PR [{owner}/my-repo#1]" in body and "CI: ✅ 1 passed" in body, body

    async def two_in_thread() -> list[str]:
        thread = [
            str(e["content"]["body"])
            for e in await relations(user, room_id, root, "m.thread")
            if e["type"] == "m.room.message"
        ]
        return thread if len(thread) >= 2 else []

    thread = await until(two_in_thread, "the merge notice in the thread")
    assert len(thread) == 2, thread
    assert thread[0].startswith("🗣") and "merged PR" in thread[1], thread
    # The main timeline: the root, its edits, no other bot message (the runs only reacted).
    timeline = [
        e
        for e in await user.messages(room_id)
        if e.get("sender") == BOT
        and e["type"] == "m.room.message"
        and e["content"].get("m.relates_to", {}).get("rel_type") not in ("m.thread", "m.replace")
        and not e["content"].get("body", "").startswith("Commands for")
    ]
    assert [e["event_id"] for e in timeline] == [root]


async def test_without_threads_nothing_changes(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    owner = f"o{uuid.uuid4().hex[:8]}"
    room_id = await _connected(user, owner, enableHooks=["pull_request", "workflow"])
    async with httpx.AsyncClient(timeout=30) as http:
        await _deliver(
            http, bridge, "pull_request", "pull_request", _body("pull_request.opened.1", owner)
        )
        failing = _action_run("failure", owner)
        await _deliver(http, bridge, "action_run_failure", "action_run_failure", failing)
        await _deliver(
            http,
            bridge,
            "pull_request",
            "pull_request",
            _body("pull_request.closed-merged.2", owner),
        )
    await user.wait_for_event(room_id, notice_from(BOT, "✳️"))
    notices = [
        e
        for e in await user.messages(room_id)
        if e.get("sender") == BOT
        and e["type"] == "m.room.message"
        and not e["content"].get("body", "").startswith("Commands for")
    ]
    assert [str(e["content"]["body"]).split()[0] for e in notices] == ["🔵", "❌", "✳️"]
    assert all("m.relates_to" not in e["content"] for e in notices)


async def test_threads_command_switches_the_connection(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    owner = f"o{uuid.uuid4().hex[:8]}"
    room_id = await _connected(user, owner)
    key = f"trygitea/{owner}/my-repo"
    await user.send_text(room_id, "!forgejo threads on")
    await user.wait_for_event(room_id, notice_from(BOT, f"Threads on for {owner}/my-repo"))
    state = await user.get_state(room_id, FORGEJO, key)
    assert state is not None and state["threads"] is True and state["owner"] == owner
    await user.send_text(room_id, "!forgejo threads maybe")
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: Say `threads on`")
    )
    # Someone who may not change the room's settings may not switch it either.
    guest = await new_user()
    await user.invite(room_id, guest.user_id)
    await guest.join(room_id)
    await guest.send_text(room_id, "!forgejo threads off")
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: You must be able to set state")
    )
    state = await user.get_state(room_id, FORGEJO, key)
    assert state is not None and state["threads"] is True
    await user.send_text(room_id, "!forgejo threads off")
    await user.wait_for_event(room_id, notice_from(BOT, f"Threads off for {owner}/my-repo"))
    state = await user.get_state(room_id, FORGEJO, key)
    assert state is not None and state["threads"] is False
