"""Generic hook state parsing, the connection store and durations (pure parts)."""

from datetime import UTC, datetime

import pytest

from hookshot import wire
from hookshot.core.durations import describe_duration, parse_duration
from hookshot.core.rate_limit import RateLimit
from hookshot.core.store import ConnectionStore
from hookshot.errors import StateError
from hookshot.services.generic import hook as generic_hook
from hookshot.services.generic.hook import GenericHookState, find_hook, parse_state, virtual_user_id


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ({}, "Missing name"),
        ({"name": "ab"}, "between 3-64"),
        ({"name": "x" * 65}, "between 3-64"),
        ({"name": 42}, "Missing name"),
        ({"name": "demo", "waitForComplete": "yes"}, "'waitForComplete' must be a boolean"),
        ({"name": "demo", "includeHookBody": "no"}, "'includeHookBody' must be a boolean"),
        (
            {"name": "demo", "transformationFunction": 1},
            "'transformationFunction' must be a string",
        ),
        ({"name": "demo", "expirationDate": "tomorrow"}, "ISO 8601"),
        ({"name": "demo", "expirationDate": 5}, "ISO 8601"),
        ({"name": "demo", "priority": "high"}, "'priority' must be an integer"),
        ({"name": "demo", "priority": True}, "'priority' must be an integer"),
        ({"name": "demo", "rateLimit": 10}, "'rateLimit' must be an object"),
        ({"name": "demo", "rateLimit": {"perSecond": "ten"}}, "'rateLimit' perSecond must be"),
        ({"name": "demo", "rateLimit": {"burst": -1}}, "'rateLimit' burst must be"),
        ({"name": "demo", "rateLimit": {"rate": 1}}, r"'rateLimit' has unknown field\(s\) rate"),
    ],
)
def test_invalid_state(content: dict[str, object], error: str) -> None:
    with pytest.raises(StateError, match=error):
        parse_state(content)


def test_valid_state_round_trips() -> None:
    content = {
        "name": "demo",
        "hookId": "ignored-display-only",
        "waitForComplete": True,
        "includeHookBody": False,
        "expirationDate": "2030-01-02T03:04:05.678Z",
        "priority": 5,
        "transformationFunction": "result = data",
        "rateLimit": {"perSecond": 2, "burst": 3},
    }
    state = parse_state(content)
    assert state == GenericHookState(
        name="demo",
        transformation_function="result = data",
        wait_for_complete=True,
        include_hook_body=False,
        expiration_date=datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        priority=5,
        rate_limit=RateLimit(2, 3),
    )
    # hookshot's display copy of the hookId is read past and never written (members can
    # read state; the account data holds the id).
    assert state.to_content() == {k: v for k, v in content.items() if k != "hookId"}


@pytest.mark.parametrize(
    ("prefix", "name", "expected"),
    [
        ("webhook_", "Demo", "@webhook_demo:hs"),
        ("webhook_", "My Alerts!", "@webhook_myalerts:hs"),
        ("wh_", "!!!", "@wh_bot:hs"),
        ("wh_", "a.b=c_d-e", "@wh_a.b=c_d-e:hs"),
    ],
)
def test_virtual_user_id(prefix: str, name: str, expected: str) -> None:
    assert virtual_user_id(prefix, name, "hs") == expected


def _hook(room: str, key: str, hook_id: str, priority: int = -1) -> generic_hook.GenericHook:
    content = {"name": key, "priority": priority}
    return generic_hook.from_state(room, wire.GENERIC_HOOK, key, content, hook_id)


def test_store_orders_by_priority_stably_and_indexes_hooks() -> None:
    store = ConnectionStore()
    a, b, c = _hook("!r", "aaa", "h1"), _hook("!r", "bbb", "h2", 10), _hook("!r", "ccc", "h3")
    for conn in (a, b, c):
        assert store.apply(conn.key, conn)
    assert [x.state_key for x in store.in_room("!r")] == ["bbb", "aaa", "ccc"]
    assert find_hook(store, "h2") is b
    assert not store.apply(a.key, a)  # idempotent
    moved = _hook("!r", "aaa", "h1", 20)
    assert store.apply(moved.key, moved)
    assert [x.state_key for x in store.in_room("!r")] == ["aaa", "bbb", "ccc"]
    assert store.apply(b.key, None)
    assert find_hook(store, "h2") is None and len(store) == 2
    assert store.drop_room("!r") == 2 and find_hook(store, "h1") is None and store.rooms() == []


