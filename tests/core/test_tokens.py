"""The user token store: hookshot's account-data layout and encryption, both ways."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from hookshot.core.tokens import (
    GITHUB_TOKEN_PREFIX,
    GITHUB_TOKEN_PREFIX_LEGACY,
    GITLAB_TOKEN_PREFIX,
    GITLAB_TOKEN_PREFIX_LEGACY,
    JIRA_TOKEN_PREFIX,
    GitHubToken,
    PassKey,
    TokenError,
    TokenStore,
    generate_pass_file,
    token_event_type,
)
from hookshot.errors import ConfigError
from hookshot.matrix.client import MatrixClient

ALICE = "@alice:example.org"
GITHUB_KEY = GITHUB_TOKEN_PREFIX + ALICE
OPENSSL = shutil.which("openssl")
NODE = shutil.which("node")


class MemoryAccountData:
    """The bot's global account data in a dict; contents go through JSON like on the wire."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        self.writes: list[str] = []

    async def get_account_data(self, event_type: str) -> dict[str, Any] | None:
        found = self.data.get(event_type)
        return json.loads(json.dumps(found)) if found is not None else None

    async def set_account_data(self, event_type: str, content: Mapping[str, Any]) -> None:
        self.data[event_type] = json.loads(json.dumps(content))
        self.writes.append(event_type)


@pytest.fixture(scope="module")
def pass_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 4096-bit passFile, made by our generator (as `openssl genpkey` would)."""
    return generate_pass_file(tmp_path_factory.mktemp("keys") / "passkey.pem")


@pytest.fixture(scope="module")
def private_key(pass_file: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pass_file.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@pytest.fixture(scope="module")
def pass_key(pass_file: Path) -> PassKey:
    # Loading checks the RSA key, which is slow for 4096 bits: once per module.
    return PassKey.load(pass_file)


@pytest.fixture
def backend() -> MemoryAccountData:
    return MemoryAccountData()


@pytest.fixture
def store(backend: MemoryAccountData, pass_key: PassKey) -> TokenStore:
    return TokenStore(backend, pass_key)


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def hookshot_seal(key: rsa.RSAPrivateKey, token: str) -> list[str]:
    """Hookshot 7 (src/tokens/mod.rs), written out independently: 128-byte chunks of the
    UTF-8 bytes, RSA PKCS#1 v1.5 with the public key, standard base64."""
    data = token.encode()
    public = key.public_key()
    return [
        base64.b64encode(public.encrypt(data[i : i + 128], padding.PKCS1v15())).decode()
        for i in range(0, len(data), 128)
    ]


def legacy_seal(key: rsa.RSAPrivateKey, token: str) -> list[str]:
    """Hookshot before 5.3 (Node publicEncrypt default = OAEP/SHA-1), 128-char chunks."""
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    return [
        base64.b64encode(key.public_key().encrypt(token[i : i + 128].encode(), oaep)).decode()
        for i in range(0, len(token), 128)
    ]


# --- the layout -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "instance", "legacy", "expected"),
    [
        ("github", None, False, GITHUB_TOKEN_PREFIX + ALICE),
        ("github", None, True, GITHUB_TOKEN_PREFIX_LEGACY + ALICE),
        (
            "gitlab",
            "https://gitlab.test",
            False,
            GITLAB_TOKEN_PREFIX + "https://gitlab.test" + ALICE,
        ),
        ("gitlab", "https://gl.test", True, GITLAB_TOKEN_PREFIX_LEGACY + "https://gl.test" + ALICE),
        ("jira", None, False, JIRA_TOKEN_PREFIX + ALICE),
        ("jira", "https://jira.test", False, JIRA_TOKEN_PREFIX + ALICE),
    ],
)
def test_event_types_follow_hookshot(
    service: str, instance: str | None, legacy: bool, expected: str
) -> None:
    assert token_event_type(service, ALICE, instance, legacy=legacy) == expected


def test_event_type_refuses_unknown_services_and_instanceless_gitlab() -> None:
    with pytest.raises(ValueError, match="unknown token service"):
        token_event_type("bitbucket", ALICE)
    with pytest.raises(ValueError, match="instance URL"):
        token_event_type("gitlab", ALICE)


async def test_set_writes_hookshot_7_content(
    store: TokenStore, backend: MemoryAccountData, pass_file: Path, private_key: rsa.RSAPrivateKey
) -> None:
    await store.set(ALICE, "github", "ghp_secret")

    content = backend.data[GITHUB_KEY]
    assert set(content) == {"encrypted", "keyId", "algorithm"}
    assert content["algorithm"] == "rsa-pkcs1v15"
    assert content["keyId"] == md5_of(pass_file)
    [part] = content["encrypted"]
    sealed = base64.b64decode(part, validate=True)
    assert len(sealed) == 512  # one 4096-bit RSA block
    assert private_key.decrypt(sealed, padding.PKCS1v15()) == b"ghp_secret"


