"""Which room an upgraded room replaced, so a subject's thread is found again in the new room
(docs/quiet-rooms.md).

Recorded by `matrix/upgrades.py` when it carries connections over, in the queue's
`ValueStore` (SQLite or Redis), so the sender process finds it in worker mode too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from hookshot import wire
from hookshot.core.queue.base import ValueStore

# Upgrades followed back from a room; a room upgraded more often than this starts anew.
MAX_HOPS: Final = 5
# As long as a thread record: the old room's records get no message after its upgrade, so
# none outlives this (and a restart that finds the upgrade again refreshes it).
LINEAGE_TTL: Final = 90 * 24 * 3600.0


async def walk(
    room_id: str, step: Callable[[str], Awaitable[str | None]], max_hops: int = MAX_HOPS
) -> list[str]:
    """The rooms `room_id` replaced, nearest first: at most `max_hops`, stopping at a room
    seen already (a cycle can only come from a forged or broken record)."""
    seen = {room_id}
    out: list[str] = []
    current = room_id
    while len(out) < max_hops:
        before = await step(current)
        if before is None or before in seen:
            break
        seen.add(before)
        out.append(before)
        current = before
    return out


class Lineage:
    """New room -> the room it replaced, in a `ValueStore`."""

    def __init__(self, store: ValueStore) -> None:
        self._store = store

    async def record(self, new_room: str, old_room: str) -> None:
        """Remember that `new_room` replaced `old_room` (idempotent)."""
        if new_room != old_room:
            await self._store.set_value(
                wire.ROOM_PREDECESSOR_PREFIX + new_room, old_room, LINEAGE_TTL
            )

    async def predecessor(self, room_id: str) -> str | None:
        return await self._store.get_value(wire.ROOM_PREDECESSOR_PREFIX + room_id)

    async def predecessors(self, room_id: str) -> list[str]:
        """The rooms `room_id` replaced, nearest first (see `walk`)."""
        return await walk(room_id, self.predecessor)
