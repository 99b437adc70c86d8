"""What the core knows about a kind of connection: its state event types, the permissions
service that guards it, how to build one from state, and the service's own checks on it.

The kinds themselves are the services' (`hookshot/services/registry.py`); room state and the
widget find them through a `KindLookup` the bridge hands them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hookshot.core.connections import Connection
from hookshot.core.hook_ids import HookIds, HookSecrets


@dataclass(frozen=True)
class BuildContext:
    """What building a connection from state may need besides the content."""

    hook_ids: HookIds
    hook_secrets: HookSecrets | None = None
    # Reads a sealed secret from the bot's account data (outbound hook tokens).
    sealed: Callable[[str], Awaitable[str | None]] | None = None
    seal: Callable[[str, str], Awaitable[None]] | None = None  # writes one (type, secret)
    js_enabled: bool = False


Builder = Callable[[BuildContext, str, str, str, Mapping[str, Any]], Awaitable[Connection]]


@dataclass(frozen=True)
class Vetted:
    """A built connection after its service's checks, and what to tell the room about it."""

    connection: Connection
    notices: tuple[str, ...] = ()


# (context, built, the connection it replaces) -> the connection to apply, and notices.
Vetter = Callable[[BuildContext, Connection, Connection | None], Awaitable[Vetted]]
# Called when the connection's state is removed: (context, room, state key).
Forget = Callable[[BuildContext, str, str], Awaitable[None]]
# Called before a room upgrade copies the state into the new room: (context, old room, new
# room, state key). Moves what the connection keeps outside room state (hook ids, secrets).
Carry = Callable[[BuildContext, str, str, str], Awaitable[None]]


@dataclass(frozen=True)
class Kind:
    """One kind of connection."""

    name: str
    service: str  # the permissions service that guards it
    event_types: tuple[str, ...]
    build: Builder
    feature: str = ""  # what must be switched on for it ("" = the service itself)
    vet: Vetter | None = None
    forget: Forget | None = None
    carry: Carry | None = None

    @property
    def switch(self) -> str:
        return self.feature or self.service


KindLookup = Callable[[str], Kind | None]
