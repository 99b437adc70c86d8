"""The membership cache of room actors: ids, aliases, live changes and member-list snapshots."""

from __future__ import annotations

from hookshot.core.memberships import ActorMemberships, is_room_actor

ROOM = "!perm:example.org"
ALIAS = "#perm:example.org"
ALICE, BOB = "@alice:example.org", "@bob:example.org"


def loaded(members: ActorMemberships, room_id: str, users: list[str]) -> ActorMemberships:
    members.begin_fill(room_id)
    members.finish_fill(room_id, users)
    return members


def test_only_room_actors_are_tracked() -> None:
    members = ActorMemberships([ROOM, "*", "example.org", "@u:example.org", ALIAS, ROOM])
    assert members.actors == (ROOM, ALIAS)
    assert members.aliases == (ALIAS,)
    assert members.rooms() == (ROOM,)  # the alias is not resolved yet
    assert [is_room_actor(a) for a in (ROOM, ALIAS, "*", "@u:x")] == [True, True, False, False]


def test_nobody_matches_before_the_member_list_is_read() -> None:
    members = ActorMemberships([ROOM])
    members.apply(ROOM, ALICE, joined=True)  # a live join cannot stand in for the list
    assert not members.contains(ROOM, ALICE)
    assert members.unloaded() == (ROOM,)
    loaded(members, ROOM, [BOB])
    assert members.contains(ROOM, BOB) and not members.contains(ROOM, ALICE)
    assert members.unloaded() == ()


def test_joins_grant_and_everything_else_takes_away() -> None:
    members = loaded(ActorMemberships([ROOM]), ROOM, [ALICE])
    members.apply(ROOM, BOB, joined=True)
    assert members.contains(ROOM, BOB)
    members.apply(ROOM, ALICE, joined=False)  # leave, kick, ban, or an invite's rejection
    assert not members.contains(ROOM, ALICE)
    members.apply("!other:example.org", ALICE, joined=True)  # rooms nobody named
    assert not members.contains(ROOM, ALICE)
    assert not members.contains("!other:example.org", ALICE)


def test_changes_during_a_fill_are_replayed_on_the_snapshot() -> None:
    members = ActorMemberships([ROOM])
    members.begin_fill(ROOM)
    members.apply(ROOM, ALICE, joined=False)  # left after the snapshot was taken
    members.apply(ROOM, BOB, joined=False)
    members.apply(ROOM, BOB, joined=True)  # left and came back: the last change wins
    members.finish_fill(ROOM, [ALICE])
    assert not members.contains(ROOM, ALICE)
    assert members.contains(ROOM, BOB)


def test_an_aborted_fill_leaves_the_room_unknown() -> None:
    members = ActorMemberships([ROOM])
    members.begin_fill(ROOM)
    assert members.unloaded() == ()  # being read: not started twice
    members.abort_fill(ROOM)
    assert members.unloaded() == (ROOM,)


def test_aliases_follow_the_room_they_resolve_to() -> None:
    members = ActorMemberships([ALIAS])
    assert not members.tracks(ROOM)
    assert members.resolve(ALIAS, ROOM)
    assert not members.resolve(ALIAS, ROOM)  # unchanged
    assert members.tracks(ROOM) and members.room_of(ALIAS) == ROOM
    loaded(members, ROOM, [ALICE])
    assert members.contains(ALIAS, ALICE)
    # The alias moves: the old room's members get nothing, the new room must be read.
    assert members.resolve(ALIAS, "!new:example.org")
    assert not members.tracks(ROOM) and not members.loaded(ROOM)
    assert not members.contains(ALIAS, ALICE)
    assert members.unloaded() == ("!new:example.org",)
    # An alias deleted from the directory matches nobody.
    members.resolve(ALIAS, None)
    assert members.rooms() == ()


def test_an_alias_and_an_id_of_one_room_share_its_members() -> None:
    members = ActorMemberships([ROOM, ALIAS])
    members.resolve(ALIAS, ROOM)
    loaded(members, ROOM, [ALICE])
    assert members.contains(ROOM, ALICE) and members.contains(ALIAS, ALICE)
    members.resolve(ALIAS, None)  # the id still names the room: its members stay known
    assert members.contains(ROOM, ALICE)


def test_forget_fails_closed() -> None:
    members = loaded(ActorMemberships([ROOM]), ROOM, [ALICE])
    members.forget(ROOM)  # the bot left: changes no longer reach us
    assert not members.contains(ROOM, ALICE)
    assert members.unloaded() == (ROOM,)