async def test_round_trip(store: TokenStore) -> None:
    await store.set(ALICE, "github", "ghp_secret")
    assert await store.get(ALICE, "github") == "ghp_secret"
    assert await store.get("@bob:example.org", "github") is None


async def test_instance_is_stored_for_gitlab(store: TokenStore, backend: MemoryAccountData) -> None:
    await store.set(ALICE, "gitlab", "glpat-1", instance="https://gitlab.test")
    content = backend.data[GITLAB_TOKEN_PREFIX + "https://gitlab.test" + ALICE]
    assert content["instance"] == "https://gitlab.test"
    assert await store.get(ALICE, "gitlab", instance="https://gitlab.test") == "glpat-1"
    assert await store.get(ALICE, "gitlab", instance="https://other.test") is None


async def test_long_tokens_are_cut_in_128_byte_parts(
    store: TokenStore, backend: MemoryAccountData, private_key: rsa.RSAPrivateKey
) -> None:
    token = json.dumps({"access_token": "x" * 250, "token_type": "bearer", "note": "é" * 60})
    await store.set(ALICE, "github", token)

    parts = backend.data[GITHUB_KEY]["encrypted"]
    plain = [private_key.decrypt(base64.b64decode(p), padding.PKCS1v15()) for p in parts]
    assert len(parts) >= len(token.encode()) / 128
    assert all(len(p) <= 128 for p in plain)
    # Hookshot decodes each part on its own, so no part may end inside a character.
    assert "".join(p.decode("utf-8") for p in plain) == token
    assert await store.get(ALICE, "github") == token


async def test_small_keys_get_smaller_parts(backend: MemoryAccountData, tmp_path: Path) -> None:
    path = generate_pass_file(tmp_path / "small.pem", bits=1024)
    store = TokenStore(backend, path)
    await store.set(ALICE, "github", "t" * 200)
    assert len(backend.data[GITHUB_KEY]["encrypted"]) == 2  # 117-byte parts
    assert await store.get(ALICE, "github") == "t" * 200


# --- reading what hookshot wrote --------------------------------------------------------------


async def test_reads_a_fixture_sealed_the_hookshot_7_way(
    store: TokenStore, backend: MemoryAccountData, pass_file: Path, private_key: rsa.RSAPrivateKey
) -> None:
    token = json.dumps({"access_token": "gho_" + "a" * 36, "token_type": "bearer"}) * 4
    backend.data[GITHUB_KEY] = {
        "encrypted": hookshot_seal(private_key, token),
        "keyId": md5_of(pass_file),
        "algorithm": "rsa-pkcs1v15",
    }
    assert await store.get(ALICE, "github") == token


async def test_reads_legacy_oaep_without_key_id(
    store: TokenStore, backend: MemoryAccountData, private_key: rsa.RSAPrivateKey
) -> None:
    token = "ghp_" + "b" * 200
    backend.data[GITHUB_KEY] = {"encrypted": legacy_seal(private_key, token)}
    assert await store.get(ALICE, "github") == token


async def test_reads_a_single_string_from_the_oldest_versions(
    store: TokenStore, backend: MemoryAccountData, private_key: rsa.RSAPrivateKey
) -> None:
    [part] = legacy_seal(private_key, "ghp_old")
    backend.data[GITHUB_TOKEN_PREFIX_LEGACY + ALICE] = {"encrypted": part}
    assert await store.get(ALICE, "github") == "ghp_old"


async def test_current_event_type_wins_over_legacy(
    store: TokenStore, backend: MemoryAccountData, private_key: rsa.RSAPrivateKey
) -> None:
    backend.data[GITHUB_TOKEN_PREFIX_LEGACY + ALICE] = {"encrypted": legacy_seal(private_key, "o")}
    await store.set(ALICE, "github", "new")
    assert await store.get(ALICE, "github") == "new"


async def test_a_token_from_another_key_is_refused(
    store: TokenStore, backend: MemoryAccountData, private_key: rsa.RSAPrivateKey
) -> None:
    backend.data[GITHUB_KEY] = {
        "encrypted": hookshot_seal(private_key, "x"),
        "keyId": "0" * 32,
        "algorithm": "rsa-pkcs1v15",
    }
    with pytest.raises(TokenError, match="different passFile key"):
        await store.get(ALICE, "github")


