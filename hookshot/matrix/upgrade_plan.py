"""What a room upgrade carries into the replacement room: pure choices over room state.

The homeserver copies power levels, name, topic and join rules into the new room, but none of
our state; the bot copies its connections and its configuration widget (`upgrades.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hookshot import wire
from hookshot.core.connections import is_removal


@dataclass(frozen=True)
class Carried:
    """One state event to copy, as the old room has it."""

    event_type: str
    state_key: str
    content: Mapping[str, Any]
    kind: str | None  # the connection kind's name; None for the configuration widget

    @property
    def key(self) -> tuple[str, str]:
        return (self.event_type, self.state_key)


def replacement_room(content: object) -> str | None:
    """The room a tombstone points to, when it names one (`!opaque[:server]`)."""
    room = content.get("replacement_room") if isinstance(content, Mapping) else None
    return room if isinstance(room, str) and room.startswith("!") and len(room) > 1 else None


def predecessor(create_content: object) -> str | None:
    """The room an `m.room.create` says this room replaces, if any."""
    if not isinstance(create_content, Mapping):
        return None
    before = create_content.get("predecessor")
    room = before.get("room_id") if isinstance(before, Mapping) else None
    return room if isinstance(room, str) and room else None


def find_state(
    events: Iterable[Mapping[str, Any]], event_type: str, state_key: str = ""
) -> Mapping[str, Any] | None:
    """The full state event of that type and key in a `/state` answer."""
    for event in events:
        if event.get("type") == event_type and event.get("state_key") == state_key:
            return event
    return None


def carried_state(
    events: Iterable[Mapping[str, Any]],
    *,
    kind_of: Callable[[str], str | None],
    may_write: Callable[[str, str], bool],
    bot: str,
    static_keys: frozenset[tuple[str, str]] = frozenset(),
) -> list[Carried]:
    """The old room's state the new room should get, in the old room's order.

    - connections of every kind we know (`kind_of(type)` names it), also of services this
      bridge has switched off, so they work again when switched back on;
    - only state that counts here: written by the bot or by someone `may_write(sender, type)`
      allows; anything else would be laundered into bot-written state by the copy;
    - not removed ones (empty content), nor static ones (`connections:` in the config names
      their room, so the config has to be changed);
    - the configuration widget the bot added (hookshot's state key, the bot's event).
    """
    chosen = []
    for event in events:
        event_type, state_key = event.get("type"), event.get("state_key")
        content, sender = event.get("content"), str(event.get("sender", ""))
        if not isinstance(event_type, str) or not isinstance(state_key, str):
            continue
        if not isinstance(content, Mapping) or not content:
            continue
        if event_type == wire.WIDGET_STATE:
            if sender == bot and state_key.startswith(wire.WIDGET_STATE_KEY_PREFIX):
                chosen.append(Carried(event_type, state_key, content, None))
            continue
        kind = kind_of(event_type)
        if kind is None or (event_type, state_key) in static_keys:
            continue
        if sender == bot or may_write(sender, event_type):
            chosen.append(Carried(event_type, state_key, content, kind))
    return chosen


def still_missing(
    carried: Sequence[Carried], new_state: Iterable[Mapping[str, Any]]
) -> list[Carried]:
    """What the new room has no state for yet. State already there (an earlier, interrupted
    run, or a user who set it up by hand, or removed it since) is left alone."""
    present = {
        (e.get("type"), e.get("state_key"))
        for e in new_state
        if isinstance(e.get("state_key"), str)
    }
    return [c for c in carried if c.key not in present]


def connection_count(carried: Sequence[Carried]) -> int:
    """Connections in force (a `disabled: true` one is copied but not counted)."""
    return sum(1 for c in carried if c.kind is not None and not is_removal(c.content))


def summary(old_room: str, carried: Sequence[Carried], admin_user: str | None) -> str:
    """The notice in the new room: what came over from the old one."""
    counts: dict[str, int] = {}
    for c in carried:
        if c.kind is not None and not is_removal(c.content):
            label = c.kind.replace("_", " ")
            counts[label] = counts.get(label, 0) + 1
    total = sum(counts.values())
    parts = [f"carried over {total} connection{'' if total == 1 else 's'}"]
    if counts:
        parts[0] += " (" + ", ".join(f"{n} {label}" for label, n in sorted(counts.items())) + ")"
    if any(c.kind is None for c in carried):
        parts.append("the configuration widget")
    text = f"This room was upgraded from {old_room}: " + " and ".join(parts) + "."
    if any(c.kind == "generic" for c in carried):
        text += " Webhook URLs stay the same."
    if admin_user is not None:
        text += f" This is now {admin_user}'s admin room with the bridge."
    return text
