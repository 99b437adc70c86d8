"""No secret reaches the log: a bridge logging at debug with access lines on runs the flows
that make secrets (a webhook and its URL, its secret, a failing transformation, tokens for
GitHub, GitLab and Forgejo, a GitHub OAuth login, an outbound hook, a widget session), then
its captured log is searched for every secret the run created or configured.

Its own Synapse, because the bridge's config (debug, access lines, its own OAuth client) is
its own; GitHub, GitLab and Forgejo are the session's local fakes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from support.fake_forgejo import FakeForgejo
from support.fake_github import FakeGitHub
from support.fake_gitlab import FakeGitLab
from support.flows import admin_room, command, create_webhook, notice_from, room_with_bot
from support.receiver import Receiver

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeFiles, BridgeProcess
from hookshot.ops.config_secrets import key_file_lines

BOT = "@hookshot:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
OAUTH = ("redaction-client-id", "redaction-client-secret-value")
WEBHOOK_SECRETS = {
    "github": "redaction-github-webhook-secret",
    "gitlab": "redaction-gitlab-webhook-secret",
    "forgejo": "redaction-forgejo-webhook-secret",
}
FAILED = "Webhook received but failed to process via transformation function"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> BridgeFiles:
    return BridgeFiles(tmp_path_factory.mktemp("redaction") / "bridge")


@pytest.fixture(scope="module")
def hs(
    files: BridgeFiles,
    fake_github: FakeGitHub,
    fake_gitlab: FakeGitLab,
    fake_forgejo: FakeForgejo,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LocalSynapse]:
    server = LocalSynapse(
        tmp_path_factory.mktemp("redaction-hs"), app_service_config_files=[files.registration_path]
    )
    redirect = f"{files.webhook_base}/github/oauth"
    fake_github.add_oauth_app(*OAUTH, redirect_uri=redirect, expiring=True)
    files.write(
        server.base_url,
        generic={
            "allowJsTransformationFunctions": True,
            "outbound": True,
            "outboundAllowPrivateTargets": True,
        },
        extra={
            "logging": {"level": "debug", "accessLog": True},
            "github": {
                "webhook": {"secret": WEBHOOK_SECRETS["github"]},
                "enterpriseUrl": fake_github.url,
                "oauth": {
                    "client_id": OAUTH[0],
                    "client_secret": OAUTH[1],
                    "redirect_uri": redirect,
                },
            },
            "gitlab": {
                "instances": {"fake": {"url": fake_gitlab.url}},
                "webhook": {"secret": WEBHOOK_SECRETS["gitlab"]},
            },
            "forgejo": {
                "webhook": {"secret": WEBHOOK_SECRETS["forgejo"]},
                "instances": {"fake": {"url": fake_forgejo.url}},
            },
        },
    )
    with server:
        yield server


async def _until(check: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _webhook_flows(
    user: MatrixUser, http: httpx.AsyncClient, base: str, found: dict[str, str]
) -> None:
    """A hook used by its URL and at the root, an unknown hook, a failing transformation,
    and a hook secret."""
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "leaky")
    found["hook id"] = hook_id = url.rsplit("/", 1)[1]
    assert (await http.post(url, json={"text": "via the URL"})).status_code in (200, 202)
    legacy = await http.post(f"{base}/{hook_id}", json={"text": "via the root"})
    assert legacy.status_code in (200, 202)
    for body in ("via the URL", "via the root"):
        await user.wait_for_event(room_id, lambda e, b=body: e["content"].get("body") == b)
    found["unknown hook id"] = unknown = str(uuid.uuid4())
    assert (await http.post(f"{base}/webhook/{unknown}", json={})).status_code == 404

    # The transformation's failure is logged with the hook id (a value, not a URL path).
    current = await user.get_state(room_id, HOOK, "leaky")
    assert current is not None
    await user.send_state(
        room_id, HOOK, "leaky", {**current, "transformationFunction": "throw 'boom'"}
    )
    await user.send_text(room_id, "!hookshot webhook list")
    await user.wait_for_event(room_id, notice_from(BOT, "Webhooks configured:"))
    assert (await http.post(url, json={"text": "fails"})).status_code in (200, 202)
    await user.wait_for_event(room_id, lambda e: e["content"].get("body") == FAILED)

    await command(user, room_id, "!hookshot webhook secret leaky")
    dm = await admin_room(user, BOT)
    notice = await user.wait_for_event(dm, notice_from(BOT, 'The webhook "leaky" now requires'))
    found["hook secret"] = secret = notice["content"]["body"].splitlines()[1]
    signed = await http.post(
        url, json={"text": "signed"}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert signed.status_code in (200, 202)


async def _token_flows(
    user: MatrixUser,
    http: httpx.AsyncClient,
    fakes: tuple[FakeGitHub, FakeGitLab, FakeForgejo],
    found: dict[str, str],
) -> None:
    """Personal tokens for GitHub, GitLab and Forgejo, then a GitHub OAuth login."""
    github, gitlab, forgejo = fakes
    dm = await admin_room(user, BOT)
    login = f"red{uuid.uuid4().hex[:6]}"
    found["GitHub token"] = github.add_user(login).token
    await command(user, dm, f"github setpersonaltoken {found['GitHub token']}")
    await user.wait_for_event(dm, notice_from(BOT, f"Connected as {login}. Token stored."))
    found["GitLab token"] = gitlab.add_user(login).token
    await command(user, dm, f"gitlab personaltoken fake {found['GitLab token']}")
    await user.wait_for_event(dm, notice_from(BOT, f"Connected as {login}. Token stored."))
    found["Forgejo token"] = forgejo.add_user(login).token
    await command(user, dm, f"forgejo personaltoken fake {found['Forgejo token']}")
    await user.wait_for_event(dm, notice_from(BOT, f"Connected as {login} on fake."))

    oauth_login = f"oauth{uuid.uuid4().hex[:6]}"
    github.add_user(oauth_login)
    await command(user, dm, "github login")
    prompt = await user.wait_for_event(dm, notice_from(BOT, "Open "))
    page = await http.get(
        prompt["content"]["body"].split()[1] + f"&login={oauth_login}", follow_redirects=True
    )
    assert page.status_code == 200 and f"Logged in as {oauth_login}" in page.text, page.text
    query = parse_qs(urlsplit(str(page.url)).query)
    found["OAuth code"], found["OAuth state"] = query["code"][0], query["state"][0]
    await user.wait_for_event(
        dm, notice_from(BOT, f"You are now logged into GitHub as {oauth_login}")
    )
    await command(user, dm, "github status")  # reads the stored OAuth token back
    await user.wait_for_event(dm, notice_from(BOT, f"You are logged in as {oauth_login}."))
    # GitHub's user tokens from OAuth: gho_, or ghu_ when they expire (this app's do).
    sent = {r.token for r in github.requests if r.token and r.token.startswith(("gho_", "ghu_"))}
    assert sent, "the bridge never used its OAuth token"
    for i, token in enumerate(sorted(sent)):
        found[f"OAuth token {i}"] = token


async def _outbound_and_widget_flows(
    user: MatrixUser, http: httpx.AsyncClient, base: str, found: dict[str, str]
) -> None:
    room_id = await room_with_bot(user, BOT)
    with Receiver() as receiver:
        await command(user, room_id, f"!hookshot outbound-hook relay {receiver.url}")
        dm = await admin_room(user, BOT)
        notice = await user.wait_for_event(
            dm, notice_from(BOT, 'You have bridged the webhook "relay"')
        )
        found["outbound token"] = notice["content"]["body"].split("`")[1]
        await user.send_text(room_id, "to the receiver")
        await _until(lambda: receiver.requests, "the outbound request")

    openid = await user.openid_token()
    found["OpenID token"] = openid["access_token"]
    exchanged = await http.post(
        f"{base}/widgetapi/v1/exchange_openid",
        json={"matrixServer": openid["matrix_server_name"], "openIdToken": openid["access_token"]},
    )
    assert exchanged.status_code == 200, exchanged.text
    found["widget session token"] = token = exchanged.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (await http.get(f"{base}/widgetapi/v1/session", headers=auth)).status_code == 200
    listed = await http.get(f"{base}/widgetapi/v1/{room_id}/connections", headers=auth)
    assert listed.status_code == 200, listed.text


def _configured_secrets(files: BridgeFiles) -> dict[str, str]:
    registration = yaml.safe_load(files.registration_path.read_text())
    config = yaml.safe_load(files.config_path.read_text())
    found = {
        "as_token": registration["as_token"],
        "hs_token": registration["hs_token"],
        "OAuth client secret": OAUTH[1],
        **{f"{name} webhook secret": value for name, value in WEBHOOK_SECRETS.items()},
    }
    lines = key_file_lines(Path(config["passFile"]).read_text())
    assert len(lines) > 10
    found.update({f"passFile line {i}": line for i, line in enumerate(lines)})
    return found


async def test_no_secret_the_flows_created_reaches_the_debug_log(
    hs: LocalSynapse,
    files: BridgeFiles,
    fake_github: FakeGitHub,
    fake_gitlab: FakeGitLab,
    fake_forgejo: FakeForgejo,
) -> None:
    log_path = files.root / f"redaction-{uuid.uuid4().hex[:6]}.log"
    proc = BridgeProcess(files, log_path)
    proc.start()
    found = _configured_secrets(files)
    try:
        async with (
            await MatrixUser.create(hs.base_url, hs.shared_secret) as user,
            httpx.AsyncClient() as http,
        ):
            base = files.webhook_base
            await _webhook_flows(user, http, base, found)
            await _token_flows(user, http, (fake_github, fake_gitlab, fake_forgejo), found)
            await _outbound_and_widget_flows(user, http, base, found)
    finally:
        assert proc.stop() == 0, proc.tail()
    log = log_path.read_text()

    leaks = sorted(name for name, value in found.items() if value in log)
    assert not leaks, f"in the log: {leaks}"
    # The log said something at debug, and said it where the secrets were.
    lines = log.splitlines()
    assert len(lines) > 50 and any(" DEBUG " in line for line in lines)
    assert any('"POST /webhook/<redacted> HTTP/1.1" 20' in line for line in lines)
    assert any('"POST /<redacted> HTTP/1.1" 20' in line for line in lines)
    assert any('"POST /webhook/<redacted> HTTP/1.1" 404' in line for line in lines)
    assert any("webhook <redacted>: transformation failed" in line for line in lines)
    assert any("/github/oauth?code=<redacted>&state=<redacted> HTTP" in line for line in lines)
