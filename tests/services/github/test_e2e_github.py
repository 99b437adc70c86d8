"""GitHub deliveries through the running bridge into rooms connected by state."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from conftest import GITHUB_APP_ID, GITHUB_SECRET, UserFactory
from support.fake_github import FakeGitHub
from support.flows import notice_from, room_with_bot
from support.paths import CORPORA

from hookshot.core.signatures import github_signature
from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess
from hookshot.services.github.repo import ALLOWED_HOOKS

BOT = "@hookshot:localhost"
GITHUB = "uk.half-shot.matrix-hookshot.github.repository"
CORPUS = CORPORA / "github"


def _payload(file: str, org: str, repo: str) -> dict[str, Any]:
    """A corpus payload moved to `org/repo`, so each test has its own repository."""
    data: dict[str, Any] = json.loads((CORPUS / file).read_text())
    repository = data.get("repository")
    if isinstance(repository, dict):
        repository["full_name"] = f"{org}/{repo}"
        repository["name"] = repo
        repository["html_url"] = f"https://github.com/{org}/{repo}"
        if isinstance(repository.get("owner"), dict):
            repository["owner"]["login"] = org
    return data


async def _deliver(
    http: httpx.AsyncClient,
    bridge: BridgeProcess,
    event: str,
    payload: dict[str, Any],
    *,
    delivery: str | None = None,
    secret: str = GITHUB_SECRET,
    path: str = "/github/webhook",
) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await http.post(
        bridge.files.webhook_base + path,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": github_signature(secret, body),
            "User-Agent": "GitHub-Hookshot/test",
        },
    )


async def _connected_room(user: MatrixUser, org: str, repo: str, **state: Any) -> str:
    room_id = await room_with_bot(user, BOT)
    await user.send_state(room_id, GITHUB, f"{org}/{repo}", {"org": org, "repo": repo, **state})
    # The bridge applies state in room order: a command after it is answered after it.
    await user.send_text(room_id, "!gh help")
    await user.wait_for_event(room_id, notice_from(BOT, f"Commands for {org}/{repo}:"))
    return room_id


async def test_issue_opened_reaches_every_connected_room_once(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    org, repo = f"org{uuid.uuid4().hex[:6]}", "Hello-World"
    first = await _connected_room(user, org, repo)
    second = await _connected_room(user, org.upper(), repo.lower())  # matching ignores case
    quiet = await _connected_room(user, org, repo, enableHooks=["pull_request"])
    payload = _payload("issues.opened.1.json", org, repo)
    delivery = str(uuid.uuid4())
    async with httpx.AsyncClient() as http:
        resp = await _deliver(http, bridge, "issues", payload, delivery=delivery)
        assert resp.status_code == 202, resp.text
        again = await _deliver(http, bridge, "issues", payload, delivery=delivery)
        assert again.status_code == 200 and again.json() == {"ok": True, "duplicate": True}
    title = payload["issue"]["title"]
    for room_id in (first, second):
        event = await user.wait_for_event(room_id, notice_from(BOT, "📥"))
        assert title in event["content"]["body"]
        assert event["content"]["external_url"] == payload["issue"]["html_url"]
    await asyncio.sleep(1.0)  # a duplicate, or a notice in the quiet room, would be here by now
    for room_id, expected in ((first, 1), (second, 1), (quiet, 0)):
        notices = [e for e in await user.messages(room_id) if notice_from(BOT, "📥")(e)]
        assert len(notices) == expected, room_id


async def test_bad_signatures_and_headers_are_refused(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    org, repo = f"org{uuid.uuid4().hex[:6]}", "repo"
    room_id = await _connected_room(user, org, repo)
    payload = _payload("issues.opened.1.json", org, repo)
    async with httpx.AsyncClient() as http:
        wrong = await _deliver(http, bridge, "issues", payload, secret="not-the-secret")
        assert wrong.status_code == 401 and wrong.json()["error"] == "Invalid signature"
        body = json.dumps(payload).encode()
        base = bridge.files.webhook_base + "/github/webhook"
        unsigned = await http.post(
            base,
            content=body,
            headers={
                "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": "x",
                "Content-Type": "application/json",
            },
        )
        assert unsigned.status_code == 401
        no_event = await http.post(base, content=body, headers={"X-GitHub-Delivery": "y"})
        assert no_event.status_code == 400
        assert no_event.json()["error"] == "Missing X-GitHub-Event header"
        # The legacy root route takes GitHub deliveries too, with the same checks.
        legacy = await _deliver(http, bridge, "issues", payload, path="/")
        assert legacy.status_code == 202
    await user.wait_for_event(room_id, notice_from(BOT, "📥"))
    notices = [e for e in await user.messages(room_id) if notice_from(BOT, "📥")(e)]
    assert len(notices) == 1  # only the legacy-route delivery


async def test_every_corpus_delivery_is_accepted_without_errors(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    # A room that wants everything from the corpus' main repository, so rendering runs too.
    user = await new_user()
    room_id = await _connected_room(
        user, "Codertocat", "Hello-World", enableHooks=list(ALLOWED_HOOKS)
    )
    log_start = bridge.log_path.stat().st_size
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    async with httpx.AsyncClient(timeout=30) as http:
        for entry in manifest:
            payload = json.loads((CORPUS / entry["file"]).read_text())
            resp = await _deliver(http, bridge, entry["headers"]["X-GitHub-Event"], payload)
            assert resp.status_code == 202, (entry["file"], resp.text)
    # The last corpus files are workflow runs; wait until the room got notices at all.
    await user.wait_for_event(room_id, notice_from(BOT, "📥"), timeout=30)
    await asyncio.sleep(2.0)  # let the router and sender work through the rest
    with bridge.log_path.open("rb") as log:
        log.seek(log_start)
        tail = log.read().decode(errors="replace")
    assert "Traceback" not in tail and " ERROR " not in tail, tail[-3000:]


async def test_closed_pull_request_shows_the_closing_comment(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    user = await new_user()
    org, repo = f"org{uuid.uuid4().hex[:6]}", "svc"
    fake_github.add_user("closer")
    fake_github.add_repo(f"{org}/{repo}")
    fake_github.install_app(GITHUB_APP_ID, org)
    pr = fake_github.add_issue(f"{org}/{repo}", "Experiment", user="closer", pull_request=True)
    fake_github.add_comment(f"{org}/{repo}", pr.number, "Superseded by #12", user="closer")
    room_id = await _connected_room(user, org, repo)
    payload = _payload("pull_request.closed.1.json", org, repo)
    payload["pull_request"].update(
        number=pr.number, merged=False, closed_at=datetime.now(UTC).isoformat()
    )
    payload["sender"]["login"] = "closer"
    async with httpx.AsyncClient() as http:
        assert (await _deliver(http, bridge, "pull_request", payload)).status_code == 202
    event = await user.wait_for_event(room_id, notice_from(BOT, "⚫"))
    assert "Superseded by #12" in event["content"]["body"], event["content"]


async def test_label_bursts_become_one_notice(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    org, repo = f"org{uuid.uuid4().hex[:6]}", "labels"
    room_id = await _connected_room(user, org, repo, includingLabels=["bug"])
    async with httpx.AsyncClient() as http:
        for labels in (["bug"], ["bug", "ui"], ["bug", "ui", "p1"]):
            payload = _payload("issues.labeled.1.json", org, repo)
            payload["issue"]["labels"] = [{"name": n, "color": "d73a4a"} for n in labels]
            payload["label"] = {"name": labels[-1], "color": "d73a4a"}
            assert (await _deliver(http, bridge, "issues", payload)).status_code == 202
    event = await user.wait_for_event(room_id, notice_from(BOT, "🗃"), timeout=20)
    await asyncio.sleep(1.0)
    labelled = [e for e in await user.messages(room_id) if notice_from(BOT, "🗃")(e)]
    assert len(labelled) == 1 and "p1" in event["content"]["body"], event["content"]
