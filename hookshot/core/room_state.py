"""Keeps the connection store in step with room state: at startup and for live events.

State written by someone without `manageConnections` for the connection's service is not
applied: the bot writes back the last content an allowed user wrote, or redacts the event
when there is none.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hookshot.core.connections import OutgoingMessage, is_removal
from hookshot.core.hook_ids import HookIds, HookSecrets
from hookshot.core.kinds import BuildContext, Kind, KindLookup
from hookshot.core.markdown import notice_content
from hookshot.core.outbox import Outbox
from hookshot.core.store import ConnectionStore
from hookshot.errors import StateError
from hookshot.matrix.admin_rooms import AdminRooms
from hookshot.matrix.client import MatrixClient

log = logging.getLogger(__name__)

# (user_id, service, level) -> allowed
PermissionCheck = Callable[[str, str, str], bool]
Key = tuple[str, str, str]


class RoomStateSync:
    """Applies connection state events to the store, with permission checks and rollback."""

    def __init__(
        self,
        *,
        client: MatrixClient,
        store: ConnectionStore,
        hook_ids: HookIds,
        admin_rooms: AdminRooms,
        outbox: Outbox,
        allowed: PermissionCheck,
        kinds: KindLookup,
        enabled_services: frozenset[str],
        js_enabled: bool = False,
        hook_secrets: HookSecrets | None = None,
        sealed: Callable[[str], Awaitable[str | None]] | None = None,
        seal: Callable[[str, str], Awaitable[None]] | None = None,
        static_keys: frozenset[Key] = frozenset(),
    ) -> None:
        self._static = static_keys
        self._kinds = kinds
        self._client = client
        self._store = store
        self._hook_ids = hook_ids
        self._admin_rooms = admin_rooms
        self._outbox = outbox
        self._allowed = allowed
        self._enabled = enabled_services
        self._ctx = BuildContext(
            hook_ids=hook_ids,
            hook_secrets=hook_secrets,
            sealed=sealed,
            seal=seal,
            js_enabled=js_enabled,
        )
        # The last content an allowed user wrote, per connection key: what a rollback restores.
        self._good: dict[Key, dict[str, Any]] = {}
        # Upgraded rooms whose connections moved on: old room -> replacement room.
        self._retired: dict[str, str] = {}

    @property
    def js_enabled(self) -> bool:
        return self._ctx.js_enabled

    @property
    def bot(self) -> str:
        return self._client.bot_user_id

    @property
    def build_context(self) -> BuildContext:
        return self._ctx

    @property
    def static_keys(self) -> frozenset[Key]:
        return self._static

    def kind_of(self, event_type: str) -> Kind | None:
        """The kind of a state event type, also of services switched off here."""
        return self._kinds(event_type)

    def permitted(self, sender: str, event_type: str) -> bool:
        """Would state of this type written by `sender` be applied?"""
        kind = self._kinds(event_type)
        return kind is not None and self._may_write(sender, kind)

    def _kind(self, event_type: str) -> Kind | None:
        kind = self._kinds(event_type)
        return kind if kind is not None and kind.switch in self._enabled else None

    def _may_write(self, sender: str, kind: Kind) -> bool:
        return sender == self.bot or self._allowed(sender, kind.service, "manageConnections")

    async def load_room(self, room_id: str, state: list[dict[str, Any]] | None = None) -> int:
        """Read a joined room's state (or `state`, just read) into the store; returns the
        number of connections."""
        await self._admin_rooms.load(room_id)
        loaded = 0
        if state is None:
            state = await self._client.room_state(room_id)
        for event in state:
            event_type = event.get("type")
            kind = self._kind(event_type) if isinstance(event_type, str) else None
            if kind is None:
                continue
            sender = str(event.get("sender", ""))
            if not self._may_write(sender, kind):
                log.warning(
                    "ignoring %s/%s in %s: written by %s without manageConnections",
                    event_type,
                    event.get("state_key"),
                    room_id,
                    sender,
                )
                continue
            if await self._apply(kind, room_id, event, notify=False):
                loaded += 1
        return loaded

    async def on_state(self, event: Mapping[str, Any]) -> None:
        """A live state event from a transaction."""
        event_type = event.get("type")
        kind = self._kind(event_type) if isinstance(event_type, str) else None
        if kind is None:
            return
        room_id = str(event.get("room_id", ""))
        if room_id in self._retired:
            log.info("ignoring %s in %s: the room was upgraded", event_type, room_id)
            return
        sender = str(event.get("sender", ""))
        if not self._may_write(sender, kind):
            await self._roll_back(kind, room_id, event)
            return
        await self._apply(kind, room_id, event, notify=True)

    async def _apply(
        self, kind: Kind, room_id: str, event: Mapping[str, Any], *, notify: bool
    ) -> bool:
        event_type = str(event["type"])
        state_key = str(event.get("state_key", ""))
        if (room_id, event_type, state_key) in self._static:
            log.info("ignoring room state for static connection %s in %s", state_key, room_id)
            return False
        content = event.get("content")
        content = content if isinstance(content, dict) else {}
        key = (room_id, event_type, state_key)
        if is_removal(content):
            if self._store.apply(key, None):
                log.info("removed connection %s", key)
            self._good.pop(key, None)
            if kind.forget is not None:
                await kind.forget(self._ctx, room_id, state_key)
            return False
        try:
            conn = await kind.build(self._ctx, room_id, event_type, state_key, content)
        except StateError as err:
            log.warning("invalid %s state %r in %s: %s", kind.name, state_key, room_id, err)
            if notify:
                await self._outbox.send(
                    f"state:{event.get('event_id')}",
                    [_notice(room_id, f"Invalid {kind.name} connection `{state_key}`: {err}")],
                )
            return False
        if kind.vet is not None:
            vetted = await kind.vet(self._ctx, conn, self._store.get(key))
            conn = vetted.connection
            if vetted.notices and notify:
                notices = [_notice(room_id, text) for text in vetted.notices]
                await self._outbox.send(f"state:{event.get('event_id')}", notices)
        self._good[key] = dict(content)
        if self._store.apply(key, conn):
            # At startup (notify=False) every connection is applied once: keep that quiet.
            log.log(
                logging.INFO if notify else logging.DEBUG,
                "applied connection %s (priority %d)",
                key,
                conn.priority,
            )
        return True

    async def _roll_back(self, kind: Kind, room_id: str, event: Mapping[str, Any]) -> None:
        event_type = str(event["type"])
        state_key = str(event.get("state_key", ""))
        sender = str(event.get("sender", ""))
        event_id = str(event.get("event_id", ""))
        good = self._good.get((room_id, event_type, state_key))
        log.warning(
            "%s may not change %s/%s in %s: rolling back", sender, event_type, state_key, room_id
        )
        if good is not None:
            await self._client.send_state(room_id, event_type, state_key, good)
        else:
            await self._client.redact(
                room_id,
                event_id,
                f"rollback-{event_id}",
                reason="Not permitted to change bridge connections",
            )
        await self._outbox.send(
            f"rollback:{event_id}",
            [
                _notice(
                    room_id,
                    f"{sender} is not permitted to change {kind.service} "
                    "connections; the change was reverted.",
                )
            ],
        )

    async def reload(
        self, room_id: str, event_type: str, state_key: str, content: dict[str, Any]
    ) -> None:
        """Apply content the bridge itself just wrote (before the homeserver echoes it)."""
        kind = self._kind(event_type)
        if kind is not None and room_id not in self._retired:
            event = {"type": event_type, "state_key": state_key, "content": content}
            await self._apply(kind, room_id, event, notify=False)

    def retire(self, room_id: str, replacement: str) -> None:
        """The room was upgraded and its connections live in `replacement` now: forget its
        connections and apply no more of its state."""
        self.drop_room(room_id)
        self._retired[room_id] = replacement

    def replaced_by(self, room_id: str) -> str | None:
        return self._retired.get(room_id)

    def drop_room(self, room_id: str) -> None:
        self._store.drop_room(room_id)
        self._hook_ids.drop_room(room_id)
        self._admin_rooms.forget(room_id)
        for key in [k for k in self._good if k[0] == room_id]:
            del self._good[key]


def _notice(room_id: str, text: str) -> OutgoingMessage:
    return OutgoingMessage(room_id=room_id, content=notice_content(text))
