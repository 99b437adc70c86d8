"""The connection store's indexes: a connection changed, removed or dropped with its room is
no longer routed (it used to stay in the route index: duplicate notices, and notices into a
room after it was upgraded)."""

from __future__ import annotations

from dataclasses import dataclass

from hookshot.core.connections import Connection
from hookshot.core.store import ConnectionStore


@dataclass(frozen=True)
class Repo(Connection):
    repo: str = "o/r"
    version: int = 0

    def match_keys(self) -> tuple[str, ...]:
        return (f"forge:{self.repo}",)


def _repo(room: str, version: int = 0, priority: int = 0) -> Repo:
    return Repo(room, "t", "o/r", priority, version=version)


def test_a_changed_connection_is_routed_once_as_it_is_now() -> None:
    store = ConnectionStore()
    store.apply(("!a", "t", "o/r"), _repo("!a"))
    store.apply(("!a", "t", "o/r"), _repo("!a", version=1))
    assert store.routed("forge:o/r") == [_repo("!a", version=1)]


def test_removed_and_dropped_connections_are_not_routed() -> None:
    store = ConnectionStore()
    store.apply(("!a", "t", "o/r"), _repo("!a"))
    store.apply(("!b", "t", "o/r"), _repo("!b", priority=5))
    store.apply(("!c", "t", "o/r"), _repo("!c"))
    assert [c.room_id for c in store.routed("forge:o/r")] == ["!b", "!a", "!c"]
    store.apply(("!a", "t", "o/r"), None)
    assert store.drop_room("!b") == 1
    assert [c.room_id for c in store.routed("forge:o/r")] == ["!c"]
    store.drop_room("!c")
    assert store.routed("forge:o/r") == [] and len(store) == 0
