"""The connection store: every live connection, indexed by room, route and address.

Room state is the source of truth; `apply` is the only way a connection appears, changes or
goes, and applying the same thing twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from hookshot.core.connections import Connection

Key = tuple[str, str, str]
# Told (old, new) after every change; must not raise or block.
Watcher = Callable[[Connection | None, Connection | None], None]


class ConnectionStore:
    """In-memory index of connections; rebuilt from room state at startup."""

    def __init__(self) -> None:
        self._by_key: dict[Key, Connection] = {}
        self._rooms: dict[str, list[Connection]] = {}
        self._addressed: dict[str, Connection] = {}
        self._routes: dict[str, list[Connection]] = {}
        self._watchers: list[Watcher] = []

    def watch(self, watcher: Watcher) -> None:
        """Also tell `watcher` about every change (the scale-out hook directory)."""
        self._watchers.append(watcher)

    def apply(self, key: Key, connection: Connection | None) -> bool:
        """Set (or with None remove) the connection at `key`; True if anything changed."""
        old = self._by_key.get(key)
        if old == connection:
            return False
        if old is not None:
            self._drop(old)
        if connection is not None:
            self._by_key[key] = connection
            room = self._rooms.setdefault(connection.room_id, [])
            room.append(connection)
            # Stable sort: equal priorities keep the order in which they were applied.
            room.sort(key=lambda c: -c.priority)
            if connection.address is not None:
                self._addressed[connection.address] = connection
            for route in connection.match_keys():
                routed = self._routes.setdefault(route, [])
                routed.append(connection)
                routed.sort(key=lambda c: -c.priority)
        for watcher in self._watchers:
            watcher(old, connection)
        return True

    def _drop(self, connection: Connection) -> None:
        del self._by_key[connection.key]
        room = self._rooms.get(connection.room_id, [])
        room[:] = [c for c in room if c.key != connection.key]
        if not room:
            self._rooms.pop(connection.room_id, None)
        address = connection.address
        if address is not None and self._addressed.get(address) is connection:
            del self._addressed[address]
        # Else a changed connection is routed twice, and a removed (or upgraded) one still is.
        for route in connection.match_keys():
            routed = self._routes.get(route, [])
            routed[:] = [c for c in routed if c.key != connection.key]
            if not routed:
                self._routes.pop(route, None)

    def drop_room(self, room_id: str) -> int:
        """Forget every connection of a room (the bot left it); returns how many."""
        conns = list(self._rooms.get(room_id, []))
        for conn in conns:
            self._drop(conn)
            for watcher in self._watchers:
                watcher(conn, None)
        return len(conns)

    def get(self, key: Key) -> Connection | None:
        return self._by_key.get(key)

    def in_room(self, room_id: str) -> list[Connection]:
        """The room's connections, highest priority first."""
        return list(self._rooms.get(room_id, []))

    def routed(self, route: str) -> list[Connection]:
        """Connections that asked for events under `route`, highest priority first."""
        return list(self._routes.get(route, []))

    def addressed(self, address: str) -> Connection | None:
        """The connection an intake addresses by `address` (see `Connection.address`)."""
        return self._addressed.get(address)

    def rooms(self) -> list[str]:
        return list(self._rooms)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._by_key.values()))

    def __len__(self) -> int:
        return len(self._by_key)
