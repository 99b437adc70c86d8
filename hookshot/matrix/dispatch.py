"""What the bridge does with each event the homeserver pushes: membership, connection
state and commands. Events arrive here from the durable `matrix` queue, in order per room."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from hookshot import wire
from hookshot.commands import registry
from hookshot.commands.admin import WELCOME, admin_commands
from hookshot.commands.context import CommandContext
from hookshot.commands.registry import CommandSet, merged
from hookshot.commands.setup import CATEGORIES, PREFIX, setup_commands
from hookshot.core.outbox import Outbox
from hookshot.core.queue.base import Queue
from hookshot.core.room_state import PermissionCheck, RoomStateSync
from hookshot.core.store import ConnectionStore
from hookshot.errors import CommandError
from hookshot.matrix.admin_rooms import AdminRooms
from hookshot.matrix.client import MatrixClient
from hookshot.matrix.permission_rooms import PermissionRooms
from hookshot.matrix.upgrades import RoomUpgrades
from hookshot.ops.delivery_log import DeliveryRecorder
from hookshot.services.base import ServiceRuntime
from hookshot.services.generic.provisioning import Provisioner
from hookshot.widget.room_widget import add_setup_widget
from hookshot.widget.settings import WidgetSettings

log = logging.getLogger(__name__)

INVITE_REFUSED = "You do not have permission to invite this bot."


class Dispatcher:
    """Handles one homeserver event at a time (per room), idempotently where it can."""

    def __init__(
        self,
        *,
        client: MatrixClient,
        room_state: RoomStateSync,
        upgrades: RoomUpgrades,
        admin_rooms: AdminRooms,
        store: ConnectionStore,
        outbox: Outbox,
        provisioner: Provisioner,
        allowed: PermissionCheck,
        allowed_any: Callable[[str, str], bool],
        is_bridge_user: Callable[[str], bool],
        delivery_log: DeliveryRecorder | None = None,
        widgets: WidgetSettings | None = None,
        queue: Queue | None = None,
        services: Mapping[str, ServiceRuntime] | None = None,
        permission_rooms: PermissionRooms | None = None,
    ) -> None:
        self._permission_rooms = permission_rooms
        runtimes = list((services or {}).values())
        # The services' commands join ours (a word taken twice fails here, at startup); theirs
        # first, so help lists the services (webhooks first) before the widget and help.
        self._setup = merged(*(r.setup_commands for r in runtimes), setup_commands)
        self._admin = merged(admin_commands, *(r.admin_commands for r in runtimes))
        self._categories = {**CATEGORIES, **{r.name: r.title for r in runtimes}}
        self._connection_commands = [
            r.connection_commands for r in runtimes if r.connection_commands is not None
        ]
        self._before_commands = [r.room_message for r in runtimes if r.room_message is not None]
        self._unmatched = [r.unmatched_message for r in runtimes if r.unmatched_message]
        self._reactions = [r.reaction for r in runtimes if r.reaction is not None]
        self._room_events = [r.room_event for r in runtimes if r.room_event is not None]
        self._widgets = widgets
        self._queue = queue
        self._delivery_log = delivery_log
        self._client = client
        self._room_state = room_state
        self._upgrades = upgrades
        self._admin_rooms = admin_rooms
        self._store = store
        self._outbox = outbox
        self._provisioner = provisioner
        self._allowed = allowed
        self._allowed_any = allowed_any
        self._is_bridge_user = is_bridge_user

    @property
    def bot(self) -> str:
        return self._client.bot_user_id

    async def handle(self, event: Mapping[str, Any]) -> None:
        event_type = event.get("type")
        if event_type == wire.M_ROOM_MEMBER and self._permission_rooms is not None:
            # Before any await: a command taken in the same batch is checked after this.
            self._permission_rooms.on_member(event)
        for seen in self._room_events:
            await seen(event)
        if event_type == wire.M_ROOM_MEMBER:
            await self._on_member(event)
        elif "state_key" in event:
            await self._upgrades.on_state(event)
            await self._room_state.on_state(event)
        elif event_type == wire.M_ROOM_MESSAGE:
            await self._on_message(event)
        elif event_type == wire.M_REACTION:
            await self._on_reaction(event)

    # --- membership ---------------------------------------------------------------------

    async def _on_member(self, event: Mapping[str, Any]) -> None:
        room_id = str(event.get("room_id"))
        content = event.get("content")
        content = content if isinstance(content, dict) else {}
        membership = content.get("membership")
        target = event.get("state_key")
        if target != self.bot:
            owner = self._admin_rooms.owner(room_id)
            if target == owner and membership in ("leave", "ban"):
                # The admin room's user left: the room has no purpose any more.
                self._room_state.drop_room(room_id)
                await self._client.leave(room_id)
            return
        if membership == "invite":
            await self._on_invite(room_id, str(event.get("sender")), content)
        elif membership == "join":
            count = await self._upgrades.load_room(room_id)
            log.info("joined %s: %d connections", room_id, count)
            if self._permission_rooms is not None:
                await self._permission_rooms.bot_joined(room_id)
        elif membership in ("leave", "ban"):
            self._room_state.drop_room(room_id)
            log.info("left %s", room_id)

    async def _on_invite(self, room_id: str, inviter: str, content: Mapping[str, Any]) -> None:
        if not self._allowed_any(inviter, "login") and not await self._names_as_actor(room_id):
            log.info("refusing invite to %s from %s", room_id, inviter)
            await self._client.leave(room_id, INVITE_REFUSED)
            return
        await self._client.join(room_id)
        if content.get("is_direct") is True:
            greet = functools.partial(self._welcome, room_id, f"welcome:{room_id}")
            await self._admin_rooms.adopt(room_id, inviter, greet)
        elif self._widgets is not None and self._widgets.add_setup_widget_on_invite:
            try:
                await add_setup_widget(self._client, room_id, self._widgets)
            except CommandError as err:
                log.info("no setup widget in %s: %s", room_id, err)

    async def _names_as_actor(self, room_id: str) -> bool:
        """A room the config names as a permissions actor is joined whoever invites: the
        operator asked for it, and its members' levels depend on the bot being there."""
        return self._permission_rooms is not None and await self._permission_rooms.claims(room_id)

    async def _welcome(self, room_id: str, cause: str) -> None:
        ctx = self._context(room_id, "", cause)
        await ctx.notice(WELCOME)

    # --- messages -----------------------------------------------------------------------

    def _context(self, room_id: str, sender: str, event_id: str) -> CommandContext:
        return CommandContext(
            room_id=room_id,
            sender=sender,
            event_id=event_id,
            provisioner=self._provisioner,
            admin_rooms=self._admin_rooms,
            outbox=self._outbox,
            store=self._store,
            matrix=self._client,
            delivery_log=self._delivery_log,
            widgets=self._widgets,
        )

    async def _on_message(self, event: Mapping[str, Any]) -> None:
        sender = str(event.get("sender", ""))
        if self._is_bridge_user(sender):
            return
        content = event.get("content")
        if not isinstance(content, dict) or "m.new_content" in content:
            return  # edits are not commands
        body = content.get("body")
        if not isinstance(body, str):
            return
        room_id = str(event.get("room_id"))
        ctx = self._context(room_id, sender, str(event.get("event_id")))
        replacement = self._room_state.replaced_by(room_id)
        if replacement is not None:
            if body.lstrip().startswith("!"):
                await ctx.notice(f"This room was upgraded: I answer in {replacement} now.")
            return
        if self._admin_rooms.owner(room_id) is not None:
            await self._admin_command(ctx, body)
            return
        for before in self._before_commands:
            if await before(ctx, content, body):
                return
        await self._room_command(ctx, body)

    async def _admin_command(self, ctx: CommandContext, body: str) -> None:
        if ctx.sender != self._admin_rooms.owner(ctx.room_id):
            return
        # `!hookshot help` out of habit works here too.
        text = body.strip()
        if text.lower().startswith(PREFIX):
            text = text[len(PREFIX) :]
        await self._run(ctx, text, "", self._admin, None)

    async def _room_command(self, ctx: CommandContext, body: str) -> None:
        """Connections answer first, highest priority first; then `!hookshot`."""
        for conn in self._store.in_room(ctx.room_id):
            found = None
            for lookup in self._connection_commands:
                found = found or lookup(conn)
            if found is None:
                continue
            conn_ctx = dataclasses.replace(ctx, connection=conn)
            if await self._run(conn_ctx, body, found.prefix, found.commands, found.service):
                return
        if await self._run(ctx, body, PREFIX, self._setup, None):
            return
        for unmatched in self._unmatched:
            await unmatched(ctx, body)

    async def _on_reaction(self, event: Mapping[str, Any]) -> None:
        """A user's reaction, for the services that act on them (GitHub's notices)."""
        sender = str(event.get("sender", ""))
        content = event.get("content")
        relates = content.get("m.relates_to") if isinstance(content, dict) else None
        if not self._reactions or self._is_bridge_user(sender) or not isinstance(relates, dict):
            return
        ctx = self._context(str(event.get("room_id")), sender, str(event.get("event_id")))
        for hook in self._reactions:
            await hook(ctx, relates)

    async def _run(
        self,
        ctx: CommandContext,
        body: str,
        prefix: str,
        commands: CommandSet,
        service: str | None,
    ) -> bool:
        """Run `body` if it is one of `commands` under `prefix`; False if not for us."""
        try:
            argv = registry.split_command(body, prefix)
            if argv is None:
                return False
            permitted = (
                self._allowed(ctx.sender, service, "commands")
                if service
                else self._allowed_any(ctx.sender, "commands")
            )
            if not permitted:
                raise CommandError("You do not have permission to use this command.")
            found = commands.match(argv or ["help"])
            if found is None:
                raise CommandError(f"Unknown command. Try `{(prefix + ' help').strip()}`.")
            command, args = found
            ctx.command_set, ctx.categories = commands, self._categories
            await registry.run(command, args, ctx)
        except CommandError as err:
            await ctx.react("⛔")
            await ctx.notice(f"Failed to handle command: {err}", html=False)
            return True
        except Exception:
            log.exception("command %r in %s failed", body, ctx.room_id)
            await ctx.react("⛔")
            await ctx.notice("Failed to handle command.", html=False)
            return True
        await ctx.react("✅")
        return True
