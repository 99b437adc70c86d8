"""The secret hookId <-> state_key mapping kept in the bot's room account data."""

from __future__ import annotations

import asyncio
import uuid

from hookshot import wire
from hookshot.matrix.client import MatrixClient


class HookIds:
    """Per-room cache of hookshot's generic hook account data ({hookId: state_key})."""

    def __init__(self, client: MatrixClient) -> None:
        self._client = client
        self._rooms: dict[str, dict[str, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _data(self, room_id: str) -> dict[str, str]:
        cached = self._rooms.get(room_id)
        if cached is None:
            raw = await self._client.get_room_account_data(room_id, wire.GENERIC_HOOK_ACCOUNT_DATA)
            cached = {k: v for k, v in (raw or {}).items() if isinstance(v, str)}
            self._rooms[room_id] = cached
        return cached

    async def ensure(self, room_id: str, state_key: str, hook_id: str | None = None) -> str:
        """The hookId of `state_key`, minting (and saving) one when there is none."""
        async with self._locks.setdefault(room_id, asyncio.Lock()):
            data = await self._data(room_id)
            if hook_id is None:
                found = next((h for h, key in data.items() if key == state_key), None)
                if found is not None:
                    return found
                hook_id = str(uuid.uuid4())
            elif data.get(hook_id) == state_key:
                return hook_id
            updated = {**data, hook_id: state_key}
            await self._client.set_room_account_data(
                room_id, wire.GENERIC_HOOK_ACCOUNT_DATA, updated
            )
            self._rooms[room_id] = updated
            return hook_id

    async def forget(self, room_id: str, state_key: str) -> None:
        """Drop every hookId pointing at `state_key` (the hook was removed)."""
        async with self._locks.setdefault(room_id, asyncio.Lock()):
            data = await self._data(room_id)
            updated = {h: key for h, key in data.items() if key != state_key}
            if updated != data:
                await self._client.set_room_account_data(
                    room_id, wire.GENERIC_HOOK_ACCOUNT_DATA, updated
                )
                self._rooms[room_id] = updated

    def drop_room(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)
