"""Session fixtures: one real Synapse with three appservice registrations (the main bridge, a
spare one that fault tests start, kill and restart, and a scale-out cluster of role
processes), and the main bridge as a process."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from support.cluster import Cluster
from support.fake_forgejo import FakeForgejo
from support.fake_github import FakeGitHub
from support.fake_gitlab import FakeGitLab

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse, register_user
from hookshot.dev.stack import BridgeFiles, BridgeProcess

if TYPE_CHECKING:
    from redis.asyncio import Redis

GITHUB_SECRET = "test-github-secret"
GITHUB_APP_ID = 4242
GITHUB_CLIENT = ("hookshot-client-id", "hookshot-client-secret")
GITLAB_SECRET = "test-gitlab-secret"
GITLAB_INSTANCE, GITLAB_URL = "test", "https://gitlab.test"
GITLAB_DEBOUNCE_MS = 1500
FORGEJO_SECRET = "test-forgejo-secret"
# The main bridge's Forgejo instances: a fake REST API, and the hosts of the replayed corpus.
FORGEJO_INSTANCES = {"trygitea": "http://try.gitea.io", "giteacom": "https://gitea.com"}
SPARE_ADMIN = "spare-admin"
# The spare bridge: everyone on the server may use commands, one user may manage connections.
SPARE_PERMISSIONS = [
    {"actor": "localhost", "services": [{"service": "*", "level": "commands"}]},
    {"actor": f"@{SPARE_ADMIN}:localhost", "services": [{"service": "*", "level": "admin"}]},
]
CLUSTER_BOT = "@hookshot_cluster:localhost"
# CI starts this Redis; an unreachable one fails the Redis tests instead of skipping them.
REDIS_URL = os.environ.get("HOOKSHOT_TEST_REDIS", "redis://127.0.0.1:6379/0")
ARTIFACTS = Path(os.environ.get("HOOKSHOT_TEST_ARTIFACTS", "test-artifacts"))


@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def main_files(stack_dir: Path) -> BridgeFiles:
    return BridgeFiles(stack_dir / "bridge")


@pytest.fixture(scope="session")
def spare_files(stack_dir: Path) -> BridgeFiles:
    return BridgeFiles(
        stack_dir / "spare", appservice_id="hookshot-spare", sender_localpart="hookshot_spare"
    )


@pytest.fixture(scope="session")
def cluster_files(stack_dir: Path) -> BridgeFiles:
    return BridgeFiles(
        stack_dir / "cluster", appservice_id="hookshot-cluster", sender_localpart="hookshot_cluster"
    )


@pytest.fixture(scope="session")
def fake_github() -> Iterator[FakeGitHub]:
    """A GitHub REST API on loopback; the main bridge's `github.enterpriseUrl` points here."""
    with FakeGitHub() as gh:
        yield gh


@pytest.fixture(scope="session")
def fake_gitlab() -> Iterator[FakeGitLab]:
    """A GitLab REST API on loopback: the main bridge's `gitlab.instances.fake`."""
    with FakeGitLab() as gl:
        yield gl


@pytest.fixture(scope="session")
def fake_forgejo() -> Iterator[FakeForgejo]:
    """A Forgejo REST API on loopback: the main bridge's `forgejo.instances.fake`."""
    with FakeForgejo() as fj:
        yield fj


