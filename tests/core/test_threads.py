"""Pure parts of threads per subject: the relation contents and the stored record."""

from __future__ import annotations

import pytest

from hookshot.core.threads import (
    Root,
    ThreadAction,
    ThreadRef,
    check_key,
    in_thread,
    reaction,
    replacing,
)


def test_thread_message_falls_back_to_a_reply_to_the_latest_event() -> None:
    content = in_thread({"msgtype": "m.notice", "body": "hi"}, "$root", "$last")
    assert content["body"] == "hi"
    assert content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$last"},
    }


def test_edit_carries_new_content_and_a_star_fallback() -> None:
    new = {"msgtype": "m.notice", "body": "done", "format": "x", "formatted_body": "<b>done</b>"}
    edit = replacing(new, "$root")
    assert edit["m.new_content"] == new
    assert edit["body"] == "* done" and edit["formatted_body"] == "* <b>done</b>"
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$root"}


def test_reaction_annotates_the_root() -> None:
    assert reaction("$r", "✅") == {
        "m.relates_to": {"rel_type": "m.annotation", "event_id": "$r", "key": "✅"}
    }


def test_refs_and_records_round_trip() -> None:
    ref = ThreadRef("github:o/r#1", ThreadAction.REACT, "⏳")
    assert ThreadRef.from_payload(ref.to_payload()) == ref
    assert ThreadRef.from_payload({"key": "k", "action": "nope"}) is None
    assert ThreadRef.from_payload("k") is None
    root = Root("$r", None, "$l", "txn", "$re")
    assert Root.decode(root.encode()) == root
    assert Root.decode("not json") is None and Root.decode('{"x": 1}') is None


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("a", "a"), (12, "12")])
def test_thread_keys(value: object, expected: str | None) -> None:
    assert check_key(value) == expected


@pytest.mark.parametrize("value", [True, ["a"], "x" * 300])
def test_bad_thread_keys_are_refused_with_a_reason(value: object) -> None:
    with pytest.raises(ValueError, match="threadKey"):
        check_key(value)
