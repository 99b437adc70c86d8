"""GitLab deliveries through the running bridge: notices, comment batching with threads,
pipeline filters, group connections, and hostile input."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from conftest import GITLAB_DEBOUNCE_MS, GITLAB_INSTANCE, GITLAB_SECRET, GITLAB_URL, UserFactory
from support.flows import notice_from, room_with_bot
from support.paths import CORPORA

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
GITLAB = "uk.half-shot.matrix-hookshot.gitlab.repository"
CORPUS = CORPORA / "gitlab"


def _payload(file: str, path: str) -> dict[str, Any]:
    """A corpus payload moved to project `path` on the test instance."""
    data: dict[str, Any] = json.loads((CORPUS / file).read_text())
    project = data.get("project")
    if isinstance(project, dict):
        project["path_with_namespace"] = path
        project["web_url"] = f"{GITLAB_URL}/{path}"
        project["homepage"] = f"{GITLAB_URL}/{path}"
    return data


async def _deliver(
    http: httpx.AsyncClient,
    bridge: BridgeProcess,
    header: str | None,
    payload: dict[str, Any],
    *,
    token: str | None = GITLAB_SECRET,
    key: str | None = None,
    path: str = "/gitlab/webhook",
) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Instance": GITLAB_URL,
        "Idempotency-Key": key or str(uuid.uuid4()),
    }
    if token is not None:
        headers["X-Gitlab-Token"] = token
    if header is not None:
        headers["X-Gitlab-Event"] = header
    return await http.post(bridge.files.webhook_base + path, json=payload, headers=headers)


async def _connected_room(user: MatrixUser, path: str, **state: Any) -> str:
    room_id = await room_with_bot(user, BOT)
    await user.send_state(
        room_id,
        GITLAB,
        f"{GITLAB_INSTANCE}/{path}",
        {"instance": GITLAB_INSTANCE, "path": path, **state},
    )
    await user.send_text(room_id, "!hookshot webhook list")  # a marker after the state
    await user.wait_for_event(room_id, notice_from(BOT, "No webhooks configured"))
    return room_id


def _path() -> str:
    return f"grp{uuid.uuid4().hex[:6]}/proj"


async def test_merge_request_opened(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    path = _path()
    room_id = await _connected_room(user, path)
    payload = _payload("merge_request.open.1.json", path)
    async with httpx.AsyncClient() as http:
        resp = await _deliver(http, bridge, "Merge Request Hook", payload)
    assert resp.status_code == 202, resp.text
    event = await user.wait_for_event(room_id, notice_from(BOT, "**"))
    title = payload["object_attributes"]["title"]
    assert "opened a new MR" in event["content"]["body"] and title in event["content"]["body"]


async def test_comments_are_batched_and_later_replies_thread(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    path = _path()
    room_id = await _connected_room(user, path)
    async with httpx.AsyncClient() as http:
        for n in range(3):
            note = _payload("note.create.2.json", path)
            note["object_attributes"]["discussion_id"] = "disc-1"
            note["object_attributes"]["id"] = 1000 + n
            resp = await _deliver(http, bridge, "Note Hook", note)
            assert resp.status_code == 202, resp.text
        batched = await user.wait_for_event(room_id, notice_from(BOT, "**"), timeout=20)
        assert batched["content"]["body"].endswith("with 3 comments"), batched["content"]
        await asyncio.sleep(GITLAB_DEBOUNCE_MS / 1000 + 1)
        later = _payload("note.create.2.json", path)
        later["object_attributes"]["discussion_id"] = "disc-1"
        assert (await _deliver(http, bridge, "Note Hook", later)).status_code == 202
    reply = await user.wait_for_event(
        room_id,
        lambda e: e.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.thread",
        timeout=20,
    )
    assert reply["content"]["m.relates_to"]["event_id"] == batched["event_id"]
    notices = [e for e in await user.messages(room_id) if notice_from(BOT, "**")(e)]
    assert len(notices) == 2  # one batch of three, one threaded reply


async def test_pipeline_filters(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    path = _path()
    room_id = await _connected_room(user, path, pipelineRefsRegex="^main$")
    ok_elsewhere = _payload("pipeline.success.1.json", path)
    ok_elsewhere["object_attributes"].update(status="success", ref="feature-x")
    failed_main = _payload("pipeline.success.1.json", path)
    failed_main["object_attributes"].update(status="failed", ref="main")
    for branch_pipeline in (ok_elsewhere, failed_main):
        branch_pipeline.pop("merge_request", None)  # the corpus one ran for an MR
    async with httpx.AsyncClient() as http:
        assert (await _deliver(http, bridge, "Pipeline Hook", ok_elsewhere)).status_code == 202
        assert (await _deliver(http, bridge, "Pipeline Hook", failed_main)).status_code == 202
    event = await user.wait_for_event(room_id, notice_from(BOT, "Pipeline"))
    assert "failed" in event["content"]["body"] and "main" in event["content"]["body"]
    await asyncio.sleep(1.0)
    pipelines = [e for e in await user.messages(room_id) if notice_from(BOT, "Pipeline")(e)]
    assert len(pipelines) == 1


async def test_group_connection_gets_its_projects(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    group = f"grp{uuid.uuid4().hex[:6]}"
    room_id = await _connected_room(user, group)
    async with httpx.AsyncClient() as http:
        resp = await _deliver(
            http,
            bridge,
            "Merge Request Hook",
            _payload("merge_request.open.1.json", f"{group}/sub/project"),
        )
    assert resp.status_code == 202
    await user.wait_for_event(room_id, notice_from(BOT, "**"))


async def test_tokens_and_corpus(bridge: BridgeProcess) -> None:
    log_start = bridge.log_path.stat().st_size
    payload = _payload("merge_request.open.1.json", _path())
    async with httpx.AsyncClient(timeout=30) as http:
        missing = await _deliver(http, bridge, "Merge Request Hook", payload, token=None)
        wrong = await _deliver(http, bridge, "Merge Request Hook", payload, token="nope")
        legacy = await _deliver(http, bridge, "Merge Request Hook", payload, path="/")
        assert (missing.status_code, wrong.status_code, legacy.status_code) == (400, 403, 202)
        for entry in json.loads((CORPUS / "manifest.json").read_text()):
            body = json.loads((CORPUS / entry["file"]).read_text())
            resp = await _deliver(http, bridge, entry["headers"]["X-Gitlab-Event"], body)
            assert resp.status_code in (200, 202), (entry["file"], resp.text)
    await asyncio.sleep(GITLAB_DEBOUNCE_MS / 1000 + 1.5)
    with bridge.log_path.open("rb") as log:
        log.seek(log_start)
        tail = log.read().decode(errors="replace")
    assert "Traceback" not in tail and " ERROR " not in tail, tail[-3000:]


async def test_a_catastrophic_tag_regex_cannot_stall_the_bridge(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    # `^(a+)+$` against a 40-character non-matching tag runs for hours in a backtracking
    # engine; RE2 decides at once, so the tag is filtered and another room is not held up.
    user = await new_user()
    path, other = _path(), _path()
    stalled = await _connected_room(user, path, pushTagsRegex="^(a+)+$", enableHooks=["tag_push"])
    lively = await _connected_room(user, other, enableHooks=["tag_push"])
    hostile = _payload("tag_push.none.1.json", path)
    hostile["ref"] = "refs/tags/" + "a" * 40 + "!"
    fine = _payload("tag_push.none.1.json", other)
    async with httpx.AsyncClient(timeout=30) as http:
        assert (await _deliver(http, bridge, "Tag Push Hook", hostile)).status_code == 202
        assert (await _deliver(http, bridge, "Tag Push Hook", fine)).status_code == 202
        matching = _payload("tag_push.none.1.json", path)
        matching["ref"] = "refs/tags/aaaa"
        assert (await _deliver(http, bridge, "Tag Push Hook", matching)).status_code == 202
    await user.wait_for_event(lively, lambda e: "v1.0.0" in str(e["content"].get("body")))
    # The project's deliveries are handled in order: once the matching tag is in, the
    # hostile one was decided (and filtered out).
    await user.wait_for_event(stalled, lambda e: "aaaa" in str(e["content"].get("body")))
    bodies = [str(e["content"].get("body")) for e in await user.messages(stalled)]
    assert not [b for b in bodies if "a" * 40 in b]


async def test_a_pattern_re2_cannot_run_is_refused_when_written(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    path = _path()
    room_id = await room_with_bot(user, BOT)
    await user.send_state(
        room_id,
        GITLAB,
        f"{GITLAB_INSTANCE}/{path}",
        {"instance": GITLAB_INSTANCE, "path": path, "pushTagsRegex": "^v(?=\\d)"},
    )
    await user.wait_for_event(
        room_id,
        notice_from(
            BOT,
            f"Invalid gitlab_repo connection `{GITLAB_INSTANCE}/{path}`: "
            "'pushTagsRegex' cannot be run in linear time",
        ),
    )


async def test_deliveries_are_routed_by_their_body(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    # hookshot routes by `object_kind`: no X-Gitlab-Event header, or "System Hook", is fine.
    user = await new_user()
    path = _path()
    room_id = await _connected_room(user, path)
    first = _payload("merge_request.open.1.json", path)
    second = _payload("merge_request.open.2.json", path)
    async with httpx.AsyncClient(timeout=30) as http:
        unsigned = await _deliver(http, bridge, None, first, token=None)
        assert unsigned.status_code == 400  # the token is still checked first
        bare = await _deliver(http, bridge, None, first)
        assert bare.status_code == 202, bare.text
        system = await _deliver(http, bridge, "System Hook", second)
        assert system.status_code == 202, system.text

    # Each MR is opened by another user in the corpus, so each notice is its own.
    await user.wait_for_event(room_id, notice_from(BOT, "**user1** opened a new MR"))
    await user.wait_for_event(room_id, notice_from(BOT, "**root** opened a new MR"))
