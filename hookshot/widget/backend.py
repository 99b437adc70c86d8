"""The bridge side of the widget API: what the routes ask, answered with the store and the
same Provisioner the commands use (one path to create or change a connection)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hookshot import wire
from hookshot.config import Config
from hookshot.core.connections import Connection
from hookshot.core.kinds import Kind
from hookshot.core.store import ConnectionStore
from hookshot.errors import CommandError, StateError
from hookshot.matrix import power
from hookshot.matrix.client import MatrixClient
from hookshot.ops.delivery_log import DeliveryRecorder
from hookshot.services import registry
from hookshot.services.base import ServiceRuntime
from hookshot.services.generic import hook as generic_hook
from hookshot.services.generic import outbound_hook
from hookshot.services.generic.provisioning import Provisioner
from hookshot.widget.routes import Created, JSONValue, RoomPower

log = logging.getLogger(__name__)


class BridgeWidgetBackend:
    """`WidgetBackend` over the running bridge."""

    def __init__(
        self,
        *,
        config: Config,
        client: MatrixClient,
        store: ConnectionStore,
        provisioner: Provisioner,
        allowed: Callable[[str, str, str], bool],
        log: DeliveryRecorder | None = None,
        services: Mapping[str, ServiceRuntime] | None = None,
    ) -> None:
        self._services = dict(services or {})
        self._log = log
        self._config = config
        self._client = client
        self._store = store
        self._provisioner = provisioner
        self._allowed = allowed

    @property
    def bot_user_id(self) -> str:
        return self._client.bot_user_id

    def service_config(self, service: str) -> Mapping[str, Any] | None:
        for runtime in self._services.values():
            if runtime.widget_sections is not None and service in runtime.widget_sections:
                return runtime.widget_sections[service]
        named = self._services.get(service)
        return (named.widget_config or {}) if named is not None else None

    async def public_config(self, service: str) -> Mapping[str, Any] | None:
        config = self.service_config(service)
        runtime = self._services.get(service)
        if config is None or runtime is None or runtime.public_config is None:
            return config
        return await runtime.public_config(config)

    @property
    def extra_services(self) -> tuple[str, ...]:
        return tuple(self._services)

    def can_manage(self, user_id: str, service: str) -> bool:
        return self._allowed(user_id, service, "manageConnections")

    async def bot_joined(self, room_id: str) -> bool:
        return room_id in await self._client.joined_rooms()

    async def is_joined(self, room_id: str, user_id: str) -> bool:
        member = await self._client.get_state(room_id, wire.M_ROOM_MEMBER, user_id)
        return member is not None and member.get("membership") == "join"

    async def room_power(self, room_id: str) -> RoomPower:
        levels = await self._client.get_state(room_id, wire.M_ROOM_POWER_LEVELS)
        create = next(
            (
                e
                for e in await self._client.room_state(room_id)
                if e.get("type") == wire.M_ROOM_CREATE
            ),
            {},
        )
        creators = power.creators(create.get("content"), create.get("sender"))
        return RoomPower(levels, frozenset(creators))

    def connections(self, room_id: str) -> Sequence[Connection]:
        return self._store.in_room(room_id)

    def hook_url(self, hook_id: str) -> str:
        return self._provisioner.webhooks.hook_url(hook_id)

    async def create(
        self, room_id: str, user_id: str, event_type: str, body: Mapping[str, Any]
    ) -> Created:
        if event_type == wire.GENERIC_HOOK:
            state = generic_hook.parse_state(body)
            await self._check_function(state)
            made = await self._provisioner.create_webhook(room_id, user_id, state.name, state=state)
            content = dataclasses.replace(state, expiration_date=made.expires).to_content()
            return Created(
                generic_hook.from_state(room_id, event_type, state.name, content, made.hook_id)
            )
        if event_type == wire.OUTBOUND_HOOK:
            name, url = body.get("name"), body.get("url")
            if not isinstance(name, str) or not isinstance(url, str):
                raise StateError("An outbound hook needs a name and a url")
            method = body.get("method", "PUT")
            token = await self._provisioner.create_outbound_hook(
                room_id, user_id, name, url, method if isinstance(method, str) else "PUT"
            )
            content = outbound_hook.parse_state(body).to_content()
            return Created(outbound_hook.from_state(room_id, event_type, name, content, token))
        for runtime in self._services.values():
            kind = _kind_of(runtime, event_type)
            if kind is not None and runtime.widget_connections is not None:
                key, content, built = await runtime.widget_connections.create(
                    room_id, event_type, body
                )
                await self._write(room_id, user_id, kind.service, event_type, key, content)
                return Created(built)
        raise CommandError(f"Connections of type {event_type} cannot be made here.")

    async def update(
        self, room_id: str, user_id: str, connection: Connection, content: Mapping[str, Any]
    ) -> Connection:
        new = dict(content)
        if isinstance(connection, generic_hook.GenericHook):
            await self._check_function(generic_hook.parse_state(new))
            service = wire.SERVICE_WEBHOOKS
            built: Connection = generic_hook.from_state(
                room_id,
                connection.event_type,
                connection.state_key,
                new,
                connection.hook_id,
                connection.secret,
            )
        elif isinstance(connection, outbound_hook.OutboundHook):
            service = wire.SERVICE_WEBHOOKS
            built = outbound_hook.from_state(
                room_id, connection.event_type, connection.state_key, new, connection.token
            )
        else:
            service, rebuilt = self._service_rebuild(connection, new)
            if rebuilt is None:
                raise CommandError("This connection cannot be changed here.")
            built = rebuilt
        await self._write(
            room_id, user_id, service, connection.event_type, connection.state_key, new
        )
        return built

    async def remove(self, room_id: str, user_id: str, connection: Connection) -> None:
        if isinstance(connection, generic_hook.GenericHook):
            await self._provisioner.remove_webhook(room_id, user_id, connection.name)
            return
        service = self._permission_service(connection.event_type)
        if service is None:
            raise CommandError("This connection cannot be removed here.")
        await self._write(
            room_id,
            user_id,
            service,
            connection.event_type,
            connection.state_key,
            {"disabled": True},
        )

    async def rotate(self, room_id: str, user_id: str, connection: Connection) -> Connection:
        if not isinstance(connection, generic_hook.GenericHook):
            raise CommandError("Only webhooks have a URL to rotate.")
        await self._provisioner.rotate_webhook(room_id, user_id, connection.name)
        # The provisioner applied the new state, so the store holds the rotated hook.
        rotated = self._store.get(connection.key)
        if rotated is None:
            raise CommandError(f'The webhook "{connection.name}" was removed meanwhile.')
        return rotated

    async def delivery_log(self, connection: Connection) -> Sequence[JSONValue] | None:
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

    async def targets(
        self, user_id: str, event_type: str, filters: Mapping[str, str]
    ) -> Sequence[JSONValue] | None:
        """What the user may connect: a service's targets, e.g. their repositories (with the
        token they gave the bot); CommandError when they have none."""
        for runtime in self._services.values():
            hooks = runtime.widget_connections
            if hooks is not None and _kind_of(runtime, event_type) is not None:
                return await hooks.targets(user_id, event_type, filters)
        return None

    async def _check_function(self, state: generic_hook.GenericHookState) -> None:
        # Compiling takes a QuickJS runtime: off the event loop.
        generic = self._config.generic
        js_enabled = generic is not None and generic.allow_js_transformation_functions
        await asyncio.to_thread(generic_hook.refuse_bad_function, state, js_enabled=js_enabled)

    def _service_rebuild(
        self, connection: Connection, content: Mapping[str, Any]
    ) -> tuple[str, Connection | None]:
        """(permission service, the changed connection) from the service that owns it."""
        for runtime in self._services.values():
            kind = _kind_of(runtime, connection.event_type)
            if kind is not None and runtime.widget_connections is not None:
                return kind.service, runtime.widget_connections.rebuild(connection, content)
        return "", None

    def _permission_service(self, event_type: str) -> str | None:
        """The `permissions` service guarding connections of `event_type`."""
        for runtime in self._services.values():
            kind = _kind_of(runtime, event_type)
            if kind is not None:
                return kind.service
        kind = registry.kind_for(event_type)
        return kind.service if kind is not None else None

    async def _write(
        self,
        room_id: str,
        user_id: str,
        service: str,
        event_type: str,
        state_key: str,
        content: Mapping[str, Any],
    ) -> None:
        await self._provisioner.check(room_id, user_id, service, event_type)
        await self._provisioner.write_state(room_id, event_type, state_key, dict(content))


def _kind_of(runtime: ServiceRuntime, event_type: str) -> Kind | None:
    return next((k for k in runtime.kinds if event_type in k.event_types), None)
