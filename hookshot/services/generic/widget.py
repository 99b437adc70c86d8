"""Generic and outbound hooks made and changed in the widget (services.base.WidgetManaged).

Unlike other services' connections, which the widget writes as plain state, a hook is made
through the provisioner (it mints the hookId, the outbound token) and removed there too
(the hookId is forgotten); changes are checked like the commands check them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hookshot import wire
from hookshot.core.connections import Connection
from hookshot.errors import CommandError, StateError
from hookshot.ops.delivery_log import DeliveryRecorder
from hookshot.services.generic import hook as generic_hook
from hookshot.services.generic import outbound_hook
from hookshot.services.generic.config import GenericConfig

if TYPE_CHECKING:
    from hookshot.core.store import ConnectionStore
    from hookshot.services.generic.provisioning import Provisioner


class GenericWidget:
    def __init__(
        self,
        settings: GenericConfig,
        provisioner: Callable[[], Provisioner],
        store: ConnectionStore,
        log: DeliveryRecorder | None,
    ) -> None:
        self._settings = settings
        self._provisioner = provisioner  # the bridge's, built after the services start
        self._store = store
        self._log = log

    def hook_url(self, hook_id: str) -> str:
        return self._settings.hook_url(hook_id)

    async def create(
        self, room_id: str, user_id: str, event_type: str, body: Mapping[str, Any]
    ) -> Connection | None:
        provisioner = self._provisioner()
        if event_type == wire.GENERIC_HOOK:
            state = generic_hook.parse_state(body, strict=True)
            await self._check_function(state)
            made = await provisioner.create_webhook(room_id, user_id, state.name, state=state)
            content = dataclasses.replace(state, expiration_date=made.expires).to_content()
            return generic_hook.from_state(room_id, event_type, state.name, content, made.hook_id)
        if event_type == wire.OUTBOUND_HOOK:
            name, url = body.get("name"), body.get("url")
            if not isinstance(name, str) or not isinstance(url, str):
                raise StateError("An outbound hook needs a name and a url")
            method = body.get("method", "PUT")
            token = await provisioner.create_outbound_hook(
                room_id, user_id, name, url, method if isinstance(method, str) else "PUT"
            )
            content = outbound_hook.parse_state(body).to_content()
            return outbound_hook.from_state(room_id, event_type, name, content, token)
        return None

    async def rebuild(
        self, connection: Connection, content: Mapping[str, Any]
    ) -> tuple[str, Connection] | None:
        if isinstance(connection, generic_hook.GenericHook):
            await self._check_function(generic_hook.parse_state(content, strict=True))
            built: Connection = generic_hook.from_state(
                connection.room_id,
                connection.event_type,
                connection.state_key,
                content,
                connection.hook_id,
                connection.secret,
            )
            return wire.SERVICE_WEBHOOKS, built
        if isinstance(connection, outbound_hook.OutboundHook):
            built = outbound_hook.from_state(
                connection.room_id,
                connection.event_type,
                connection.state_key,
                content,
                connection.token,
            )
            return wire.SERVICE_WEBHOOKS, built
        return None

    async def remove(self, room_id: str, user_id: str, connection: Connection) -> bool:
        if not isinstance(connection, generic_hook.GenericHook):
            return False
        await self._provisioner().remove_webhook(room_id, user_id, connection.name)
        return True

    async def rotate(self, room_id: str, user_id: str, connection: Connection) -> Connection:
        if not isinstance(connection, generic_hook.GenericHook):
            raise CommandError("Only webhooks have a URL to rotate.")
        await self._provisioner().rotate_webhook(room_id, user_id, connection.name)
        # The provisioner applied the new state, so the store holds the rotated hook.
        rotated = self._store.get(connection.key)
        if rotated is None:
            raise CommandError(f'The webhook "{connection.name}" was removed meanwhile.')
        return rotated

    async def delivery_log(self, connection: Connection) -> Sequence[Any] | None:
        if not isinstance(connection, generic_hook.GenericHook) or self._log is None:
            return None
        return [
            {
                "at": int(entry.at * 1000),
                "method": entry.method,
                "status": entry.status,
                "size": entry.size,
                "result": entry.result,
                "notes": list(entry.notes),
            }
            for entry in reversed(await self._log.entries(connection.hook_id))
        ]

    async def _check_function(self, state: generic_hook.GenericHookState) -> None:
        # Compiling takes a QuickJS runtime: off the event loop.
        js_enabled = self._settings.allow_js_transformation_functions
        await asyncio.to_thread(generic_hook.refuse_bad_function, state, js_enabled=js_enabled)
