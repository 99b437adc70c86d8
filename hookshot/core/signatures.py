"""Webhook authenticity checks (pure): HMAC signatures (GitHub, Forgejo), shared tokens."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def hmac_sha256(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `body` (Forgejo's and Gitea's `X-*-Signature`)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def hmac_sha256_valid(secret: str, body: bytes, given: str) -> bool:
    """Constant-time comparison of a hex HMAC-SHA256 header (any case) with the expected one."""
    return hmac.compare_digest(hmac_sha256(secret, body).encode(), given.strip().lower().encode())


def github_signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    return "sha256=" + hmac_sha256(secret, body)


def github_signature_valid(secret: str, body: bytes, header: str) -> bool:
    """Constant-time comparison of `header` with the expected signature."""
    return hmac.compare_digest(github_signature(secret, body).encode(), header.strip().encode())


def token_valid(expected: str, given: str) -> bool:
    """Constant-time comparison of a shared token (GitLab's `X-Gitlab-Token`)."""
    return hmac.compare_digest(expected.encode(), given.encode())


def hook_secret_valid(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Ours: a generic hook's secret as `Authorization: Bearer <secret>`, or an HMAC-SHA256
    signature of the body in `X-Hub-Signature-256` (GitHub's scheme, which senders know)."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and token_valid(secret, auth[7:].strip()):
        return True
    signature = headers.get("x-hub-signature-256")
    return bool(signature) and github_signature_valid(secret, body, signature or "")
