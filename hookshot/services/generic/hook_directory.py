"""What the webhook intake needs to know about a generic hook, and where it finds it.

In one process the intake reads the connection store. In the scale-out roles the `webhooks`
processes hold no room state: the `bridge` process publishes a directory (hookId -> room,
state key, secret, expiry, waitForComplete, rate limit) to a Redis hash, and the intake reads
one entry per request (`hook_directory_redis.py`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from hookshot.core.rate_limit import UNSET, RateLimit, parse_rate_limit
from hookshot.core.store import ConnectionStore
from hookshot.errors import HookshotError
from hookshot.ops.redaction import register_secret
from hookshot.services.generic.hook import GenericHook, find_hook

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HookEntry:
    """One generic hook as the intake sees it."""

    hook_id: str
    room_id: str
    state_key: str
    require_secret: bool = False
    secret: str | None = None
    wait_for_complete: bool | None = None
    expires_at: float | None = None  # unix seconds
    rate_limit: RateLimit = UNSET  # the hook's override; the intake knows the default

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or time.time())


def entry_for(hook: GenericHook) -> HookEntry:
    expiry = hook.state.expiration_date
    return HookEntry(
        hook_id=hook.hook_id,
        room_id=hook.room_id,
        state_key=hook.state_key,
        require_secret=hook.state.require_secret,
        secret=hook.secret,
        wait_for_complete=hook.state.wait_for_complete,
        expires_at=expiry.timestamp() if expiry is not None else None,
        rate_limit=hook.state.rate_limit,
    )


def encode_entry(entry: HookEntry) -> str:
    fields: dict[str, object] = {
        "room": entry.room_id,
        "key": entry.state_key,
        "requireSecret": entry.require_secret,
        "secret": entry.secret,
        "wait": entry.wait_for_complete,
        "expires": entry.expires_at,
    }
    if entry.rate_limit != UNSET:
        fields["rate"] = entry.rate_limit.to_content()
    return json.dumps(fields, separators=(",", ":"))


def decode_entry(hook_id: str, text: str) -> HookEntry | None:
    """The entry stored for `hook_id`; None (and a log line) for anything malformed."""
    try:
        raw = json.loads(text)
        room, key = raw["room"], raw["key"]
        secret, wait, expires = raw.get("secret"), raw.get("wait"), raw.get("expires")
        if not (isinstance(room, str) and isinstance(key, str)):
            raise TypeError("room and key must be strings")
        if secret is not None and not isinstance(secret, str):
            raise TypeError("secret must be a string")
        if wait is not None and not isinstance(wait, bool):
            raise TypeError("wait must be a boolean")
        if expires is not None and (
            isinstance(expires, bool) or not isinstance(expires, int | float)
        ):
            raise TypeError("expires must be a number")
        rate = parse_rate_limit(raw.get("rate", {}))
    except (ValueError, KeyError, TypeError) as err:
        log.error("hook directory entry for %s is malformed: %s", hook_id[:6], err)
        return None
    register_secret(hook_id)  # a `webhooks` process learns hooks here, not from room state
    register_secret(secret)
    return HookEntry(
        hook_id=hook_id,
        room_id=room,
        state_key=key,
        require_secret=raw.get("requireSecret") is True,
        secret=secret,
        wait_for_complete=wait,
        expires_at=float(expires) if expires is not None else None,
        rate_limit=rate,
    )


class DirectoryUnavailable(HookshotError):
    """The directory cannot say whether a hook exists right now."""


class HookLookup(Protocol):
    async def find(self, hook_id: str) -> HookEntry | None: ...


class StoreLookup:
    """The in-process directory: the connection store itself."""

    def __init__(self, store: ConnectionStore) -> None:
        self._store = store

    async def find(self, hook_id: str) -> HookEntry | None:
        hook = find_hook(self._store, hook_id)
        return entry_for(hook) if hook is not None else None
