"""Power levels as the homeserver computes them, including room v12 creators."""

import math

import pytest

from hookshot.matrix import power

PL = {
    "users": {"@mod:hs": 50, "@admin:hs": 100, "@str:hs": "75"},
    "users_default": 0,
    "events": {"uk.half-shot.matrix-hookshot.generic.hook": 100, "m.room.name": 50},
    "state_default": 50,
    "events_default": 0,
    "redact": 60,
}


@pytest.mark.parametrize(
    ("user", "expected"),
    [("@mod:hs", 50), ("@admin:hs", 100), ("@nobody:hs", 0), ("@str:hs", 75)],
)
def test_user_level(user: str, expected: int) -> None:
    assert power.user_level(PL, user) == expected


def test_creators_of_v12_room_have_infinite_power() -> None:
    create = {"room_version": "12", "additional_creators": ["@co:hs"]}
    ids = power.creators(create, "@owner:hs")
    assert ids == {"@owner:hs", "@co:hs"}
    assert power.user_level(PL, "@owner:hs", creator_ids=ids) == math.inf
    assert power.can_send_state(
        PL, "@co:hs", "uk.half-shot.matrix-hookshot.generic.hook", creator_ids=ids
    )


def test_creators_of_older_rooms_are_ordinary() -> None:
    assert power.creators({"room_version": "10"}, "@owner:hs") == set()
    assert power.creators(None, "@owner:hs") == set()


@pytest.mark.parametrize(
    ("user", "event_type", "allowed"),
    [
        ("@mod:hs", "", True),  # state_default 50
        ("@mod:hs", "uk.half-shot.matrix-hookshot.generic.hook", False),  # needs 100
        ("@admin:hs", "uk.half-shot.matrix-hookshot.generic.hook", True),
        ("@nobody:hs", "", False),
        ("@mod:hs", "m.room.name", True),
    ],
)
def test_can_send_state(user: str, event_type: str, allowed: bool) -> None:
    assert power.can_send_state(PL, user, event_type) is allowed


def test_defaults_without_power_levels_event() -> None:
    assert power.user_level(None, "@x:hs") == 0
    assert power.state_level(None, "") == 0
    assert power.action_level(PL, "redact") == 60
    assert power.action_level({}, "invite") == 0
    assert power.event_level(PL, "m.room.message") == 0


def test_garbage_levels_fall_back_to_defaults() -> None:
    weird = {"users": {"@x:hs": True}, "state_default": "lots", "users_default": None}
    assert power.user_level(weird, "@x:hs") == 0
    assert power.state_level(weird, "") == 50