@pytest.fixture(scope="session")
def synapse(
    stack_dir: Path,
    main_files: BridgeFiles,
    spare_files: BridgeFiles,
    cluster_files: BridgeFiles,
    fake_github: FakeGitHub,
    fake_gitlab: FakeGitLab,
    fake_forgejo: FakeForgejo,
) -> Iterator[LocalSynapse]:
    hs = LocalSynapse(
        stack_dir / "synapse",
        app_service_config_files=[
            main_files.registration_path,
            spare_files.registration_path,
            cluster_files.registration_path,
        ],
    )
    app_key = stack_dir / "github-app.pem"
    app_key.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    fake_github.add_app(GITHUB_APP_ID, app_key.read_bytes())
    fake_github.add_oauth_app(
        *GITHUB_CLIENT, redirect_uri=f"{main_files.webhook_base}/github/oauth"
    )
    # Registrations must exist before Synapse reads them at start.
    # A github section switches GitHub repository connections on (webhooks need no app).
    main_files.write(
        hs.base_url,
        generic={
            "allowJsTransformationFunctions": True,
            "outbound": True,
            # The test receivers listen on loopback, which outbound hooks refuse by default.
            "outboundAllowPrivateTargets": True,
        },
        extra={
            "github": {
                "webhook": {"secret": GITHUB_SECRET},
                "enterpriseUrl": fake_github.url,
                "auth": {"id": GITHUB_APP_ID, "privateKeyFile": str(app_key)},
                "oauth": {
                    "client_id": GITHUB_CLIENT[0],
                    "client_secret": GITHUB_CLIENT[1],
                    "redirect_uri": f"{main_files.webhook_base}/github/oauth",
                },
            },
            "gitlab": {
                "instances": {
                    GITLAB_INSTANCE: {"url": GITLAB_URL},
                    "fake": {"url": fake_gitlab.url},
                },
                "webhook": {
                    "secret": GITLAB_SECRET,
                    "publicUrl": f"{main_files.webhook_base}/gitlab/webhook",
                },
                "commentDebounceMs": GITLAB_DEBOUNCE_MS,
            },
            # Feeds read every second; the test feeds are served on loopback.
            "feeds": {"enabled": True, "pollIntervalSeconds": 1, "allowPrivateTargets": True},
            "forgejo": {
                "webhook": {"secret": FORGEJO_SECRET},
                "instances": {
                    "fake": {"url": fake_forgejo.url},
                    **{name: {"url": url} for name, url in FORGEJO_INSTANCES.items()},
                },
            },
        },
    )
    spare_files.write(
        hs.base_url,
        generic={"userIdPrefix": "_sparehooks_"},
        extra={"permissions": SPARE_PERMISSIONS},
    )
    cluster_files.write(
        hs.base_url,
        # The fault tests post (and retry) hundreds per hook: rate limits have their own tests.
        generic={
            "userIdPrefix": "_clusterhooks_",
            "waitForComplete": False,
            "rateLimit": {"perSecond": 0},
        },
    )
    hs.start()
    yield hs
    hs.stop()
    _keep_log(hs.log_path, "synapse.log")


@pytest.fixture(scope="session")
def bridge(synapse: LocalSynapse, main_files: BridgeFiles) -> Iterator[BridgeProcess]:
    proc = BridgeProcess(main_files)
    proc.start()
    yield proc
    proc.stop()
    _keep_log(proc.log_path, "bridge.log")


def _keep_log(path: Path, name: str) -> None:
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / name).write_bytes(path.read_bytes())
    except OSError:
        pass


@pytest.fixture(scope="session")
def spare_bridge(synapse: LocalSynapse, spare_files: BridgeFiles) -> Iterator[BridgeProcess]:
    """A second bridge with strict permissions; fault tests kill and restart it."""
    proc = BridgeProcess(spare_files)
    proc.start()
    yield proc
    proc.stop()
    _keep_log(proc.log_path, "spare-bridge.log")


@pytest.fixture(scope="session")
def cluster(synapse: LocalSynapse, cluster_files: BridgeFiles) -> Iterator[Cluster]:
    """2 webhooks + 1 bridge + 2 sender processes sharing the machine's Redis."""
    group = Cluster(cluster_files)
    group.start(REDIS_URL)
    yield group
    group.stop()
    for name, path in group.logs().items():
        _keep_log(path, f"cluster-{name}.log")


@pytest.fixture(scope="session")
def spare_admin_login(synapse: LocalSynapse) -> tuple[str, str]:
    """The one user the spare bridge lets manage connections: (user_id, token)."""
    return register_user(synapse.base_url, synapse.shared_secret, SPARE_ADMIN, "spare-password")


UserFactory = Callable[[], Awaitable[MatrixUser]]


@pytest.fixture
async def new_user(synapse: LocalSynapse) -> AsyncIterator[UserFactory]:
    """Registers fresh users on the real homeserver; closes their clients afterwards."""
    made: list[MatrixUser] = []

    async def make() -> MatrixUser:
        user = await MatrixUser.create(synapse.base_url, synapse.shared_secret)
        made.append(user)
        return user

    yield make
    for user in made:
        await user.aclose()


@contextlib.asynccontextmanager
async def redis_prefix() -> AsyncIterator[str]:
    """A fresh key prefix on the test Redis; every key under it is deleted afterwards."""
    from redis.asyncio import Redis

    prefix = f"hookshot-test:{secrets.token_hex(6)}:"
    try:
        yield prefix
    finally:
        client = Redis.from_url(REDIS_URL)
        try:
            keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Redis, str]]:
    """A client of the test Redis (replies decoded) and a key prefix of the test's own, whose
    keys are deleted afterwards."""
    from redis.asyncio import Redis

    async with redis_prefix() as prefix:
        client = Redis.from_url(REDIS_URL, decode_responses=True)
        try:
            yield client, prefix
        finally:
            await client.aclose()
