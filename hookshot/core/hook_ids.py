"""Per-room maps kept in the bot's room account data: hookshot's secret hookId -> state_key
map, and (ours) the secrets that hooks may require."""

from __future__ import annotations

import asyncio
import secrets
import uuid

from hookshot import wire
from hookshot.matrix.client import MatrixClient
from hookshot.ops.redaction import forget_secret, register_secret


class _AccountDataMap:
    """A string -> string map in one room account data type, cached per room."""

    def __init__(self, client: MatrixClient, event_type: str) -> None:
        self._client = client
        self._type = event_type
        self._rooms: dict[str, dict[str, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, room_id: str) -> asyncio.Lock:
        return self._locks.setdefault(room_id, asyncio.Lock())

    async def _data(self, room_id: str) -> dict[str, str]:
        cached = self._rooms.get(room_id)
        if cached is None:
            raw = await self._client.get_room_account_data(room_id, self._type)
            cached = {k: v for k, v in (raw or {}).items() if isinstance(v, str)}
            self._rooms[room_id] = cached
            self._register(cached)
        return cached

    async def _write(self, room_id: str, updated: dict[str, str]) -> None:
        self._register(updated)  # before the write: its failure may be logged with them
        await self._client.set_room_account_data(room_id, self._type, updated)
        self._rooms[room_id] = updated

    def _register(self, data: dict[str, str]) -> None:
        """Hide the map's secrets in the logs (each subclass knows which side is secret)."""

    def drop_room(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)


class HookIds(_AccountDataMap):
    """hookshot's generic hook account data ({hookId: state_key})."""

    def __init__(self, client: MatrixClient) -> None:
        super().__init__(client, wire.GENERIC_HOOK_ACCOUNT_DATA)

    def _register(self, data: dict[str, str]) -> None:
        for hook_id in data:
            register_secret(hook_id)

    async def ensure(self, room_id: str, state_key: str, hook_id: str | None = None) -> str:
        """The hookId of `state_key`, minting (and saving) one when there is none."""
        async with self._lock(room_id):
            data = await self._data(room_id)
            if hook_id is None:
                found = next((h for h, key in data.items() if key == state_key), None)
                if found is not None:
                    return found
                hook_id = str(uuid.uuid4())
            elif data.get(hook_id) == state_key:
                return hook_id
            await self._write(room_id, {**data, hook_id: state_key})
            return hook_id

    async def find(self, room_id: str, state_key: str) -> str | None:
        """The hookId of `state_key`, without minting one."""
        async with self._lock(room_id):
            data = await self._data(room_id)
            return next((h for h, key in data.items() if key == state_key), None)

    async def assign(self, room_id: str, state_key: str, hook_id: str) -> None:
        """Make `hook_id` the one hookId of `state_key` (a hook moving in from another room)."""
        async with self._lock(room_id):
            data = await self._data(room_id)
            updated = {h: key for h, key in data.items() if key != state_key}
            updated[hook_id] = state_key
            if updated != data:
                await self._write(room_id, updated)

    async def forget(self, room_id: str, state_key: str) -> None:
        """Drop every hookId pointing at `state_key` (the hook was removed)."""
        async with self._lock(room_id):
            data = await self._data(room_id)
            updated = {h: key for h, key in data.items() if key != state_key}
            if updated != data:
                await self._write(room_id, updated)
                for hook_id in data.keys() - updated.keys():
                    forget_secret(hook_id)  # a dead URL; the shape rules still hide it


class HookSecrets(_AccountDataMap):
    """Ours: {hookId: secret} for hooks whose state says `"secret": true`. Kept out of room
    state, which every member can read."""

    def __init__(self, client: MatrixClient) -> None:
        super().__init__(client, wire.GENERIC_HOOK_SECRETS)

    def _register(self, data: dict[str, str]) -> None:
        for secret in data.values():
            register_secret(secret)

    async def get(self, room_id: str, hook_id: str) -> str | None:
        async with self._lock(room_id):
            return (await self._data(room_id)).get(hook_id)

    async def renew(self, room_id: str, hook_id: str) -> str:
        """A new random secret for the hook (the old one stops working)."""
        secret = secrets.token_urlsafe(32)
        async with self._lock(room_id):
            data = await self._data(room_id)
            await self._write(room_id, {**data, hook_id: secret})
        return secret

    async def put(self, room_id: str, hook_id: str, secret: str) -> None:
        """Keep a secret the hook already has (it moved in from another room)."""
        async with self._lock(room_id):
            data = await self._data(room_id)
            if data.get(hook_id) != secret:
                await self._write(room_id, {**data, hook_id: secret})

    async def copy(self, room_id: str, old_id: str, new_id: str) -> bool:
        """Give the hook's new hookId the old one's secret (a rotation); False if none."""
        async with self._lock(room_id):
            data = await self._data(room_id)
            if old_id not in data:
                return False
            await self._write(room_id, {**data, new_id: data[old_id]})
            return True

    async def remove(self, room_id: str, hook_id: str) -> None:
        async with self._lock(room_id):
            data = await self._data(room_id)
            if hook_id in data:
                await self._write(room_id, {h: s for h, s in data.items() if h != hook_id})
