"""Hookshot's permission model: actors x services x levels, and its refusal wording."""

from __future__ import annotations

import pytest

from hookshot.core.permissions import (
    LEVEL_NAMES,
    ActorPermission,
    Level,
    Permissions,
    ServicePermission,
    canonical_service,
    check_any_service,
    check_permission,
    default_permissions,
    interested_rooms,
    require_permission,
    room_actor_problem,
)
from hookshot.errors import PermissionDenied

ROOM = "!perm:example.org"
ALIAS = "#perm:example.org"


def rule(actor: str, *grants: tuple[str, str]) -> ActorPermission:
    return ActorPermission(
        actor, tuple(ServicePermission(Level.parse(lvl), canonical_service(s)) for s, lvl in grants)
    )


# The example from hookshot's docs/setup.md, minus the space, plus a room and a port.
PERMS = (
    rule("*", ("*", "commands")),
    rule("support.example.org", ("jira", "login"), ("github", "commands")),
    rule("engineering.example.org", ("*", "notifications")),
    rule("management.example.org", ("*", "manageConnections")),
    rule("@alice:example.org", ("*", "admin")),
    rule(ROOM, ("github", "manageConnections")),
    rule("ported.example.org:8448", ("gitlab", "admin")),
    rule("legacy.example.org", ("webhooks", "manageConnections")),
)


@pytest.mark.parametrize(
    ("user", "service", "level", "expected"),
    [
        # "*" gives everyone commands on every service, and nothing more.
        ("@bob:elsewhere.net", "github", "commands", True),
        ("@bob:elsewhere.net", "github", "login", False),
        # Server-name actors.
        ("@sam:support.example.org", "jira", "login", True),
        ("@sam:support.example.org", "jira", "notifications", False),
        ("@sam:support.example.org", "github", "login", False),
        ("@eve:engineering.example.org", "gitlab", "notifications", True),
        ("@eve:engineering.example.org", "gitlab", "manageConnections", False),
        ("@max:management.example.org", "feeds", "manageConnections", True),
        ("@max:management.example.org", "feeds", "admin", False),
        # A server name is matched exactly: subdomains and lookalikes are not it.
        ("@x:sub.management.example.org", "feeds", "manageConnections", False),
        # Everything after the first colon is the server name, port included.
        ("@p:ported.example.org:8448", "gitlab", "admin", True),
        ("@p:ported.example.org", "gitlab", "admin", False),
        # A user id actor.
        ("@alice:example.org", "openproject", "admin", True),
        ("@alicia:example.org", "openproject", "admin", False),
        # Room actors never match without membership information.
        ("@member:other.net", "github", "manageConnections", False),
        # "webhooks" and "generic" are one service, whichever side spells it.
        ("@w:legacy.example.org", "generic", "manageConnections", True),
        ("@w:legacy.example.org", "webhooks", "manageConnections", True),
        ("@w:legacy.example.org", "github", "manageConnections", False),
        # Not a user id at all.
        ("alice", "github", "commands", False),
    ],
)
def test_check_permission_table(user: str, service: str, level: str, expected: bool) -> None:
    assert check_permission(PERMS, user, service, level) is expected


@pytest.mark.parametrize("granted", LEVEL_NAMES)
@pytest.mark.parametrize("wanted", LEVEL_NAMES)
def test_levels_are_ordered(granted: str, wanted: str) -> None:
    perms = (rule("example.org", ("github", granted)),)
    expected = LEVEL_NAMES.index(granted) >= LEVEL_NAMES.index(wanted)
    assert check_permission(perms, "@u:example.org", "github", wanted) is expected


@pytest.mark.parametrize(
    ("actor", "user", "expected"),
    [
        ("*", "@anyone:any.where", True),
        ("example.org", "@u:example.org", True),
        ("example.org", "@u:example.org.evil", False),
        ("@u:example.org", "@u:example.org", True),
        ("@u:example.org", "@v:example.org", False),
        (ROOM, "@member:other.net", True),
        (ROOM, "@stranger:other.net", False),
        (ALIAS, "@member:other.net", True),
        (ALIAS, "@stranger:other.net", False),
        # A room actor is not a server name, whatever its server part says.
        (ROOM, "@stranger:example.org", False),
    ],
)
def test_actor_kinds(actor: str, user: str, expected: bool) -> None:
    perms = (rule(actor, ("*", "commands")),)
    members = {"@member:other.net"}

    def rooms_of(user_id: str) -> set[str]:
        return {ROOM, ALIAS} if user_id in members else set()

    assert check_permission(perms, user, "gitlab", "commands", rooms=rooms_of(user)) is expected

    def in_room(actor: str) -> bool:
        return actor in (ROOM, ALIAS) and user in members

    # A predicate works as well as a collection.
    assert check_permission(perms, user, "gitlab", "commands", rooms=in_room) is expected


