"""Users' service tokens, kept where and how matrix-hookshot keeps them.

Each token lives in the bot's *global* account data, one event type per user and service:

    uk.half-shot.matrix-hookshot.github.password-store:@alice:example.org
    uk.half-shot.matrix-hookshot.gitlab.password-store:https://gitlab.example.org@alice:example.org
    uk.half-shot.matrix-hookshot.jira.password-store:@alice:example.org

with content ``{"encrypted": [b64, ...], "keyId": md5hex, "algorithm": "rsa-pkcs1v15",
"instance"?: url}``. The token's UTF-8 bytes are cut into parts of at most 128 bytes and each
part is RSA-encrypted with the public half of the `passFile` key (PKCS#1 v1.5) and base64ed.
`keyId` is the MD5 hex of the key file's text, so a token sealed with another key is refused.

Older hookshots wrote no `keyId`/`algorithm` and used Node's default RSA-OAEP (SHA-1), and
even older ones used `uk.half-shot.matrix-github.*` event types: both are still read. A removed
token is overwritten with ``{"deleted": true}`` (account data cannot be deleted).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from hookshot.errors import CommandError, ConfigError
from hookshot.ops.redaction import register_secret

# --- wire names -------------------------------------------------------------------------------

GITHUB_TOKEN_PREFIX: Final = "uk.half-shot.matrix-hookshot.github.password-store:"
GITLAB_TOKEN_PREFIX: Final = "uk.half-shot.matrix-hookshot.gitlab.password-store:"
JIRA_TOKEN_PREFIX: Final = "uk.half-shot.matrix-hookshot.jira.password-store:"
GITHUB_TOKEN_PREFIX_LEGACY: Final = "uk.half-shot.matrix-github.password-store:"
GITLAB_TOKEN_PREFIX_LEGACY: Final = "uk.half-shot.matrix-github.gitlab.password-store:"

# Content keys and values of a stored token.
ENCRYPTED_KEY: Final = "encrypted"
KEY_ID_KEY: Final = "keyId"
ALGORITHM_KEY: Final = "algorithm"
INSTANCE_KEY: Final = "instance"
DELETED_KEY: Final = "deleted"
ALGORITHM_PKCS1V15: Final = "rsa-pkcs1v15"
# What hookshot calls plain "rsa" is Node's publicEncrypt default: OAEP with SHA-1.
ALGORITHM_OAEP: Final = "rsa"

SERVICES: Final = ("github", "gitlab", "jira")
# Hookshot's part size; a smaller key gets smaller parts (hookshot reads any part size).
MAX_TOKEN_PART_SIZE: Final = 128
_PKCS1V15_OVERHEAD: Final = 11


class TokenError(CommandError):
    """A stored token exists but cannot be read (other key, corrupt data); log in again."""


class AccountDataClient(Protocol):
    """The two homeserver calls the store needs (the bot's global account data)."""

    async def get_account_data(self, event_type: str) -> dict[str, Any] | None: ...

    async def set_account_data(self, event_type: str, content: Mapping[str, Any]) -> None: ...


# --- the key ----------------------------------------------------------------------------------


class PassKey:
    """The RSA key in `passFile` that seals tokens, with hookshot's key id."""

    def __init__(self, pem: bytes, *, source: str = "passFile") -> None:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as err:
            raise ConfigError(source, f"is not an unencrypted PEM private key ({err})") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError(source, "must hold an RSA private key")
        self._key = key
        # Hookshot hashes the file read as UTF-8 text (Node replaces invalid bytes with U+FFFD).
        text = pem.decode("utf-8", errors="replace")
        self.key_id = hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()

    @classmethod
    def load(cls, path: str | Path) -> PassKey:
        """Read the key file; a missing or unusable file is a `ConfigError` on `passFile`."""
        try:
            pem = Path(path).read_bytes()
        except OSError as err:
            raise ConfigError("passFile", f"cannot read {path}: {err.strerror}") from None
        return cls(pem)

    @property
    def part_size(self) -> int:
        return min(MAX_TOKEN_PART_SIZE, self._key.key_size // 8 - _PKCS1V15_OVERHEAD)

    def encrypt(self, token: str) -> list[str]:
        """Hookshot's current sealing: ≤128-byte parts, RSA PKCS#1 v1.5, base64."""
        public = self._key.public_key()
        return [
            base64.b64encode(public.encrypt(part, padding.PKCS1v15())).decode("ascii")
            for part in _utf8_parts(token, self.part_size)
        ]

    def decrypt(self, parts: list[str], algorithm: str = ALGORITHM_PKCS1V15) -> str:
        """Open parts sealed with `algorithm` ("rsa-pkcs1v15", or legacy "rsa" = OAEP/SHA-1)."""
        if algorithm == ALGORITHM_PKCS1V15:
            pad: padding.AsymmetricPadding = padding.PKCS1v15()
        elif algorithm == ALGORITHM_OAEP:
            pad = padding.OAEP(
                mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None
            )
        else:
            raise TokenError(f"Unknown token encryption algorithm {algorithm!r}.")
        plain = bytearray()
        for part in parts:
            try:
                plain += self._key.decrypt(base64.b64decode(part, validate=True), pad)
            except (ValueError, binascii.Error):
                raise TokenError("A stored token could not be decrypted with passFile.") from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise TokenError("A stored token decrypted to invalid text.") from None


def _utf8_parts(text: str, size: int) -> list[bytes]:
    """UTF-8 bytes in parts of at most `size`, never splitting a character (hookshot decodes
    each part on its own)."""
    data = text.encode("utf-8")
    parts: list[bytes] = []
    start = 0
    while start < len(data):
        end = min(start + size, len(data))
        # Back off continuation bytes (10xxxxxx) so the part ends on a character boundary.
        while end < len(data) and end > start and data[end] & 0xC0 == 0x80:
            end -= 1
        parts.append(data[start:end])
        start = end
    return parts


def generate_pass_file(path: str | Path, bits: int = 4096) -> Path:
    """Write a new RSA key as PKCS#8 PEM, like `openssl genpkey -algorithm RSA`; never
    overwrites an existing file (that would orphan every stored token)."""
    target = Path(path)
    # Claim the name first: an existing file fails before the (slow) key generation.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


# --- event types ------------------------------------------------------------------------------


def token_event_type(
    service: str, user_id: str, instance: str | None = None, *, legacy: bool = False
) -> str:
    """The account-data type holding `user_id`'s token for `service` (hookshot's scheme)."""
    if service == "github":
        return f"{GITHUB_TOKEN_PREFIX_LEGACY if legacy else GITHUB_TOKEN_PREFIX}{user_id}"
    if service == "jira":
        # Hookshot keys Jira by user only, whatever the instance.
        return f"{JIRA_TOKEN_PREFIX}{user_id}"
    if service == "gitlab":
        if not instance:
            raise ValueError("a GitLab token needs the instance URL")
        prefix = GITLAB_TOKEN_PREFIX_LEGACY if legacy else GITLAB_TOKEN_PREFIX
        return f"{prefix}{instance}{user_id}"
    raise ValueError(f"unknown token service {service!r}; expected one of {', '.join(SERVICES)}")


def _has_legacy(service: str) -> bool:
    return service in ("github", "gitlab")


# --- the store --------------------------------------------------------------------------------


class TokenStore:
    """Users' tokens in the bot's account data, readable and writable by hookshot too."""

    def __init__(self, client: AccountDataClient, pass_file: str | Path | PassKey) -> None:
        self._client = client
        self.key = pass_file if isinstance(pass_file, PassKey) else PassKey.load(pass_file)

    async def get(self, user_id: str, service: str, instance: str | None = None) -> str | None:
        """The token, or None when none is stored (or it was removed).

        Raises `TokenError` when one is stored but cannot be opened with our key.
        """
        event_type = token_event_type(service, user_id, instance)
        content = await self._client.get_account_data(event_type)
        if content is None and _has_legacy(service):
            legacy = token_event_type(service, user_id, instance, legacy=True)
            content = await self._client.get_account_data(legacy)
        if not content or DELETED_KEY in content or ENCRYPTED_KEY not in content:
            return None
        return self._open(content, service)

    async def set(
        self, user_id: str, service: str, token: str, instance: str | None = None
    ) -> None:
        """Store (or replace) the token, sealed as hookshot 7 seals it."""
        event_type = token_event_type(service, user_id, instance)
        content: dict[str, Any] = {
            ENCRYPTED_KEY: self.key.encrypt(_registered(token)),
            KEY_ID_KEY: self.key.key_id,
            ALGORITHM_KEY: ALGORITHM_PKCS1V15,
        }
        if instance is not None:
            content[INSTANCE_KEY] = instance
        await self._client.set_account_data(event_type, content)

    async def delete(self, user_id: str, service: str, instance: str | None = None) -> bool:
        """Forget the token; False when there was none. Also hides a legacy-typed token,
        which hookshot itself leaves readable."""
        event_type = token_event_type(service, user_id, instance)
        current = await self._client.get_account_data(event_type)
        if current is None and _has_legacy(service):
            legacy = token_event_type(service, user_id, instance, legacy=True)
            current = await self._client.get_account_data(legacy)
        if not current or DELETED_KEY in current:
            return False
        # Hookshot reads the current type first, so the marker there also shadows the legacy one.
        await self._client.set_account_data(event_type, {DELETED_KEY: True})
        return True

    async def get_sealed(self, event_type: str) -> str | None:
        """A secret sealed under an account-data type of its own (hookshot's generic tokens,
        e.g. outbound hook tokens)."""
        content = await self._client.get_account_data(event_type)
        if not content or DELETED_KEY in content or ENCRYPTED_KEY not in content:
            return None
        return self._open(content, "generic")

    async def set_sealed(self, event_type: str, token: str) -> None:
        await self._client.set_account_data(
            event_type,
            {
                ENCRYPTED_KEY: self.key.encrypt(_registered(token)),
                KEY_ID_KEY: self.key.key_id,
                ALGORITHM_KEY: ALGORITHM_PKCS1V15,
            },
        )

    def _open(self, content: Mapping[str, Any], service: str) -> str:
        key_id = content.get(KEY_ID_KEY)
        if key_id is not None and key_id != self.key.key_id:
            raise TokenError(
                f"Your stored {_service_name(service)} token was encrypted with a different "
                "passFile key than the bridge has now; please log in again."
            )
        algorithm = content.get(ALGORITHM_KEY) or ALGORITHM_OAEP
        encrypted = content[ENCRYPTED_KEY]
        parts = [encrypted] if isinstance(encrypted, str) else encrypted
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise TokenError(f"Your stored {_service_name(service)} token is malformed.")
        if not isinstance(algorithm, str):
            raise TokenError(f"Your stored {_service_name(service)} token is malformed.")
        return _registered(self.key.decrypt(parts, algorithm))


def _registered(token: str) -> str:
    """`token`, hidden in the logs from now on. GitHub's JSON value registers its fields
    (GitHubToken) instead of the whole."""
    if not token.startswith("{"):
        register_secret(token)
    return token


def _service_name(service: str) -> str:
    return {"github": "GitHub", "gitlab": "GitLab", "jira": "Jira"}.get(service, service)


# --- the GitHub token's own format ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GitHubToken:
    """What hookshot stores as the GitHub "token": JSON (or, from old versions, a bare PAT).

    Hookshot names the absolute expiry times (ms since the epoch) `expires_in` and
    `refresh_token_expires_in`; the JSON keeps those names.
    """

    access_token: str
    token_type: str = "pat"
    expires_at_ms: int | None = None
    refresh_token: str | None = None
    refresh_expires_at_ms: int | None = None

    @classmethod
    def parse(cls, raw: str) -> GitHubToken:
        """Read a stored value; anything not starting with "{" is an old bare PAT."""
        if not raw.startswith("{"):
            return cls(access_token=raw)
        try:
            data = json.loads(raw)
        except ValueError:
            raise TokenError(
                "Your stored GitHub token is malformed; please log in again."
            ) from None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise TokenError("Your stored GitHub token is malformed; please log in again.")
        return cls(
            access_token=token,
            token_type=str(data.get("token_type") or "pat"),
            expires_at_ms=_int_or_none(data.get("expires_in")),
            refresh_token=data.get("refresh_token") or None,
            refresh_expires_at_ms=_int_or_none(data.get("refresh_token_expires_in")),
        )

    @classmethod
    def from_oauth(
        cls,
        access_token: str,
        token_type: str,
        *,
        now_ms: int,
        expires_in: int | None = None,
        refresh_token: str | None = None,
        refresh_token_expires_in: int | None = None,
    ) -> GitHubToken:
        """From an OAuth token response, whose lifetimes are seconds from now."""
        return cls(
            access_token=access_token,
            token_type=token_type,
            expires_at_ms=now_ms + expires_in * 1000 if expires_in else None,
            refresh_token=refresh_token,
            refresh_expires_at_ms=(
                now_ms + refresh_token_expires_in * 1000 if refresh_token_expires_in else None
            ),
        )

    def __post_init__(self) -> None:
        register_secret(self.access_token)
        register_secret(self.refresh_token)

    def dumps(self) -> str:
        """The JSON hookshot writes (absent fields left out, as JSON.stringify does)."""
        data: dict[str, object] = {"access_token": self.access_token}
        if self.expires_at_ms is not None:
            data["expires_in"] = self.expires_at_ms
        data["token_type"] = self.token_type
        if self.refresh_token is not None:
            data["refresh_token"] = self.refresh_token
        if self.refresh_expires_at_ms is not None:
            data["refresh_token_expires_in"] = self.refresh_expires_at_ms
        return json.dumps(data, separators=(",", ":"))

    def expired(self, now_ms: int) -> bool:
        return self.expires_at_ms is not None and self.expires_at_ms < now_ms

    def refreshable(self, now_ms: int) -> bool:
        return bool(
            self.refresh_token
            and self.refresh_expires_at_ms is not None
            and self.refresh_expires_at_ms > now_ms
        )


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
