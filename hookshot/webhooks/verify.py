"""Webhook authenticity checks (pure): GitHub's HMAC signature, GitLab's shared token."""

from __future__ import annotations

import hashlib
import hmac


def github_signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_signature_valid(secret: str, body: bytes, header: str) -> bool:
    """Constant-time comparison of `header` with the expected signature."""
    return hmac.compare_digest(github_signature(secret, body).encode(), header.strip().encode())


def token_valid(expected: str, given: str) -> bool:
    """Constant-time comparison of a shared token (GitLab's `X-Gitlab-Token`)."""
    return hmac.compare_digest(expected.encode(), given.encode())
