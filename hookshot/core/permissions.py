"""Hookshot's bridge permission model, as pure functions over the `permissions` config.

A rule names an *actor* and grants *levels* on *services*. A user is allowed an action when
ANY rule that matches them grants the service at that level or higher (rules only add).

Actors: `"*"` (everyone), a server name (`example.com`, compared with everything after the
first `:` of the user id, so ports count), a full user id, or a room, by id (`!…`) or alias
(`#…:server`), which matches the room's current members. The caller passes the user's rooms
(a collection of room actors, or a predicate over one); without it a room actor never matches.
`Permissions` holds the rules with the membership cache (core/memberships.py) that answers it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from hookshot.core.memberships import (
    ROOM_ALIAS_SIGIL,
    ROOM_ID_SIGIL,
    ActorMemberships,
    is_room_actor,
)
from hookshot.errors import PermissionDenied


class Level(IntEnum):
    """Permission levels; each one includes every lower one."""

    COMMANDS = 1
    LOGIN = 2
    NOTIFICATIONS = 3
    MANAGE_CONNECTIONS = 4
    ADMIN = 5

    @property
    def config_name(self) -> str:
        """The spelling used in the config file (`manageConnections`, …)."""
        return _LEVEL_NAMES[self]

    @classmethod
    def parse(cls, name: str) -> Level:
        """The level spelled `name` in the config; ValueError names the valid ones."""
        for level, spelled in _LEVEL_NAMES.items():
            if spelled == name:
                return level
        raise ValueError(f"must be one of {', '.join(LEVEL_NAMES)}")


_LEVEL_NAMES: Final[dict[Level, str]] = {
    Level.COMMANDS: "commands",
    Level.LOGIN: "login",
    Level.NOTIFICATIONS: "notifications",
    Level.MANAGE_CONNECTIONS: "manageConnections",
    Level.ADMIN: "admin",
}
LEVEL_NAMES: Final[tuple[str, ...]] = tuple(_LEVEL_NAMES.values())

ANY: Final = "*"

# A server name: a DNS name or IPv4 address, or an IPv6 literal in brackets; an optional port.
SERVER_NAME: Final = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::\d{1,5})?$")
# The opaque part of a room id or an alias's localpart: anything visible but ':'.
_OPAQUE: Final = re.compile(r"^[^\s:]+$")

# Service names hookshot checks. "generic" is the inbound/outbound webhooks service.
SERVICES: Final[tuple[str, ...]] = (
    "github",
    "gitlab",
    "generic",
    "feeds",
    "jira",
    "figma",
    "challengehound",
    "openproject",
)

# Hookshot 7.x checks "webhooks" for `!hookshot webhook` while newer code checks "generic" (and
# still honours "webhooks"); its docs say "feed" while the code checks "feeds". Treat each pair
# as one service so every spelling a working hookshot config may hold keeps working.
SERVICE_ALIASES: Final[dict[str, str]] = {"webhooks": "generic", "feed": "feeds"}


def canonical_service(name: str) -> str:
    """Lower-cased service name with hookshot's alternative spellings folded together."""
    lowered = name.strip().lower()
    return SERVICE_ALIASES.get(lowered, lowered)


@dataclass(frozen=True, slots=True)
class ServicePermission:
    """`level` on `service` (`"*"`: every service); `service` is canonical."""

    level: Level
    service: str = ANY

    def covers(self, service: str) -> bool:
        """Whether this grant applies to `service` (any spelling)."""
        return self.service == ANY or self.service == canonical_service(service)


@dataclass(frozen=True, slots=True)
class ActorPermission:
    """One `permissions` entry: the grants given to `actor`."""

    actor: str
    services: tuple[ServicePermission, ...]


# The rooms a user is in: a collection of room actors (ids, aliases), or a predicate over one.
UserRooms = Collection[str] | Callable[[str], bool]

# Refusal wordings, as hookshot words them, so users and scripts see the same text.
DENIED_COMMAND: Final = "You do not have permission to use this command."
DENIED_INVITE: Final = "You do not have permission to invite this bot."
DENIED_LOGIN: Final = "User does not have permission to log in to service"
DENIED_PROVISION_API: Final = (
    "User is not permitted to provision connections for this type of service."
)


def denied_provision(service: str) -> str:
    """Hookshot's refusal for a connection command on `service` (manageConnections)."""
    return f"You are not permitted to provision connections for {service}."


def default_permissions(domain: str) -> tuple[ActorPermission, ...]:
    """Hookshot's default when `permissions` is absent: admin on everything for `domain`."""
    return (ActorPermission(actor=domain, services=(ServicePermission(Level.ADMIN, ANY),)),)


