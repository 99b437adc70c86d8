"""Widget sessions: an opaque token standing for a verified Matrix user until it expires.

Tokens look like hookshot's (`hookshot_` + 32 hex digits). The store is a Protocol so a Redis
(scale-out) or SQLite one can replace the in-memory one; stores only hold sessions, the routes
decide what an expired one means.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

TOKEN_PREFIX = "hookshot_"
DEFAULT_LIFETIME_SECONDS = 24 * 60 * 60  # matrix-appservice-bridge's widget token lifetime


@dataclass(frozen=True)
class Session:
    token: str
    user_id: str
    expires_at: float  # unix seconds

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_hex(16)


class SessionStore(Protocol):
    """Where sessions live; every method is idempotent."""

    async def create(self, user_id: str, lifetime_seconds: float) -> Session: ...

    async def get(self, token: str) -> Session | None: ...

    async def delete(self, token: str) -> None: ...

    async def delete_all(self, user_id: str) -> None: ...


class MemorySessionStore:
    """Sessions in a dict (single process; lost on restart, and the widget then re-exchanges)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._sessions: dict[str, Session] = {}

    async def create(self, user_id: str, lifetime_seconds: float) -> Session:
        now = self._clock()
        # Dropping expired sessions here bounds memory without a background task.
        self._sessions = {t: s for t, s in self._sessions.items() if not s.expired(now)}
        session = Session(new_token(), user_id, now + lifetime_seconds)
        self._sessions[session.token] = session
        return session

    async def get(self, token: str) -> Session | None:
        return self._sessions.get(token)

    async def delete(self, token: str) -> None:
        self._sessions.pop(token, None)

    async def delete_all(self, user_id: str) -> None:
        self._sessions = {t: s for t, s in self._sessions.items() if s.user_id != user_id}

    def __len__(self) -> int:
        return len(self._sessions)
