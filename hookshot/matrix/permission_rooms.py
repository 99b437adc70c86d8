"""Keeps the membership of rooms named as `permissions` actors, as hookshot does: the bot joins
each room at start and reads its joined members, then follows its `m.room.member` events.

Beyond hookshot: aliases work (resolved through the room directory at start, on an invite to a
room no actor names yet, and every `REFRESH_SECONDS`), a room that cannot be joined is retried
instead of stopping the bridge, and a room the bot was removed from grants nothing until it is
back in (its membership changes no longer reach us).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from hookshot import wire
from hookshot.core.memberships import ActorMemberships
from hookshot.errors import HomeserverUnreachable, MatrixError
from hookshot.matrix.client import MatrixClient

log = logging.getLogger(__name__)

# How often aliases are looked up again and unreadable rooms retried.
REFRESH_SECONDS = 300.0


class PermissionRooms:
    """Fills and follows `ActorMemberships` through the homeserver, as the bot."""

    def __init__(
        self,
        members: ActorMemberships,
        client: MatrixClient,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self.members = members
        self._client = client
        self._refresh_seconds = refresh_seconds
        self._lock = asyncio.Lock()  # one refresh or load at a time

    async def start(self) -> None:
        """Resolve every alias, join every named room and read its members."""
        if self.members.actors:
            await self.refresh()
            actors = self.members.actors
            known = sum(self.members.loaded(self.members.room_of(a) or "") for a in actors)
            log.info("permission rooms: %d of %d room actors readable", known, len(actors))

    async def run(self) -> None:
        """Every `refresh_seconds`: follow aliases that moved, retry rooms not readable."""
        while self.members.actors:
            await asyncio.sleep(self._refresh_seconds)
            await self.refresh()

    async def refresh(self) -> None:
        async with self._lock:
            for alias in self.members.aliases:
                await self._resolve(alias)
            for room_id in self.members.unloaded():
                await self._load(room_id)

    async def _resolve(self, alias: str) -> None:
        try:
            room_id: str | None = await self._client.resolve_alias(alias)
        except MatrixError as err:
            if err.status != 404:
                log.warning("permission room %s: alias lookup failed: %s", alias, err)
                return  # keep what it pointed at
            room_id = None
        except HomeserverUnreachable as err:
            log.warning("permission room %s: alias lookup failed: %s", alias, err)
            return
        if self.members.resolve(alias, room_id):
            log.info("permission room %s is now %s", alias, room_id or "nothing (no such alias)")

    async def _load(self, room_id: str) -> None:
        """Join `room_id` (a no-op when joined) and read who is in it."""
        self.members.begin_fill(room_id)
        try:
            # A room id's server part (when it has one) is a server that knows the room.
            await self._client.join(room_id, via=room_id.partition(":")[2] or None)
            members = await self._client.joined_members(room_id)
        except (MatrixError, HomeserverUnreachable) as err:
            self.members.abort_fill(room_id)
            log.warning("permission room %s: cannot join or read its members: %s", room_id, err)
            return
        self.members.finish_fill(room_id, members)
        log.info("permission room %s: %d members", room_id, len(members))

    def on_member(self, event: Mapping[str, Any]) -> None:
        """An `m.room.member` event from a transaction: a join grants, anything else takes
        away (hookshot's rule). Synchronous, so a command handled after it sees it."""
        room_id, user_id = event.get("room_id"), event.get("state_key")
        content = event.get("content")
        if not isinstance(room_id, str) or not isinstance(user_id, str):
            return
        if event.get("type") != wire.M_ROOM_MEMBER or not self.members.tracks(room_id):
            return
        membership = content.get("membership") if isinstance(content, dict) else None
        self.members.apply(room_id, user_id, membership == "join")
        if user_id == self._client.bot_user_id and membership in ("leave", "ban"):
            self.members.forget(room_id)
            log.warning("the bot left permission room %s: its members get nothing", room_id)

    async def bot_joined(self, room_id: str) -> None:
        """The bot joined `room_id`: read its members if an actor names it."""
        if self.members.tracks(room_id) and room_id in self.members.unloaded():
            async with self._lock:
                if room_id in self.members.unloaded():
                    await self._load(room_id)

    async def claims(self, room_id: str) -> bool:
        """Whether an actor names `room_id`, looking aliases up again if none did."""
        if self.members.tracks(room_id) or not self.members.aliases:
            return self.members.tracks(room_id)
        async with self._lock:
            for alias in self.members.aliases:
                await self._resolve(alias)
        return self.members.tracks(room_id)
