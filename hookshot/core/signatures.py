"""Webhook authenticity checks (pure): GitHub's HMAC signature, GitLab's shared token."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def github_signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


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
