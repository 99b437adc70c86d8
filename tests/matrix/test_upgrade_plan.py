"""What a room upgrade carries over: the pure choices (matrix/upgrade_plan.py)."""

from __future__ import annotations

from typing import Any

import pytest

from hookshot.matrix.upgrade_plan import (
    Carried,
    carried_state,
    connection_count,
    predecessor,
    replacement_room,
    still_missing,
    summary,
)

BOT = "@hookshot:hs"
ADMIN = "@admin:hs"
MALLORY = "@mallory:hs"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
REPO = "uk.half-shot.matrix-hookshot.github.repository"
FEED = "uk.half-shot.matrix-hookshot.feed"
WIDGET = "im.vector.modular.widgets"
KINDS = {HOOK: "generic", REPO: "github_repo", FEED: "feed"}


def _event(event_type: str, state_key: str, content: dict[str, Any], sender: str = ADMIN) -> Any:
    return {"type": event_type, "state_key": state_key, "content": content, "sender": sender}


def _choose(events: list[Any], static: frozenset[tuple[str, str]] = frozenset()) -> list[Carried]:
    return carried_state(
        events,
        kind_of=KINDS.get,
        may_write=lambda sender, _type: sender == ADMIN,
        bot=BOT,
        static_keys=static,
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"replacement_room": "!new:hs", "body": "gone"}, "!new:hs"),
        ({"replacement_room": "!opaqueV12"}, "!opaqueV12"),
        ({"replacement_room": "#alias:hs"}, None),
        ({"replacement_room": "!"}, None),
        ({"replacement_room": 5}, None),
        ({}, None),
        (None, None),
        ("!new:hs", None),
    ],
)
def test_replacement_room(content: object, expected: str | None) -> None:
    assert replacement_room(content) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"room_version": "12", "predecessor": {"room_id": "!old:hs"}}, "!old:hs"),
        ({"predecessor": {"room_id": "!old", "event_id": "$t"}}, "!old"),
        ({"predecessor": {"room_id": ""}}, None),
        ({"predecessor": "!old:hs"}, None),
        ({"room_version": "10"}, None),
        (None, None),
    ],
)
def test_predecessor(content: object, expected: str | None) -> None:
    assert predecessor(content) == expected


def test_connections_and_our_widget_are_carried_in_room_order() -> None:
    events = [
        _event("m.room.name", "", {"name": "ops"}),
        _event(HOOK, "alerts", {"name": "alerts"}),
        _event(WIDGET, "hookshot_room_config_hooks.test", {"url": "https://x"}, sender=BOT),
        _event(REPO, "org/repo", {"org": "org", "repo": "repo"}, sender=BOT),
        _event(FEED, "https://f/rss", {"url": "https://f/rss", "disabled": True}),
    ]
    chosen = _choose(events)
    assert [c.key for c in chosen] == [
        (HOOK, "alerts"),
        (WIDGET, "hookshot_room_config_hooks.test"),
        (REPO, "org/repo"),
        (FEED, "https://f/rss"),
    ]
    assert [c.kind for c in chosen] == ["generic", None, "github_repo", "feed"]
    # The disabled feed is copied (it is configuration) but is not a connection in force.
    assert connection_count(chosen) == 2


def test_what_is_not_carried() -> None:
    events = [
        _event(HOOK, "removed", {}),  # removed: empty content
        _event(HOOK, "evil", {"name": "evil"}, sender=MALLORY),  # not applied here either
        _event(HOOK, "static", {"name": "static"}, sender=BOT),  # from the config
        _event(WIDGET, "hookshot_room_config_x", {"url": "u"}, sender=ADMIN),  # not the bot's
        _event(WIDGET, "jitsi", {"url": "u"}, sender=BOT),  # not ours
        _event("org.example.unknown", "", {"a": 1}, sender=BOT),  # no kind of ours
        {"type": HOOK, "content": {"name": "keyless"}, "sender": BOT},  # malformed
        _event(HOOK, "odd", "not a dict", sender=BOT),  # type: ignore[arg-type]
    ]
    assert _choose(events, static=frozenset({(HOOK, "static")})) == []


def test_state_already_in_the_new_room_is_left_alone() -> None:
    carried = _choose(
        [_event(HOOK, "a", {"name": "a"}), _event(HOOK, "b", {"name": "b"}), _event(FEED, "f", {})]
    )
    new_state = [
        _event("m.room.create", "", {"predecessor": {"room_id": "!old"}}),
        _event(HOOK, "a", {"name": "a", "edited": True}),  # changed here since: kept
    ]
    assert [c.state_key for c in still_missing(carried, new_state)] == ["b"]
    assert still_missing(carried, [_event(HOOK, "b", {})]) == [carried[0]]  # removed here


def test_summary_says_what_came_over() -> None:
    carried = _choose(
        [
            _event(HOOK, "a", {"name": "a"}),
            _event(HOOK, "b", {"name": "b"}),
            _event(REPO, "o/r", {"org": "o"}),
            _event(WIDGET, "hookshot_room_config_h", {"url": "u"}, sender=BOT),
        ]
    )
    assert summary("!old:hs", carried, None) == (
        "This room was upgraded from !old:hs: carried over 3 connections (2 generic, "
        "1 github repo) and the configuration widget. Webhook URLs stay the same."
    )
    one = _choose([_event(FEED, "f", {"url": "f"})])
    assert summary("!old:hs", one, ADMIN) == (
        "This room was upgraded from !old:hs: carried over 1 connection (1 feed). "
        f"This is now {ADMIN}'s admin room with the bridge."
    )
    assert summary("!old:hs", [], ADMIN).startswith(
        "This room was upgraded from !old:hs: carried over 0 connections."
    )