def interested_rooms(perms: Iterable[ActorPermission]) -> tuple[str, ...]:
    """Room ids and aliases used as actors, whose membership the caller must track."""
    return tuple(dict.fromkeys(p.actor for p in perms if is_room_actor(p.actor)))


def room_actor_problem(actor: str) -> str | None:
    """Why `actor` is not a valid room id or alias (None when it is, or is no room actor).

    Room ids are `!opaque:server`, or `!opaque` alone in room version 12 and later; aliases
    are always `#localpart:server`.
    """
    if actor.startswith(ROOM_ID_SIGIL):
        opaque, sep, server = actor[1:].partition(":")
        if not _OPAQUE.match(opaque) or (sep and not SERVER_NAME.match(server)):
            return f"{actor!r} is not a room id (!opaque:server)"
    elif actor.startswith(ROOM_ALIAS_SIGIL):
        local, sep, server = actor[1:].partition(":")
        if not _OPAQUE.match(local) or not sep or not SERVER_NAME.match(server):
            return f"{actor!r} is not a room alias (#alias:server)"
    return None


def _server_name(user_id: str) -> str | None:
    # Everything after the first colon: server names may carry a port (`host:8448`).
    _, sep, server = user_id.partition(":")
    return server if sep else None


def _in_room(room_id: str, rooms: UserRooms | None) -> bool:
    if rooms is None:
        return False
    if callable(rooms):
        return rooms(room_id)
    return room_id in rooms


def matches_actor(actor: str, user_id: str, *, rooms: UserRooms | None = None) -> bool:
    """Whether a rule for `actor` applies to `user_id` (who is in `rooms`)."""
    if is_room_actor(actor):
        return _in_room(actor, rooms)
    return actor in (ANY, user_id) or actor == _server_name(user_id)


def _as_level(level: Level | str) -> Level:
    return level if isinstance(level, Level) else Level.parse(level)


def check_permission(
    perms: Iterable[ActorPermission],
    user_id: str,
    service: str,
    level: Level | str,
    *,
    rooms: UserRooms | None = None,
) -> bool:
    """Whether `user_id` holds `level` (or higher) on `service`."""
    wanted = _as_level(level)
    if _server_name(user_id) is None:
        return False
    for perm in perms:
        if not matches_actor(perm.actor, user_id, rooms=rooms):
            continue
        if any(g.covers(service) and g.level >= wanted for g in perm.services):
            return True
    return False


def check_any_service(
    perms: Iterable[ActorPermission],
    user_id: str,
    level: Level | str,
    *,
    rooms: UserRooms | None = None,
) -> bool:
    """Whether `user_id` holds `level` on at least one service (hookshot's checkActionAny)."""
    wanted = _as_level(level)
    if _server_name(user_id) is None:
        return False
    return any(
        g.level >= wanted
        for perm in perms
        if matches_actor(perm.actor, user_id, rooms=rooms)
        for g in perm.services
    )


def require_permission(
    perms: Iterable[ActorPermission],
    user_id: str,
    service: str,
    level: Level | str,
    *,
    rooms: UserRooms | None = None,
) -> None:
    """Raise PermissionDenied, worded as hookshot words it, unless the check passes."""
    wanted = _as_level(level)
    if check_permission(perms, user_id, service, wanted, rooms=rooms):
        return
    if wanted >= Level.MANAGE_CONNECTIONS:
        raise PermissionDenied(denied_provision(service))
    if wanted == Level.LOGIN:
        raise PermissionDenied(DENIED_LOGIN)
    raise PermissionDenied(DENIED_COMMAND)


class Permissions:
    """The configured rules plus the membership cache of their room actors.

    Its `allowed(user_id, service, level)` and `allowed_any(user_id, level)` fit the
    permission-check callables the dispatcher and provisioning take.
    """

    def __init__(self, perms: Iterable[ActorPermission]) -> None:
        self.rules = tuple(perms)
        self.members = ActorMemberships(interested_rooms(self.rules))

    def _rooms_of(self, user_id: str) -> Callable[[str], bool]:
        return lambda actor: self.members.contains(actor, user_id)

    def allowed(self, user_id: str, service: str, level: Level | str) -> bool:
        """`check_permission` over the rules and the cached memberships."""
        return check_permission(self.rules, user_id, service, level, rooms=self._rooms_of(user_id))

    def allowed_any(self, user_id: str, level: Level | str) -> bool:
        """`check_any_service` over the rules and the cached memberships."""
        return check_any_service(self.rules, user_id, level, rooms=self._rooms_of(user_id))
