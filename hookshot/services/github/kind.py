"""The GitHub repository connection kind (`core.kinds.Kind`): known whether or not GitHub is
configured (room state, room upgrades and the widget name it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookshot import wire
from hookshot.core.connections import Connection
from hookshot.core.kinds import BuildContext, Kind
from hookshot.services.github import repo


async def _build(
    ctx: BuildContext, room_id: str, event_type: str, state_key: str, content: Mapping[str, Any]
) -> Connection:
    return repo.from_state(room_id, event_type, state_key, content)


GITHUB_REPO_KIND = Kind("github_repo", wire.SERVICE_GITHUB, wire.GITHUB_REPO_TYPES, _build)
