"""Room upgrades: when a bridged room is replaced (`m.room.tombstone`), the bot joins the
replacement room and carries the room's connections over (state, hook ids and secrets, so
webhook URLs keep working), with the admin-room record and the configuration widget, and
says so in both rooms. It records the new room's predecessor (`core/lineage.py`), so subjects'
threads are found again from the new room.

Every step is idempotent and the last is a marker in the old room's account data
(`wire.ROOM_UPGRADED`), so a duplicate tombstone or a restart half-way redoes only what is
missing. An upgrade the bot cannot follow yet (not invited to the new room, no power there)
is followed when it joins that room or is given power there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from hookshot import wire
from hookshot.core.connections import OutgoingMessage
from hookshot.core.lineage import Lineage
from hookshot.core.outbox import Outbox
from hookshot.core.room_state import RoomStateSync
from hookshot.errors import MatrixError
from hookshot.matrix import power
from hookshot.matrix.admin_rooms import AdminRooms
from hookshot.matrix.client import MatrixClient
from hookshot.matrix.upgrade_plan import (
    Carried,
    carried_state,
    connection_count,
    find_state,
    predecessor,
    replacement_room,
    still_missing,
    summary,
)

log = logging.getLogger(__name__)

JSON = dict[str, Any]


class RoomUpgrades:
    """Follows room upgrades; one upgrade at a time per old room."""

    def __init__(
        self,
        *,
        client: MatrixClient,
        room_state: RoomStateSync,
        admin_rooms: AdminRooms,
        outbox: Outbox,
        lineage: Lineage | None = None,
    ) -> None:
        self._client = client
        self._lineage = lineage
        self._room_state = room_state
        self._admin_rooms = admin_rooms
        self._outbox = outbox
        self._locks: dict[str, asyncio.Lock] = {}
        # New room -> old room, for upgrades waiting for the bot to get power in the new room.
        self._waiting: dict[str, str] = {}

    @property
    def bot(self) -> str:
        return self._client.bot_user_id

    async def load_room(self, room_id: str) -> int:
        """Load a joined room (at startup, or when the bot joins): its connections, unless
        they moved on in an upgrade; and follow an upgrade not carried out yet, whether this
        room is the old one or the new one."""
        state = await self._client.room_state(room_id)
        tombstone = find_state(state, wire.M_ROOM_TOMBSTONE)
        new_room = replacement_room(tombstone.get("content")) if tombstone else None
        if new_room is not None:
            moved_to = await self._moved_to(room_id)
            if moved_to is not None:
                self._room_state.retire(room_id, moved_to)
                # Also for upgrades followed before the lineage was recorded.
                await self._remember(room_id, moved_to)
                log.info("%s was upgraded: its connections are in %s", room_id, moved_to)
                return 0
        count = await self._room_state.load_room(room_id, state)
        if new_room is not None:
            await self.follow(room_id, new_room)
            return 0 if self._room_state.replaced_by(room_id) else count
        create = find_state(state, wire.M_ROOM_CREATE)
        old_room = predecessor(create.get("content")) if create else None
        if old_room is not None:
            await self._arrived(old_room, room_id)
        return count

    async def on_state(self, event: Mapping[str, Any]) -> None:
        """A live state event: a tombstone starts an upgrade; new power levels in a room that
        an upgrade waits for may let it go on."""
        event_type, room_id = event.get("type"), str(event.get("room_id", ""))
        if event.get("state_key") != "":
            return
        if event_type == wire.M_ROOM_TOMBSTONE:
            new_room = replacement_room(event.get("content"))
            if new_room is None:
                log.warning("tombstone in %s names no replacement room; ignored", room_id)
                return
            log.info("%s was upgraded to %s", room_id, new_room)
            await self.follow(room_id, new_room)
        elif event_type == wire.M_ROOM_POWER_LEVELS and room_id in self._waiting:
            await self.follow(self._waiting[room_id], room_id)

    async def _arrived(self, old_room: str, new_room: str) -> None:
        """The bot is in a room that replaces `old_room`: carry over what is still there."""
        if self._room_state.replaced_by(old_room) is not None:
            return
        try:
            tombstone = await self._client.get_state(old_room, wire.M_ROOM_TOMBSTONE)
        except MatrixError as err:
            if err.permanent:
                return  # the bot is not in the old room: nothing of ours to carry
            raise
        if replacement_room(tombstone) == new_room:
            await self.follow(old_room, new_room)

    async def _moved_to(self, old_room: str) -> str | None:
        """Where the old room's connections went, if an upgrade finished."""
        known = self._room_state.replaced_by(old_room)
        if known is not None:
            return known
        marker = await self._client.get_room_account_data(old_room, wire.ROOM_UPGRADED)
        return replacement_room(marker)

    async def follow(self, old_room: str, new_room: str) -> None:
        """Carry `old_room`'s connections over to `new_room` (idempotent)."""
        lock = self._locks.setdefault(old_room, asyncio.Lock())
        async with lock:
            moved_to = await self._moved_to(old_room)
            if moved_to is not None:
                self._room_state.retire(old_room, moved_to)  # a duplicate tombstone
                return
            await self._follow(old_room, new_room)

    async def _follow(self, old_room: str, new_room: str) -> None:
        cause = f"upgrade:{old_room}>{new_room}"
        admin_user = await self._admin_rooms.load(old_room)
        carried = carried_state(
            await self._client.room_state(old_room),
            kind_of=self._kind_name,
            may_write=self._room_state.permitted,
            bot=self.bot,
            static_keys=frozenset(
                (t, k) for r, t, k in self._room_state.static_keys if r == old_room
            ),
        )
        worth_telling = bool(carried) or admin_user is not None
        count = connection_count(carried)
        try:
            await self._client.join(new_room)
        except MatrixError as err:
            if not err.permanent:
                raise  # the event worker retries
            log.warning(
                "%s was upgraded to %s, but the bot cannot join it (%s): its %d connections "
                "stay here until the bot is invited there",
                old_room,
                new_room,
                err,
                count,
            )
            if worth_telling:
                await self._tell(
                    f"{cause}:join",
                    old_room,
                    f"This room was upgraded to {new_room}, but I could not join it "
                    f"({err.message}). Invite me ({self.bot}) there and I will carry over "
                    f"{_connections(count)}.",
                )
            return
        state = await self._client.room_state(new_room)
        create = find_state(state, wire.M_ROOM_CREATE)
        if predecessor(create.get("content") if create else None) != old_room:
            log.error("%s does not name %s as its predecessor: not carrying", new_room, old_room)
            if worth_telling:
                await self._tell(
                    f"{cause}:predecessor",
                    old_room,
                    f"This room's tombstone points to {new_room}, which does not say it "
                    "replaces this room, so its connections stay here.",
                )
            return
        missing = still_missing(carried, state)
        refused = _unwritable(state, missing, self.bot)
        if refused:
            self._waiting[new_room] = old_room
            log.warning("bot may not write %s in %s: upgrade waits", refused, new_room)
            await self._tell(
                f"{cause}:power",
                new_room,
                f"This room replaces {old_room}, but I may not write its state ({refused}), "
                f"so I cannot carry over {_connections(count)}. Give me moderator power "
                "here and I will.",
            )
            return
        # Before the copy routes anything there, so no message misses the old thread.
        await self._remember(old_room, new_room)
        await self._copy(old_room, new_room, missing)
        if admin_user is not None:
            await self._admin_rooms.adopt(new_room, admin_user)
        self._room_state.retire(old_room, new_room)
        self._waiting.pop(new_room, None)
        if worth_telling:
            await self._outbox.send(
                cause,
                [
                    _notice(new_room, summary(old_room, carried, admin_user)),
                    _notice(
                        old_room,
                        f"This room was upgraded to {new_room}: "
                        + (f"{_connections(count)} post there now." if count else "I moved there."),
                    ),
                ],
            )
        # Last: until this is written, a restart or a duplicate tombstone redoes the missing.
        await self._client.set_room_account_data(
            old_room, wire.ROOM_UPGRADED, {"replacement_room": new_room}
        )
        log.info(
            "carried %d connections from %s to %s (%d written)",
            count,
            old_room,
            new_room,
            len(missing),
        )

    async def _copy(self, old_room: str, new_room: str, missing: Sequence[Carried]) -> None:
        """Write the missing state into the new room; each connection's own data first, so the
        hook built from the state finds its old hookId and secret."""
        ctx = self._room_state.build_context
        for item in missing:
            kind = self._room_state.kind_of(item.event_type)
            if kind is not None and kind.carry is not None:
                await kind.carry(ctx, old_room, new_room, item.state_key)
            await self._client.send_state(
                new_room, item.event_type, item.state_key, dict(item.content)
            )
            # Routed to the new room now, not when the homeserver echoes the state.
            await self._room_state.reload(
                new_room, item.event_type, item.state_key, dict(item.content)
            )

    async def _remember(self, old_room: str, new_room: str) -> None:
        """Record `new_room` replacing `old_room` (idempotent; before the marker, so a restart
        redoes it)."""
        if self._lineage is not None:
            await self._lineage.record(new_room, old_room)

    def _kind_name(self, event_type: str) -> str | None:
        kind = self._room_state.kind_of(event_type)
        return kind.name if kind is not None else None

    async def _tell(self, cause: str, room_id: str, text: str) -> None:
        await self._outbox.send(cause, [_notice(room_id, text)])


def _unwritable(state: Sequence[JSON], missing: Sequence[Carried], bot: str) -> str:
    """The state types of `missing` the bot may not write in a room with `state` ("" = none)."""
    levels_event = find_state(state, wire.M_ROOM_POWER_LEVELS)
    create_event = find_state(state, wire.M_ROOM_CREATE)
    levels = levels_event.get("content") if levels_event else None
    create = create_event.get("content") if create_event else None
    creator_ids = power.creators(
        create if isinstance(create, Mapping) else None,
        str(create_event.get("sender")) if create_event else None,
    )
    refused = sorted(
        {
            item.event_type
            for item in missing
            if not power.can_send_state(
                levels if isinstance(levels, Mapping) else None,
                bot,
                item.event_type,
                creator_ids=creator_ids,
            )
        }
    )
    return ", ".join(refused)


def _connections(count: int) -> str:
    return f"its {count} connection{'' if count == 1 else 's'}"


def _notice(room_id: str, text: str) -> OutgoingMessage:
    return OutgoingMessage(room_id=room_id, content={"msgtype": wire.M_NOTICE, "body": text})