@pytest.mark.parametrize(
    "content",
    [
        {"encrypted": ["not base64!"], "algorithm": "rsa-pkcs1v15"},
        {"encrypted": [base64.b64encode(b"\0" * 512).decode()], "algorithm": "rsa"},
        {"encrypted": ["AAAA"], "algorithm": "rot13"},
        {"encrypted": [1, 2]},
    ],
)
async def test_corrupt_tokens_raise_token_error(
    store: TokenStore, backend: MemoryAccountData, content: dict[str, Any]
) -> None:
    backend.data[GITHUB_KEY] = content
    with pytest.raises(TokenError):
        await store.get(ALICE, "github")


@pytest.mark.parametrize("content", [{}, {"deleted": True}])
async def test_empty_or_deleted_content_is_no_token(
    store: TokenStore, backend: MemoryAccountData, content: dict[str, Any]
) -> None:
    backend.data[GITHUB_KEY] = content
    assert await store.get(ALICE, "github") is None


# --- deleting ---------------------------------------------------------------------------------


async def test_delete_writes_hookshots_marker(
    store: TokenStore, backend: MemoryAccountData
) -> None:
    await store.set(ALICE, "github", "ghp_secret")
    assert await store.delete(ALICE, "github") is True
    assert backend.data[GITHUB_KEY] == {"deleted": True}
    assert await store.get(ALICE, "github") is None
    assert await store.delete(ALICE, "github") is False


async def test_delete_without_token_writes_nothing(
    store: TokenStore, backend: MemoryAccountData
) -> None:
    assert await store.delete(ALICE, "github") is False
    assert backend.writes == []


async def test_delete_hides_a_legacy_token(
    store: TokenStore, backend: MemoryAccountData, private_key: rsa.RSAPrivateKey
) -> None:
    backend.data[GITHUB_TOKEN_PREFIX_LEGACY + ALICE] = {"encrypted": legacy_seal(private_key, "o")}
    assert await store.delete(ALICE, "github") is True
    assert backend.data[GITHUB_KEY] == {"deleted": True}
    assert await store.get(ALICE, "github") is None


# --- the key file -----------------------------------------------------------------------------


