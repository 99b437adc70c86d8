"""Who is in each room named as a `permissions` actor, by room id or by alias.

Pure bookkeeping: the caller (matrix/permission_rooms.py) resolves aliases, reads member lists
and feeds live `m.room.member` changes in. A room's members are known only once its member list
was read ("loaded"); until then, and after the bot left the room, nobody matches it.

A member list is a snapshot taken while live changes keep arriving, so changes seen during the
fetch are replayed on top of it: a user who left while the list was read is not let back in.
"""

from __future__ import annotations

from collections.abc import Iterable

ROOM_ID_SIGIL = "!"
ROOM_ALIAS_SIGIL = "#"


def is_room_actor(actor: str) -> bool:
    """Whether `actor` names a room (`!id` or `#alias:server`) rather than users."""
    return actor.startswith((ROOM_ID_SIGIL, ROOM_ALIAS_SIGIL))


class ActorMemberships:
    """Membership of the actor rooms; `contains(actor, user)` is what permission checks ask."""

    def __init__(self, actors: Iterable[str]) -> None:
        # Actor -> the room id it names now: itself for an id, None for an unresolved alias.
        self._room_of: dict[str, str | None] = {
            actor: actor if actor.startswith(ROOM_ID_SIGIL) else None
            for actor in dict.fromkeys(actors)
            if is_room_actor(actor)
        }
        self._members: dict[str, set[str]] = {}  # room id -> joined users, once loaded
        # Room id -> the latest live membership per user seen while its list is being read.
        self._filling: dict[str, dict[str, bool]] = {}

    @property
    def actors(self) -> tuple[str, ...]:
        """Every room actor, ids and aliases, in config order."""
        return tuple(self._room_of)

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(a for a in self._room_of if a.startswith(ROOM_ALIAS_SIGIL))

    def room_of(self, actor: str) -> str | None:
        """The room id `actor` names now (None: an alias not resolved, or not an actor)."""
        return self._room_of.get(actor)

    def rooms(self) -> tuple[str, ...]:
        """The room ids the actors name now, each once."""
        return tuple(dict.fromkeys(r for r in self._room_of.values() if r is not None))

    def tracks(self, room_id: str) -> bool:
        """Whether an actor names `room_id` (its membership matters)."""
        return room_id in self._room_of.values()

    def loaded(self, room_id: str) -> bool:
        return room_id in self._members

    def unloaded(self) -> tuple[str, ...]:
        """Named rooms whose members are not known (and not being read)."""
        return tuple(r for r in self.rooms() if r not in self._members and r not in self._filling)

    def resolve(self, alias: str, room_id: str | None) -> bool:
        """Point `alias` at `room_id` (None: it resolves to nothing); True if that changed."""
        if alias not in self._room_of or self._room_of[alias] == room_id:
            return False
        old = self._room_of[alias]
        self._room_of[alias] = room_id
        if old is not None and not self.tracks(old):
            self.forget(old)
        return True

    def begin_fill(self, room_id: str) -> None:
        """A member list of `room_id` is about to be read: journal live changes from now."""
        if self.tracks(room_id):
            self._filling[room_id] = {}

    def finish_fill(self, room_id: str, members: Iterable[str]) -> None:
        """The member list read since `begin_fill`, with the changes seen meanwhile on top."""
        journal = self._filling.pop(room_id, {})
        if not self.tracks(room_id):
            return
        current = set(members)
        for user_id, joined in journal.items():
            if joined:
                current.add(user_id)
            else:
                current.discard(user_id)
        self._members[room_id] = current

    def abort_fill(self, room_id: str) -> None:
        """The member list could not be read: the room stays unknown."""
        self._filling.pop(room_id, None)

    def apply(self, room_id: str, user_id: str, joined: bool) -> None:
        """A live `m.room.member` change: `joined` for a join, False for anything else."""
        if room_id in self._filling:
            self._filling[room_id][user_id] = joined
        members = self._members.get(room_id)
        if members is None:
            return
        if joined:
            members.add(user_id)
        else:
            members.discard(user_id)

    def forget(self, room_id: str) -> None:
        """Stop trusting what we know of `room_id` (the bot left it: changes stop arriving)."""
        self._members.pop(room_id, None)
        self._filling.pop(room_id, None)

    def contains(self, actor: str, user_id: str) -> bool:
        """Whether `user_id` is joined to the room `actor` names, as far as we know."""
        room_id = self._room_of.get(actor)
        return room_id is not None and user_id in self._members.get(room_id, ())
