"""What every connection has: where it lives in the room state and its priority."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hookshot import wire
from hookshot.core.digest import DigestTag
from hookshot.core.threads import ThreadRef
from hookshot.errors import StateError

# hookshot's default priority for a connection without one; higher handles first.
DEFAULT_PRIORITY = -1


@dataclass(frozen=True)
class Connection:
    """A bridged thing, defined by one state event (type, state_key) in one room."""

    room_id: str
    event_type: str
    state_key: str
    priority: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.room_id, self.event_type, self.state_key)

    def match_keys(self) -> tuple[str, ...]:
        """Keys incoming events are routed by (e.g. "github:org/repo"); none by default."""
        return ()

    @property
    def address(self) -> str | None:
        """The id an intake finds this one connection by (a generic hook's secret hookId)."""
        return None


@dataclass(frozen=True)
class OutgoingMessage:
    """A timeline event a connection wants sent; only the sender talks to the homeserver."""

    room_id: str
    content: Mapping[str, Any]
    event_type: str = "m.room.message"
    sender: str | None = None  # None: the bot
    displayname: str | None = None  # applied to a virtual sender before sending
    thread: ThreadRef | None = None  # its subject's thread, resolved by the sender
    digest: DigestTag | None = None  # its connection's digest is on (core/digest.py)

    @property
    def digest_group(self) -> str:
        """The send job's group: only plain timeline messages outside threads are digested."""
        if self.digest is None or self.thread is not None:
            return ""
        return self.digest.group if self.event_type == wire.M_ROOM_MESSAGE else ""

    def to_payload(self) -> dict[str, Any]:
        payload = {
            "room_id": self.room_id,
            "event_type": self.event_type,
            "content": dict(self.content),
            "sender": self.sender,
            "displayname": self.displayname,
        }
        if self.thread is not None:
            payload[wire.THREAD_KEY] = self.thread.to_payload()
        if self.digest_group and self.digest is not None:
            payload[wire.DIGEST_KEY] = self.digest.to_payload()
        return payload


def parse_priority(content: Mapping[str, Any]) -> int:
    """`priority` must be an integer when present; unset sorts as hookshot's -1."""
    value = content.get("priority")
    if value is None:
        return DEFAULT_PRIORITY
    if isinstance(value, bool) or not isinstance(value, int):
        raise StateError("'priority' must be an integer")
    return value


def is_removal(content: Mapping[str, Any]) -> bool:
    """Empty content or `disabled: true` removes a connection (hookshot's convention)."""
    return not content or content.get("disabled") is True


def connection_id(room_id: str, canonical_event_type: str, state_key: str) -> str:
    """hookshot's `connectionId`: md5 hex of "<roomId>/<canonical event type>/<state_key>"
    (the widget's connection ids and the failure metric's label; never a secret)."""
    return hashlib.md5(
        f"{room_id}/{canonical_event_type}/{state_key}".encode(), usedforsecurity=False
    ).hexdigest()