def test_expiry() -> None:
    hook = generic_hook.from_state(
        "!r",
        wire.GENERIC_HOOK,
        "k",
        {"name": "demo", "expirationDate": "2020-01-01T00:00:00Z"},
        "h",
    )
    assert hook.expired()
    assert not hook.expired(datetime(2019, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 2592000), ("1h30m", 5400), ("2 weeks", 1209600), ("90s", 90), ("1.5h", 5400)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "30", "5 parsecs", "1h and 2m"])
def test_bad_duration(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_describe_duration() -> None:
    assert describe_duration(2592000) == "30 days"
    assert describe_duration(90061) == "1 day 1 hour 1 minute 1 second"
    assert describe_duration(7200.9) == "2 hours"
    assert describe_duration(0) == "0 seconds"
    assert describe_duration(3 * 86400 - 1, ("hour",)) == "71 hours"
    assert describe_duration(60, ("minute",)) == "1 minute"


def _hook_with(fn: str | None) -> generic_hook.GenericHook:
    content = {"name": "demo", **({"transformationFunction": fn} if fn else {})}
    return generic_hook.from_state("!r:hs", wire.GENERIC_HOOK, "demo", content, "hid")


def test_a_function_that_does_not_compile_keeps_the_previous_one() -> None:
    previous = _hook_with("result = 1")
    hook, notice = generic_hook.vet_function(_hook_with("result = {"), previous, js_enabled=True)
    assert hook.state.transformation_function == "result = 1"
    assert notice is not None
    assert notice.startswith("Could not compile transformation function:\n\n```\nSyntaxError")
    assert notice.endswith("Webhook demo: it keeps its previous transformation function.")
    fresh, notice = generic_hook.vet_function(_hook_with("result = {"), None, js_enabled=True)
    assert fresh.state.transformation_function is None
    assert notice is not None and notice.endswith("Webhook demo: it posts the default format.")
    same, notice = generic_hook.vet_function(_hook_with("result = 1"), previous, js_enabled=True)
    assert same.state.transformation_function == "result = 1" and notice is None


def test_refuse_bad_function() -> None:
    with pytest.raises(StateError, match=r"^Could not compile transformation function: Syntax"):
        generic_hook.refuse_bad_function(parse_state(_content("result = {")), js_enabled=True)
    generic_hook.refuse_bad_function(parse_state(_content("result = 1")), js_enabled=True)
    # With JS off the function is never run, so there is nothing to refuse.
    generic_hook.refuse_bad_function(parse_state(_content("result = {")), js_enabled=False)


def _content(fn: str) -> dict[str, object]:
    return {"name": "demo", "transformationFunction": fn}


def test_digest_is_strict_for_the_widget_and_lenient_for_room_state() -> None:
    on = parse_state({"name": "burst", "digest": {"threshold": 40}}, strict=True)
    assert on.digest is not None and on.digest.threshold == 40
    assert parse_state(on.to_content()) == on
    assert parse_state({"name": "burst", "digest": True}).to_content()["digest"] is True
    assert "digest" not in parse_state({"name": "burst", "digest": False}).to_content()
    with pytest.raises(StateError, match=r"'digest\.threshold' must be a whole number"):
        parse_state({"name": "burst", "digest": {"threshold": 0}}, strict=True)
    # Written by hand into the room: the hook keeps working, with the bridge's threshold.
    lenient = parse_state({"name": "burst", "digest": {"threshold": 0}})
    assert lenient.digest is not None and lenient.digest.threshold is None


def test_a_digest_hooks_messages_carry_its_group() -> None:
    hook = generic_hook.from_state(
        "!room", wire.GENERIC_HOOK, "burst", {"name": "burst", "digest": True}, "hid-digest"
    )
    message = hook.message({"body": "x"}, user_id_prefix="webhook_", domain="example.org")
    assert message.digest is not None
    assert message.digest.label == 'webhook "burst"'
    other = generic_hook.from_state(
        "!room", wire.GENERIC_HOOK, "quiet", {"name": "quiet"}, "hid-quiet"
    )
    assert other.message({"body": "x"}, user_id_prefix=None, domain="x").digest is None
    again = generic_hook.from_state(
        "!room2", wire.GENERIC_HOOK, "burst", {"name": "burst", "digest": True}, "hid-digest2"
    )
    assert again.message({}, user_id_prefix=None, domain="x").digest_group not in (
        "",
        message.digest_group,
    )  # one group per hook per room
