"""Forgejo repository connections made and changed in the widget
(services.base.WidgetConnections): made as `!hookshot forgejo repo` makes them (the user's
token must reach the repository with push rights), changed as room state is parsed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from hookshot.core.connections import Connection
from hookshot.errors import StateError
from hookshot.services.forgejo.access import ForgejoAccess
from hookshot.services.forgejo.repo import ForgejoRepo, from_state, state_key, validate_new_state


class ForgejoWidget:
    def __init__(self, access: ForgejoAccess) -> None:
        self._access = access

    async def create(
        self, room_id: str, user_id: str, event_type: str, body: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], Connection]:
        state = validate_new_state(body)  # bad fields are refused before anything is asked
        url = self._access.config.instances.get(state.instance)
        if url is None:
            raise StateError("Instance name not recognised")
        info = await self._access.writable_repo(user_id, state.instance, state.owner, state.repo)
        # The names as the instance spells them, as the command writes them.
        state = replace(state, owner=info.owner, repo=info.name)
        key = state_key(state.instance, state.owner, state.repo)
        content = state.to_content()
        return key, content, from_state(room_id, event_type, key, content, instance_url=url)

    def rebuild(self, connection: Connection, content: Mapping[str, Any]) -> Connection | None:
        if not isinstance(connection, ForgejoRepo):
            return None
        return from_state(
            connection.room_id,
            connection.event_type,
            connection.state_key,
            content,
            instance_url=connection.instance_url,
        )

    async def targets(
        self, user_id: str, event_type: str, filters: Mapping[str, str]
    ) -> Sequence[Any] | None:
        return None  # the client lists no repositories (yet): the widget asks for a URL
