"""The Forgejo repository connection kind (`core.kinds.Kind`).

Known whether or not Forgejo is configured (room upgrades and the widget name it); building a
connection needs the configured instances, so the running service (service.py) replaces
`build` with one that has them. Without them no instance is recognised.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from hookshot.core.connections import Connection
from hookshot.core.kinds import BuildContext, Kind
from hookshot.errors import StateError
from hookshot.services.forgejo.repo import from_state, parse_state
from hookshot.services.forgejo.wire import FORGEJO_REPO_TYPES, SERVICE


def with_instances(instances: Mapping[str, str]) -> Kind:
    """The kind building connections on `instances` (name -> base URL)."""

    async def build(
        ctx: BuildContext, room_id: str, event_type: str, state_key: str, content: Mapping[str, Any]
    ) -> Connection:
        url = instances.get(parse_state(content).instance)
        if url is None:
            raise StateError("Instance name not recognised")
        return from_state(room_id, event_type, state_key, content, instance_url=url)

    return dataclasses.replace(FORGEJO_REPO_KIND, build=build)


async def _build_unconfigured(
    ctx: BuildContext, room_id: str, event_type: str, state_key: str, content: Mapping[str, Any]
) -> Connection:
    parse_state(content)  # bad state says why first
    raise StateError("Instance name not recognised")


FORGEJO_REPO_KIND = Kind("forgejo_repo", SERVICE, FORGEJO_REPO_TYPES, _build_unconfigured)
