"""Forgejo/Gitea end to end: real deliveries (tests/corpora/forgejo) signed and posted to the
running bridge, read back from the rooms of a real Synapse; the commands against a fake of
Forgejo's REST API."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
from conftest import FORGEJO_INSTANCES, FORGEJO_SECRET, UserFactory
from support.fake_forgejo import FakeForgejo
from support.flows import command, notice_from, room_with_bot
from support.paths import CORPORA

from hookshot.dev.client import MatrixUser
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
FORGEJO = "org.hookshot-python.forgejo.repository"
CORPUS = CORPORA / "forgejo"
# The ten deliveries of one Gitea repository (try.gitea.io's gogits/hello-world).
HELLO_WORLD = [
    "create.branch.1",
    "create.tag.1",
    "delete.branch.1",
    "delete.tag.1",
    "issues.opened.1",
    "issue_comment.created.1",
    "issue_comment.edited.1",
    "pull_request_comment.created.1",
    "issues.closed.1",
    "push.branch.1",
]


def _delivery(name: str, owner: str, *, instance: str = "trygitea") -> tuple[dict[str, str], bytes]:
    """A corpus delivery moved to repository `owner/hello-world` (so tests do not see each
    other's rooms) with a fresh delivery id, signed with the bridge's secret."""
    headers: dict[str, str] = json.loads((CORPUS / f"{name}.headers.json").read_text())
    body: dict[str, Any] = json.loads((CORPUS / f"{name}.json").read_text())
    base = FORGEJO_INSTANCES[instance]
    repo = body["repository"]
    repo["full_name"] = f"{owner}/{repo['name']}"
    repo["html_url"] = f"{base}/{owner}/{repo['name']}"
    delivery = str(uuid.uuid4())
    headers = {k: (delivery if k.lower().endswith("-delivery") else v) for k, v in headers.items()}
    raw = json.dumps(body).encode()
    headers["X-Gitea-Signature"] = hmac.new(
        FORGEJO_SECRET.encode(), raw, hashlib.sha256
    ).hexdigest()
    return headers, raw


async def _post(
    http: httpx.AsyncClient, bridge: BridgeProcess, headers: dict[str, str], raw: bytes
) -> httpx.Response:
    return await http.post(
        f"{bridge.files.webhook_base}/forgejo/webhook", content=raw, headers=headers
    )


async def _room(user: MatrixUser, owner: str, **state: Any) -> str:
    room_id = await room_with_bot(user, BOT)
    content = {"instance": "trygitea", "owner": owner, "repo": "hello-world", **state}
    await user.send_state(room_id, FORGEJO, f"trygitea/{owner}/hello-world", content)
    return room_id


async def _notices(user: MatrixUser, room_id: str) -> list[str]:
    return [
        str(e["content"]["body"])
        for e in await user.messages(room_id)
        if e.get("sender") == BOT and e.get("type") == "m.room.message"
    ]


async def test_deliveries_reach_each_room_as_it_asked(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    owner = f"o{uuid.uuid4().hex[:8]}"
    everything = await _room(user, owner, enableHooks=["push", "ref", "issue", "issue.comment"])
    defaults = await _room(user, owner)
    async with httpx.AsyncClient(timeout=30) as http:
        for name in HELLO_WORLD:
            headers, raw = _delivery(name, owner)
            resp = await _post(http, bridge, headers, raw)
            assert resp.status_code == 202, (name, resp.text)
        # The last one was a push: once it is in, every earlier one was handled (one repository
        # is one partition, in order).
        await user.wait_for_event(everything, notice_from(BOT, "**unknwon** pushed [1 commit]"))
    got = await _notices(user, everything)
    full = f"{owner}/hello-world"
    site, old = f"http://try.gitea.io/{full}", "http://try.gitea.io/gogits/hello-world"
    compare = "9836a96a253cce25d17988fcf41b8c4205cf779f...4522cbcefc20728a5b72b3a86af35e608622c514"
    assert [text.split("\n")[0] for text in got] == [
        f"**unknwon** created branch `feature` in {full}",
        f"**unknwon** created tag `v1.0.0` in {full}",
        f"**unknwon** deleted branch `feature` in {full}",
        f"**unknwon** deleted tag `v1.0.0` in {full}",
        f'📥 **unknwon** created new issue [{full}#1]({site}/issues/1): "Problem"',
        f"🗣 **unknwon** [commented]({old}/issues/1#issuecomment-43) on [{full}#1]({site}/issues/1)",
        f"🗣 **unknwon** [commented]({old}/pulls/2#issuecomment-45) on [{full}#2]({site}/pulls/2)",
        f'⬛ **unknwon** closed issue [{full}#1]({site}/issues/1): "Problem"',
        f"**unknwon** pushed [1 commit]({old}/compare/{compare}) to `master` for {full}",
    ]
    # Defaults: issues and comments, no pushes or branch/tag changes.
    quiet = await _notices(user, defaults)
    assert [text.split()[0] for text in quiet] == ["📥", "🗣", "🗣", "⬛"], quiet


async def test_a_redelivery_is_not_posted_twice(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    owner = f"o{uuid.uuid4().hex[:8]}"
    room_id = await _room(user, owner)
    headers, raw = _delivery("issues.opened.1", owner)
    async with httpx.AsyncClient(timeout=30) as http:
        assert (await _post(http, bridge, headers, raw)).status_code == 202
        again = await _post(http, bridge, headers, raw)
        assert again.status_code == 200 and again.json() == {"ok": True, "duplicate": True}
        closing, raw2 = _delivery("issues.closed.1", owner)
        assert (await _post(http, bridge, closing, raw2)).status_code == 202
    await user.wait_for_event(room_id, notice_from(BOT, "⬛"))
    assert [t.split()[0] for t in await _notices(user, room_id)] == ["📥", "⬛"]


async def test_bad_deliveries_are_refused_and_nothing_is_posted(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    owner = f"o{uuid.uuid4().hex[:8]}"
    room_id = await _room(user, owner)
    headers, raw = _delivery("issues.opened.1", owner)
    unsigned = {k: v for k, v in headers.items() if k != "X-Gitea-Signature"}
    no_event = {k: v for k, v in headers.items() if not k.lower().endswith("-event")}
    no_id = {k: v for k, v in headers.items() if not k.lower().endswith("-delivery")}
    forged = raw.replace(b"Problem", b"<script>alert(1)</script>")
    not_json = b"not json"
    sig = hmac.new(FORGEJO_SECRET.encode(), not_json, hashlib.sha256).hexdigest()
    cases = [
        ({**headers, "X-Gitea-Signature": "0" * 64}, raw, 401, "Invalid signature"),
        (unsigned, raw, 401, "Missing X-Forgejo-Signature or X-Gitea-Signature header"),
        (no_event, raw, 400, "Missing X-Forgejo-Event or X-Gitea-Event header"),
        (no_id, raw, 400, "Missing X-Forgejo-Delivery or X-Gitea-Delivery header"),
        (headers, forged, 401, "Invalid signature"),
        ({**headers, "X-Gitea-Signature": sig}, not_json, 400, "Invalid JSON"),
    ]
    async with httpx.AsyncClient(timeout=30) as http:
        for case_headers, body, status, error in cases:
            resp = await _post(http, bridge, case_headers, body)
            assert (resp.status_code, resp.json()) == (status, {"ok": False, "error": error})
        # Only now the real one: it must be the only notice in the room.
        assert (await _post(http, bridge, headers, raw)).status_code == 202
    await user.wait_for_event(room_id, notice_from(BOT, "📥"))
    assert len(await _notices(user, room_id)) == 1


async def test_branch_and_label_filters(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    owner = f"o{uuid.uuid4().hex[:8]}"
    features = await _room(user, owner, enableHooks=["push", "ref"], branches=["feat*"])
    labelled = await _room(user, owner, enableHooks=["issue"], includingLabels=["bug"])
    async with httpx.AsyncClient(timeout=30) as http:
        for name in ("push.branch.1", "create.tag.1", "create.branch.1", "issues.opened.1"):
            headers, raw = _delivery(name, owner)
            assert (await _post(http, bridge, headers, raw)).status_code == 202
        marker, raw = _delivery("delete.branch.1", owner)
        assert (await _post(http, bridge, marker, raw)).status_code == 202
    await user.wait_for_event(features, notice_from(BOT, "**unknwon** deleted branch `feature`"))
    # The push to master is filtered out; tags are not branches, so the filter lets them by.
    assert [t.split(" ")[1] for t in await _notices(user, features)] == [
        "created",
        "created",
        "deleted",
    ]
    # issues.opened.1 has no labels, so a room that wants `bug` hears nothing.
    assert await _notices(user, labelled) == []


async def test_state_naming_an_unknown_instance_is_refused(
    bridge: BridgeProcess, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    content = {"instance": "nowhere", "owner": "o", "repo": "r"}
    await user.send_state(room_id, FORGEJO, "nowhere/o/r", content)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Invalid forgejo_repo connection `nowhere/o/r`: Instance name")
    )


async def test_setup_and_issue_commands(
    bridge: BridgeProcess, fake_forgejo: FakeForgejo, new_user: UserFactory
) -> None:
    user = await new_user()
    login = f"u{uuid.uuid4().hex[:6]}"
    token = fake_forgejo.add_user(login).token
    repo = fake_forgejo.add_repo(login, "widgets", pushers={login})
    fake_forgejo.add_repo(login, "read-only", pushers=set())
    room_id = await room_with_bot(user, BOT)
    url = f"{fake_forgejo.url}/{login}/widgets"

    await command(user, room_id, f"!hookshot forgejo repo {url}", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: You have no token")
    )

    await user.send_text(room_id, "!hookshot help")
    await user.wait_for_event(room_id, lambda e: "forgejo repo" in str(e["content"].get("body")))

    dm = await user.create_room(
        invite=[BOT], is_direct=True, power_level_content_override={"users": {BOT: 50}}
    )
    await user.wait_for_event(dm, notice_from(BOT, "Hello!"))
    await command(user, dm, f"forgejo personaltoken fake {token}")
    await user.wait_for_event(dm, notice_from(BOT, f"Connected as {login} on fake. Token stored."))
    secret_left = [e for e in await user.messages(dm) if token in json.dumps(e.get("content", {}))]
    assert secret_left == []  # the command holding the token was redacted

    await command(
        user, room_id, f"!hookshot forgejo repo {fake_forgejo.url}/{login}/read-only", ok=False
    )
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: You must at least have write")
    )
    await command(user, room_id, f"!hookshot forgejo repo {url}")
    await user.wait_for_event(
        room_id, notice_from(BOT, f"Room configured to bridge {login}/widgets")
    )
    key = f"fake/{login}/widgets".lower()
    assert await user.get_state(room_id, FORGEJO, key) == {
        "instance": "fake",
        "owner": login,
        "repo": "widgets",
    }

    await command(user, room_id, '!forgejo create "Flaky test" "Fails on Tuesdays"')
    await user.wait_for_event(room_id, notice_from(BOT, "Created issue [#1]"))
    assert (repo.issues[1].title, repo.issues[1].body) == ("Flaky test", "Fails on Tuesdays")
    await command(user, room_id, '!forgejo close 1 "Fixed by retrying"')
    assert repo.issues[1].state == "closed" and repo.issues[1].comments == ["Fixed by retrying"]
    await command(user, room_id, "!forgejo close abc", ok=False)
    assert all(
        r.headers.get("authorization") == f"token {token}" for r in fake_forgejo.requests[-4:]
    )

    # `threads on` after the URL switches the connection the room already has.
    await command(user, room_id, f"!hookshot forgejo repo {url} threads maybe", ok=False)
    await user.wait_for_event(
        room_id, notice_from(BOT, "Failed to handle command: Say `threads on` or `threads off`.")
    )
    await command(user, room_id, f"!hookshot forgejo repo {url} threads on")
    await user.wait_for_event(
        room_id, notice_from(BOT, f"Room configured to bridge {login}/widgets with threads on.")
    )
    state = await user.get_state(room_id, FORGEJO, key)
    assert state is not None and state["threads"] is True
    assert (state["owner"], state["repo"]) == (login, "widgets")
