"""Admin rooms: a user's DM with the bot, where secrets (webhook URLs) are sent.

A room is an admin room when the bot's room account data of hookshot's type names the user
(`{"admin_user": ...}`), so rooms made by hookshot keep working.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hookshot import wire
from hookshot.matrix.client import MatrixClient

log = logging.getLogger(__name__)


class AdminRooms:
    """Which room is whose admin room; creates one on demand."""

    def __init__(self, client: MatrixClient) -> None:
        self._client = client
        self._by_user: dict[str, str] = {}
        self._by_room: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def note(self, room_id: str, user_id: str) -> None:
        self._by_user[user_id] = room_id
        self._by_room[room_id] = user_id

    def forget(self, room_id: str) -> None:
        user = self._by_room.pop(room_id, None)
        if user is not None and self._by_user.get(user) == room_id:
            del self._by_user[user]

    def owner(self, room_id: str) -> str | None:
        """The user whose admin room this is, if it is one."""
        return self._by_room.get(room_id)

    def room_of(self, user_id: str) -> str | None:
        return self._by_user.get(user_id)

    async def load(self, room_id: str) -> str | None:
        """Read the room's account data at startup; returns the admin user if any."""
        for event_type in wire.ADMIN_ROOM_TYPES:
            data = await self._client.get_room_account_data(room_id, event_type)
            user = data.get("admin_user") if data else None
            if isinstance(user, str):
                self.note(room_id, user)
                return user
        return None

    async def adopt(
        self, room_id: str, user_id: str, greet: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Mark a DM the user invited us to as their admin room; `greet` queues its greeting.

        Under the user's lock, and the greeting is queued before the room can be found: a
        secret sent there by a command running at the same time always comes after it, and
        a command waits rather than opening a second DM.
        """
        async with self._lock(user_id):
            await self._client.set_room_account_data(
                room_id, wire.ADMIN_ROOM, {"admin_user": user_id}
            )
            if greet is not None:
                await greet()
            self.note(room_id, user_id)

    def _lock(self, user_id: str) -> asyncio.Lock:
        return self._locks.setdefault(user_id, asyncio.Lock())

    async def get_or_create(self, user_id: str) -> str:
        """The user's admin room, created (and the user invited) when there is none."""
        async with self._lock(user_id):
            existing = self._by_user.get(user_id)
            if existing is not None:
                return existing
            # No greeting here: the DM is opened to carry a secret, which is its first message.
            room_id = await self._client.create_room(
                {
                    "invite": [user_id],
                    "is_direct": True,
                    "preset": "trusted_private_chat",
                    "name": "Hookshot",
                    "topic": "Your private room with the hookshot bridge: secrets arrive here.",
                }
            )
            log.info("created admin room %s for %s", room_id, user_id)
            await self._client.set_room_account_data(
                room_id, wire.ADMIN_ROOM, {"admin_user": user_id}
            )
            self.note(room_id, user_id)
            return room_id
