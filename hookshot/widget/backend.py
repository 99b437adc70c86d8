"""The bridge side of the widget API: what the routes ask, answered with the store and the
same Provisioner the commands use (one path to create or change a connection)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hookshot import wire
from hookshot.config import Config
from hookshot.core.connections import Connection
from hookshot.core.kinds import Kind
from hookshot.core.store import ConnectionStore
from hookshot.errors import CommandError
from hookshot.matrix import power
from hookshot.matrix.client import MatrixClient
from hookshot.ops.delivery_log import DeliveryRecorder
from hookshot.services import registry
from hookshot.services.base import ServiceRuntime, WidgetManaged
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
        for managed in self._managed():
            return managed.hook_url(hook_id)
        return hook_id  # no service has hooks here (none can be shown)

    async def create(
        self, room_id: str, user_id: str, event_type: str, body: Mapping[str, Any]
    ) -> Created:
        for managed in self._managed():
            made = await managed.create(room_id, user_id, event_type, body)
            if made is not None:
                return Created(made)
        for runtime in self._services.values():
            kind = _kind_of(runtime, event_type)
            if kind is not None and runtime.widget_connections is not None:
                key, content, built = await runtime.widget_connections.create(
                    room_id, user_id, event_type, body
                )
                await self._write(room_id, user_id, kind.service, event_type, key, content)
                return Created(built)
        raise CommandError(f"Connections of type {event_type} cannot be made here.")

    async def update(
        self, room_id: str, user_id: str, connection: Connection, content: Mapping[str, Any]
    ) -> Connection:
        new = dict(content)
        for managed in self._managed():
            found = await managed.rebuild(connection, new)
            if found is not None:
                service, built = found
                break
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
        for managed in self._managed():
            if await managed.remove(room_id, user_id, connection):
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
        for managed in self._managed():
            return await managed.rotate(room_id, user_id, connection)
        raise CommandError("Only webhooks have a URL to rotate.")

    async def delivery_log(self, connection: Connection) -> Sequence[JSONValue] | None:
        for managed in self._managed():
            found = await managed.delivery_log(connection)
            if found is not None:
                return found
        return None

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

    def _managed(self) -> list[WidgetManaged]:
        return [r.widget_managed for r in self._services.values() if r.widget_managed]

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
