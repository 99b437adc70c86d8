"""One exception tree for the bridge.

HookshotError
├── ConfigError        a config key is missing or wrong (carries the key path)
├── CommandError       a `!hookshot` command cannot be done (message shown to the user)
├── PermissionDenied   the sender may not do this (message shown to the user)
├── WebhookError       a webhook request is refused (carries the HTTP status)
├── StateError         connection state content is invalid
└── MatrixError        the homeserver answered with an error (status, errcode)
    └── RateLimited    429, with the delay the homeserver asked for

HomeserverUnreachable  no answer from the homeserver at all (a ConnectionError, not a
                       HookshotError: callers retry it as they retry any network failure)
"""

from __future__ import annotations


class HookshotError(Exception):
    """Base of every error the bridge raises on purpose."""


class ConfigError(HookshotError):
    """A config key is invalid; `key` is its dotted path."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class CommandError(HookshotError):
    """A command failed in a way the user should read."""


class PermissionDenied(CommandError):
    """The sender lacks the permission for a command."""


class StateError(HookshotError):
    """A connection's state content cannot be used."""


class WebhookError(HookshotError):
    """A webhook request is refused with `status` and a short message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class MatrixError(HookshotError):
    """The homeserver answered a request with an error."""

    def __init__(self, status: int, errcode: str, message: str) -> None:
        super().__init__(f"{status} {errcode}: {message}")
        self.status = status
        self.errcode = errcode
        self.message = message

    @property
    def permanent(self) -> bool:
        """4xx other than 429 will not succeed on retry."""
        return 400 <= self.status < 500 and self.status != 429


class RateLimited(MatrixError):
    """429 from the homeserver; retry after `retry_after_ms`."""

    def __init__(self, errcode: str, message: str, retry_after_ms: int) -> None:
        super().__init__(429, errcode, message)
        self.retry_after_ms = retry_after_ms


class HomeserverUnreachable(ConnectionError):
    """A homeserver call got no answer: refused, reset, timed out. Nothing says whether the
    homeserver applied it, so only idempotent calls (transaction ids) are safe to repeat."""
