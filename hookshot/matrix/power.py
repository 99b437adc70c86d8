"""Power levels, as the homeserver computes them (pure functions over state content).

Room version 12 gives the creators implicit infinite power; they never appear in
`power_levels.users`, so a level lookup must consult the create event too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# Room versions where m.room.create's sender and `additional_creators` outrank everyone.
_CREATOR_POWER_VERSIONS = frozenset({"12", "org.matrix.hydra.11"})


def _int(value: object, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return default


def creators(create: Mapping[str, Any] | None, create_sender: str | None) -> set[str]:
    """Users with infinite power in rooms whose version says so."""
    if not create or str(create.get("room_version", "1")) not in _CREATOR_POWER_VERSIONS:
        return set()
    found = {create_sender} if create_sender else set()
    extra = create.get("additional_creators")
    if isinstance(extra, list):
        found.update(u for u in extra if isinstance(u, str))
    return found


def user_level(
    power_levels: Mapping[str, Any] | None,
    user_id: str,
    *,
    creator_ids: set[str] | frozenset[str] = frozenset(),
) -> float:
    """The user's power level; creators of v12 rooms are infinite."""
    if user_id in creator_ids:
        return math.inf
    if power_levels is None:
        # No power_levels event: the creator has 100, everyone else 0.
        return 0
    users = power_levels.get("users")
    if isinstance(users, Mapping) and user_id in users:
        return _int(users[user_id], 0)
    return _int(power_levels.get("users_default"), 0)


def state_level(power_levels: Mapping[str, Any] | None, event_type: str) -> int:
    """The level needed to send a state event of `event_type` ("" = state_default)."""
    if power_levels is None:
        return 0
    events = power_levels.get("events")
    if event_type and isinstance(events, Mapping) and event_type in events:
        return _int(events[event_type], 50)
    return _int(power_levels.get("state_default"), 50)


def event_level(power_levels: Mapping[str, Any] | None, event_type: str) -> int:
    """The level needed to send a timeline event of `event_type`."""
    if power_levels is None:
        return 0
    events = power_levels.get("events")
    if isinstance(events, Mapping) and event_type in events:
        return _int(events[event_type], 0)
    return _int(power_levels.get("events_default"), 0)


def action_level(power_levels: Mapping[str, Any] | None, action: str) -> int:
    """`redact`, `kick`, `ban` or `invite`, with the spec's defaults."""
    default = 0 if action == "invite" else 50
    if power_levels is None:
        return default
    return _int(power_levels.get(action), default)


def can_send_state(
    power_levels: Mapping[str, Any] | None,
    user_id: str,
    event_type: str,
    *,
    creator_ids: set[str] | frozenset[str] = frozenset(),
) -> bool:
    return user_level(power_levels, user_id, creator_ids=creator_ids) >= state_level(
        power_levels, event_type
    )
