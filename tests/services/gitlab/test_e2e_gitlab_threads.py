"""Quiet rooms for GitLab against the real Synapse: with `threads: true` and `ciReactions: true`
a merge request's notices (and its review batch) go into one thread, its pipelines react on the
root and the root is edited to the MR's current state; pushes to its source branch and branch
pipelines join it, a push to another branch stays in the main timeline."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from conftest import GITLAB_INSTANCE, GITLAB_SECRET, GITLAB_URL, UserFactory
from support.flows import notice_from, room_with_bot
from support.paths import CORPORA
from support.threads import latest_edit, reactions_by, relations, until

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
GITLAB = "uk.half-shot.matrix-hookshot.gitlab.repository"


def _payload(file: str, path: str) -> dict[str, Any]:
    """A corpus payload moved to project `path` on the test instance."""
    data: dict[str, Any] = json.loads((CORPORA / "gitlab" / file).read_text())
    data["project"].update(
        path_with_namespace=path, web_url=f"{GITLAB_URL}/{path}", homepage=f"{GITLAB_URL}/{path}"
    )
    return data


async def _deliver(
    http: httpx.AsyncClient, bridge: BridgeProcess, header: str, payload: dict[str, Any]
) -> None:
    resp = await http.post(
        bridge.files.webhook_base + "/gitlab/webhook",
        json=payload,
        headers={
            "X-Gitlab-Event": header,
            "X-Gitlab-Token": GITLAB_SECRET,
            "X-Gitlab-Instance": GITLAB_URL,
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    assert resp.status_code == 202, resp.text


async def _threaded_project(user: MatrixUser, name: str) -> tuple[str, str]:
    """A new room bridging a new project with threads and ciReactions on, once the bridge
    has applied the state: (room id, project path)."""
    path = f"grp{uuid.uuid4().hex[:6]}/{name}"
    room_id = await room_with_bot(user, BOT)
    state = {"instance": GITLAB_INSTANCE, "path": path, "threads": True, "ciReactions": True}
    await user.send_state(room_id, GITLAB, f"{GITLAB_INSTANCE}/{path}", state)
    await user.send_text(room_id, "!gl help")  # answered once the state is applied
    await user.wait_for_event(room_id, notice_from(BOT, f"Commands for {path}:"))
    return room_id, path


def _pipeline(path: str, status: str, sha: str) -> dict[str, Any]:
    """The corpus pipeline (it ran for MR !1) with `status`, for commit `sha`."""
    payload = _payload("pipeline.success.1.json", path)
    payload["object_attributes"].update(status=status, sha=sha)
    return payload


async def test_a_merge_request_lives_in_one_thread_with_ci_reactions(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id, path = await _threaded_project(user, "quiet")

    opened = _payload("merge_request.open.1.json", path)
    head = opened["object_attributes"]["last_commit"]["id"]
    async with httpx.AsyncClient() as http:
        await _deliver(http, bridge, "Merge Request Hook", opened)
        root_event = await user.wait_for_event(room_id, notice_from(BOT, "**"))
        root = str(root_event["event_id"])
        assert "opened a new MR" in root_event["content"]["body"]
        assert "m.relates_to" not in root_event["content"]

        await _deliver(http, bridge, "Note Hook", _payload("note.create.2.json", path))

        async def batch_in_thread() -> bool:
            return len(await relations(user, room_id, root, "m.thread")) >= 1

        await until(batch_in_thread, "the review batch in the thread")

        await _deliver(http, bridge, "Pipeline Hook", _pipeline(path, "running", head))

        async def running() -> bool:
            return await reactions_by(user, room_id, root, BOT) == ["⏳"]

        await until(running, "⏳ on the root")
        await _deliver(http, bridge, "Pipeline Hook", _pipeline(path, "success", head))

        async def passed() -> bool:
            return await reactions_by(user, room_id, root, BOT) == ["✅"]

        await until(passed, "✅ replacing ⏳ on the root")

        merged = _payload("merge_request.open.1.json", path)
        merged["object_attributes"].update(action="merge", state="merged")
        await _deliver(http, bridge, "Merge Request Hook", merged)

        async def merged_root() -> str | None:
            body = await latest_edit(user, room_id, root)
            return body if "is **merged**" in body else None

        body = await until(merged_root, "the root edited to merged")
    assert "CI: ✅ 1 passed" in body and "with labels API" in body, body

    async def two_in_thread() -> list[str] | None:
        thread = [
            e["content"]["body"]
            for e in await relations(user, room_id, root, "m.thread")
            if e["type"] == "m.room.message"
        ]
        return thread if len(thread) >= 2 else None

    thread = await until(two_in_thread, "the merge notice in the thread")
    assert len(thread) == 2, thread
    assert "commented on MR" in thread[0] and "merged MR" in thread[1], thread
    # The main timeline: the root and its edits, no other bot notice.
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
    path = f"grp{uuid.uuid4().hex[:6]}/switch"
    room_id = await room_with_bot(user, BOT)
    key = f"{GITLAB_INSTANCE}/{path}"
    await user.send_state(room_id, GITLAB, key, {"instance": GITLAB_INSTANCE, "path": path})
    await user.send_text(room_id, "!gl threads on")
    await user.wait_for_event(room_id, notice_from(BOT, f"Threads on for {path}"))
    state = await user.get_state(room_id, GITLAB, key)
    assert state is not None and state["threads"] is True and state["path"] == path
    await user.send_text(room_id, "!gl threads maybe")
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: Say `threads on`")
    )
    await user.send_text(room_id, "!gl threads off")
    await user.wait_for_event(room_id, notice_from(BOT, f"Threads off for {path}"))
    state = await user.get_state(room_id, GITLAB, key)
    assert state is not None and state["threads"] is False


def _push(path: str, branch: str, after: str) -> dict[str, Any]:
    """The corpus push (two commits) to `branch`, ending at `after`."""
    payload = _payload("push.none.2.json", path)
    payload.update(ref=f"refs/heads/{branch}", after=after, checkout_sha=after)
    return payload


def _branch_pipeline(path: str, status: str, branch: str, sha: str) -> dict[str, Any]:
    """The corpus pipeline as a branch pipeline: no `merge_request`, run on `branch`."""
    payload = _payload("pipeline.success.1.json", path)
    payload["merge_request"] = None
    payload["object_attributes"].update(status=status, ref=branch, sha=sha, source="push")
    return payload


async def test_pushes_and_branch_pipelines_join_their_merge_request(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id, path = await _threaded_project(user, "branches")

    opened = _payload("merge_request.open.1.json", path)
    branch = opened["object_attributes"]["source_branch"]
    new_head = "1f0a3e4b5c6d7e8f90a1b2c3d4e5f60718293a4b"
    async with httpx.AsyncClient() as http:
        await _deliver(http, bridge, "Merge Request Hook", opened)
        root_event = await user.wait_for_event(
            room_id, notice_from(BOT, "**user1** opened a new MR")
        )
        root = str(root_event["event_id"])

        await _deliver(http, bridge, "Push Hook", _push(path, branch, new_head))
        await _deliver(http, bridge, "Push Hook", _push(path, "master", "ab" * 20))
        await _deliver(
            http, bridge, "Pipeline Hook", _branch_pipeline(path, "running", branch, new_head)
        )

        async def running() -> bool:
            return await reactions_by(user, room_id, root, BOT) == ["⏳"]

        await until(running, "⏳ on the root for the branch pipeline")
        await _deliver(
            http, bridge, "Pipeline Hook", _branch_pipeline(path, "success", branch, new_head)
        )

        async def passed_root() -> str | None:
            body = await latest_edit(user, room_id, root)
            return body if "CI: ✅ 1 passed" in body else None

        await until(passed_root, "the root edited to the passed branch pipeline")

        async def passed() -> bool:
            return await reactions_by(user, room_id, root, BOT) == ["✅"]

        await until(passed, "✅ replacing ⏳ on the root")

    thread = [
        e["content"]["body"]
        for e in await relations(user, room_id, root, "m.thread")
        if e["type"] == "m.room.message"
    ]
    # The push to the source branch is in the thread; the pipeline only reacted.
    assert len(thread) == 1 and f"to [`{branch}`]" in thread[0], thread

    async def master_push() -> list[dict[str, Any]] | None:
        found = [
            e
            for e in await user.messages(room_id)
            if e.get("sender") == BOT and "to [`master`]" in e["content"].get("body", "")
        ]
        return found or None

    # The push to another branch stays in the main timeline.
    [other] = await until(master_push, "the push to master")
    assert "m.relates_to" not in other["content"], other