@pytest.mark.parametrize("service", ["github", "gitlab", "generic", "feeds", "jira", "figma"])
def test_star_service_covers_every_service(service: str) -> None:
    assert check_permission(PERMS, "@alice:example.org", service, Level.ADMIN)


def test_service_names_are_case_insensitive_and_aliased() -> None:
    # hookshot's docs show `service: GitHub`; "feed" is the docs' spelling of "feeds".
    perms = (rule("example.org", ("GitHub", "login"), ("feed", "login")),)
    assert check_permission(perms, "@u:example.org", "github", "login")
    assert check_permission(perms, "@u:example.org", "feeds", "login")


def test_grants_add_up_across_rules() -> None:
    # docs/setup.md: a lower grant naming the user does not take away a higher domain grant.
    perms = (
        rule("example.com", ("github", "manageConnections")),
        rule("@badapple:example.com", ("github", "login")),
    )
    assert check_permission(perms, "@badapple:example.com", "github", "manageConnections")


@pytest.mark.parametrize(
    ("user", "level", "expected"),
    [
        ("@sam:support.example.org", "login", True),  # via jira
        ("@sam:support.example.org", "notifications", False),
        ("@bob:elsewhere.net", "commands", True),
        ("@bob:elsewhere.net", "login", False),
        ("@w:legacy.example.org", "manageConnections", True),
        ("nobody", "commands", False),
    ],
)
def test_check_any_service(user: str, level: str, expected: bool) -> None:
    assert check_any_service(PERMS, user, level) is expected


def test_default_is_admin_for_own_domain_only() -> None:
    perms = default_permissions("localhost")
    assert check_permission(perms, "@u:localhost", "github", "admin")
    assert not check_permission(perms, "@u:elsewhere", "github", "commands")


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="manageConnections"):
        check_permission(PERMS, "@u:example.org", "github", "superuser")


@pytest.mark.parametrize(
    ("service", "level", "message"),
    [
        (
            "gitlab",
            "manageConnections",
            "You are not permitted to provision connections for gitlab.",
        ),
        ("github", "login", "User does not have permission to log in to service"),
        ("github", "commands", "You do not have permission to use this command."),
    ],
)
def test_require_permission_wording(service: str, level: str, message: str) -> None:
    perms = (rule("example.org", ("jira", "admin")),)
    with pytest.raises(PermissionDenied) as caught:
        require_permission(perms, "@u:example.org", service, level)
    assert str(caught.value) == message
    require_permission(perms, "@u:example.org", "jira", level)


def test_membership_cache() -> None:
    perms = Permissions((*PERMS, rule(ALIAS, ("gitlab", "login"))))
    assert perms.members.actors == (ROOM, ALIAS) == interested_rooms(perms.rules)
    user = "@m:other.net"
    assert not perms.allowed(user, "github", "manageConnections")
    perms.members.begin_fill(ROOM)
    perms.members.finish_fill(ROOM, [user])
    assert perms.allowed(user, "github", "manageConnections")
    assert perms.allowed_any(user, Level.MANAGE_CONNECTIONS)
    assert not perms.allowed(user, "gitlab", "manageConnections")
    perms.members.apply(ROOM, user, joined=False)
    assert not perms.allowed(user, "github", "manageConnections")
    # The alias grants through whatever room it resolves to.
    perms.members.resolve(ALIAS, "!other:example.org")
    perms.members.finish_fill("!other:example.org", [user])
    assert perms.allowed(user, "gitlab", "login")
    assert not perms.allowed(user, "gitlab", "notifications")


@pytest.mark.parametrize(
    ("actor", "problem"),
    [
        ("!abc:example.org", None),
        ("!abc:example.org:8448", None),
        ("!abc:[::1]", None),
        ("!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", None),  # room version 12: no server
        ("#perm:example.org", None),
        ("#a.b-c_d=e:localhost:8008", None),
        ("!", "'!' is not a room id (!opaque:server)"),
        ("!abc:", "'!abc:' is not a room id (!opaque:server)"),
        ("!:example.org", "'!:example.org' is not a room id (!opaque:server)"),
        ("!a b:example.org", "'!a b:example.org' is not a room id (!opaque:server)"),
        ("!abc:not a server", "'!abc:not a server' is not a room id (!opaque:server)"),
        ("#perm", "'#perm' is not a room alias (#alias:server)"),
        ("#:example.org", "'#:example.org' is not a room alias (#alias:server)"),
        ("#perm:", "'#perm:' is not a room alias (#alias:server)"),
        ("#perm:bad/server", "'#perm:bad/server' is not a room alias (#alias:server)"),
        ("@u:example.org", None),  # not a room actor
        ("example.org", None),
    ],
)
def test_room_actor_problem(actor: str, problem: str | None) -> None:
    assert room_actor_problem(actor) == problem
