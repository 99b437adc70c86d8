"""GitHub webhooks replayed into the test bridge: corpus payloads moved to a repository of
the test's own, signed as GitHub signs them, and a room bridging such a repository with
threads and CI reactions on."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from hookshot.core.signatures import github_signature
from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess
from support.flows import notice_from
from support.paths import CORPORA

GITHUB_REPO = "uk.half-shot.matrix-hookshot.github.repository"


def payload(file: str, org: str, repo: str) -> dict[str, Any]:
    """A corpus payload (Codertocat/Hello-World, PR #2) moved to `org/repo`."""
    text = (CORPORA / "github" / file).read_text()
    data: dict[str, Any] = json.loads(text.replace("Codertocat/Hello-World", f"{org}/{repo}"))
    return data


async def deliver(
    http: httpx.AsyncClient,
    bridge: BridgeProcess,
    secret: str,
    event: str,
    body_of: dict[str, Any],
) -> None:
    """POST `body_of` as GitHub's `event`, signed with `secret`; the bridge must accept it."""
    body = json.dumps(body_of).encode()
    resp = await http.post(
        bridge.files.webhook_base + "/github/webhook",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": github_signature(secret, body),
        },
    )
    assert resp.status_code == 202, resp.text


async def threaded_repo(user: MatrixUser, room_id: str, bot: str) -> tuple[str, str]:
    """(org, repo) of a new repository bridged into `room_id` with pull requests, comments and
    workflows, threads and CI reactions on; returns once the bot knows the connection."""
    org, repo = f"org{uuid.uuid4().hex[:6]}", "quiet"
    state = {
        "org": org,
        "repo": repo,
        "enableHooks": ["pull_request", "issue.comment", "workflow"],
        "threads": True,
        "ciReactions": True,
    }
    await user.send_state(room_id, GITHUB_REPO, f"{org}/{repo}", state)
    await user.send_text(room_id, "!gh help")
    await user.wait_for_event(room_id, notice_from(bot, f"Commands for {org}/{repo}:"))
    return org, repo