def test_generated_pass_file_is_private_pkcs8_rsa_4096(pass_file: Path) -> None:
    assert stat.S_IMODE(pass_file.stat().st_mode) == 0o600
    assert pass_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    key = serialization.load_pem_private_key(pass_file.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 4096


def test_generate_never_overwrites(pass_file: Path) -> None:
    before = pass_file.read_bytes()
    with pytest.raises(FileExistsError):
        generate_pass_file(pass_file)
    assert pass_file.read_bytes() == before


def test_key_id_is_md5_of_the_file_text(pass_file: Path, pass_key: PassKey) -> None:
    assert pass_key.key_id == md5_of(pass_file)


async def test_pkcs1_pem_keys_work_too(
    backend: MemoryAccountData, private_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    # Hookshot accepts "BEGIN RSA PRIVATE KEY" files as well (since 5.3.1).
    path = tmp_path / "pkcs1.pem"
    path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    store = TokenStore(backend, path)
    assert store.key.key_id == md5_of(path)
    await store.set(ALICE, "github", "t")
    assert await store.get(ALICE, "github") == "t"


def test_unusable_key_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        PassKey.load(tmp_path / "nope.pem")
    assert missing.value.key == "passFile"

    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    with pytest.raises(ConfigError, match="PEM private key"):
        PassKey.load(garbage)

    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ConfigError, match="RSA"):
        PassKey.load(ec_key)


# --- cross-checks with other implementations --------------------------------------------------


def run(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl CLI")
async def test_openssl_key_and_ciphertexts(backend: MemoryAccountData, tmp_path: Path) -> None:
    """The documented `openssl genpkey` key, with parts sealed and opened by openssl."""
    assert OPENSSL is not None
    key = tmp_path / "passkey.pem"
    pub = tmp_path / "pub.pem"
    run(
        OPENSSL,
        "genpkey",
        "-out",
        str(key),
        "-outform",
        "PEM",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
    )
    run(OPENSSL, "pkey", "-in", str(key), "-pubout", "-out", str(pub))
    digest = run(OPENSSL, "dgst", "-md5", "-r", str(key)).split()[0].decode()

    token = "gho_" + "z" * 200
    chunks = [token.encode()[i : i + 128] for i in range(0, len(token), 128)]
    sealed = [
        base64.b64encode(
            run(
                OPENSSL,
                "pkeyutl",
                "-encrypt",
                "-pubin",
                "-inkey",
                str(pub),
                "-pkeyopt",
                "rsa_padding_mode:pkcs1",
                data=chunk,
            )
        ).decode()
        for chunk in chunks
    ]
    backend.data[GITHUB_KEY] = {"encrypted": sealed, "keyId": digest, "algorithm": "rsa-pkcs1v15"}
    store = TokenStore(backend, key)
    assert store.key.key_id == digest
    assert await store.get(ALICE, "github") == token

    # And the other way: openssl opens what we seal.
    await store.set(ALICE, "github", token)
    opened = b"".join(
        run(
            OPENSSL,
            "pkeyutl",
            "-decrypt",
            "-inkey",
            str(key),
            "-pkeyopt",
            "rsa_padding_mode:pkcs1",
            data=base64.b64decode(part),
        )
        for part in backend.data[GITHUB_KEY]["encrypted"]
    )
    assert opened.decode() == token

    # Legacy OAEP (openssl's OAEP default digest is SHA-1, like Node's).
    oaep = run(
        OPENSSL,
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        str(pub),
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        data=b"ghp_legacy",
    )
    backend.data[GITHUB_KEY] = {"encrypted": [base64.b64encode(oaep).decode()]}
    assert await store.get(ALICE, "github") == "ghp_legacy"


NODE_LEGACY = """
const crypto = require("crypto");
const fs = require("fs");
const key = fs.readFileSync(process.argv[1]);
const token = process.argv[2];
const parts = [];
for (let rest = token; rest.length > 0; rest = rest.substring(128)) {
  parts.push(crypto.publicEncrypt(key, Buffer.from(rest.slice(0, 128))).toString("base64"));
}
const keyId = crypto.createHash("md5").update(key.toString("utf-8")).digest("hex");
process.stdout.write(JSON.stringify({ encrypted: parts, keyId }));
"""


@pytest.mark.skipif(NODE is None, reason="needs node")
async def test_node_public_encrypt_as_old_hookshot_did(
    store: TokenStore, backend: MemoryAccountData, pass_file: Path
) -> None:
    """Node's publicEncrypt with hookshot's old chunking; its md5 key id matches ours."""
    assert NODE is not None
    token = "ghp_" + "n" * 300
    out = json.loads(run(NODE, "-e", NODE_LEGACY, str(pass_file), token))
    assert out["keyId"] == store.key.key_id
    backend.data[GITHUB_KEY] = {"encrypted": out["encrypted"]}
    assert await store.get(ALICE, "github") == token


async def test_works_over_the_matrix_client(pass_file: Path) -> None:
    """The real homeserver client satisfies the store's protocol; event types are escaped."""
    saved: dict[str, bytes] = {}

    async def handler(request: web.Request) -> web.Response:
        path = request.raw_path
        if request.method == "PUT":
            saved[path] = await request.read()
            return web.json_response({})
        if path in saved:
            return web.Response(body=saved[path])
        return web.json_response({"errcode": "M_NOT_FOUND", "error": "nope"}, status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    client = MatrixClient(str(server.make_url("")), "as_token", "@hookshot:example.org")
    try:
        store = TokenStore(client, pass_file)
        assert await store.get(ALICE, "github") is None
        await store.set(ALICE, "github", "ghp_over_http")
        assert await store.get(ALICE, "github") == "ghp_over_http"
    finally:
        await client.aclose()
        await server.close()
    [path] = saved
    assert path == (
        "/_matrix/client/v3/user/%40hookshot%3Aexample.org/account_data/"
        "uk.half-shot.matrix-hookshot.github.password-store%3A%40alice%3Aexample.org"
    )


# --- the GitHub token's own format ------------------------------------------------------------


def test_github_token_bare_pat() -> None:
    token = GitHubToken.parse("ghp_old_style")
    assert token == GitHubToken(access_token="ghp_old_style", token_type="pat")
    assert token.dumps() == '{"access_token":"ghp_old_style","token_type":"pat"}'


def test_github_token_oauth_round_trip() -> None:
    token = GitHubToken.from_oauth(
        "gho_x",
        "bearer",
        now_ms=1_000_000,
        expires_in=28800,
        refresh_token="ghr_y",
        refresh_token_expires_in=100,
    )
    assert token.expires_at_ms == 1_000_000 + 28_800_000
    assert json.loads(token.dumps()) == {
        "access_token": "gho_x",
        "expires_in": 29_800_000,
        "token_type": "bearer",
        "refresh_token": "ghr_y",
        "refresh_token_expires_in": 1_100_000,
    }
    assert GitHubToken.parse(token.dumps()) == token
    assert not token.expired(now_ms=1_000_001)
    assert token.expired(now_ms=30_000_000)
    assert token.refreshable(now_ms=1_000_001)
    assert not token.refreshable(now_ms=2_000_000)


def test_github_token_malformed_json() -> None:
    with pytest.raises(TokenError):
        GitHubToken.parse("{not json")
    with pytest.raises(TokenError):
        GitHubToken.parse('{"token_type":"pat"}')
