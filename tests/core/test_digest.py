"""Digests' pure parts: the `digest` state field (strict and lenient), command words, the tag
a message carries into its send job, and the digest message itself (hostile input included)."""

from __future__ import annotations

import logging
import re

import pytest

from hookshot import wire
from hookshot.core.connections import OutgoingMessage
from hookshot.core.digest import (
    DigestSetting,
    DigestTag,
    digest_from_word,
    parse_digest,
    read_digest,
)
from hookshot.core.digest_message import LINE_MAX, SHOWN, digest_content, summary_line
from hookshot.core.outbox import send_jobs
from hookshot.core.threads import ThreadRef


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (False, None),
        (True, DigestSetting()),
        ({}, DigestSetting()),
        ({"threshold": 2}, DigestSetting(2)),
        ({"threshold": 1000}, DigestSetting(1000)),
        ({"threshold": 50.0}, DigestSetting(50)),  # YAML/JS numbers
    ],
)
def test_digest_field_values(value: object, expected: DigestSetting | None) -> None:
    assert parse_digest(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yes", "'digest' must be true, false or an object"),
        (20, "'digest' must be true, false or an object"),
        ([], "'digest' must be true, false or an object"),
        ({"threshold": 1}, "'digest.threshold' must be a whole number from 2 to 1000"),
        ({"threshold": 1001}, "'digest.threshold' must be a whole number from 2 to 1000"),
        ({"threshold": 2.5}, "'digest.threshold' must be a whole number from 2 to 1000"),
        ({"threshold": True}, "'digest.threshold' must be a whole number from 2 to 1000"),
        ({"threshold": "20"}, "'digest.threshold' must be a whole number from 2 to 1000"),
        ({"threshold": 10**100}, "'digest.threshold' must be a whole number from 2 to 1000"),
        ({"every": 5}, "'digest' has unknown field(s) every: use threshold"),
    ],
)
def test_bad_digest_fields_are_refused_strictly(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        parse_digest(value)


def test_hand_written_state_logs_and_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "hookshot.core.digest"):
        assert read_digest({"threshold": 5000}, "webhook x") == DigestSetting()
        assert read_digest("yes", "webhook y") is None
        assert read_digest({"threshold": 30}, "webhook z") == DigestSetting(30)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "webhook x: 'digest.threshold' must be a whole number from 2 to 1000; "
        "using the bridge's threshold",
        "webhook y: 'digest' must be true, false or an object {\"threshold\": N}; digest stays off",
    ]


def test_command_words() -> None:
    assert digest_from_word("ON") == DigestSetting()
    assert digest_from_word("off") is None
    assert digest_from_word("35") == DigestSetting(35)
    for bad in ("1", "1001", "maybe", "-5", "99999999999999999999", "2.5", ""):
        with pytest.raises(ValueError, match="threshold"):
            digest_from_word(bad)


def test_setting_round_trips_through_content() -> None:
    for setting in (DigestSetting(), DigestSetting(7)):
        assert parse_digest(setting.to_content()) == setting


def message(**kwargs: object) -> OutgoingMessage:
    tag = DigestTag("conn1", 'webhook "a"', 30)
    fields: dict[str, object] = {"room_id": "!r", "content": {"body": "hi"}, "digest": tag}
    fields.update(kwargs)
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


def test_only_plain_unthreaded_messages_get_a_group() -> None:
    plain, threaded, reaction, untagged = send_jobs(
        "cause",
        [
            message(),
            message(thread=ThreadRef("generic:k")),
            message(event_type=wire.M_REACTION),
            message(digest=None),
        ],
    )
    assert plain.group == "conn1"
    assert DigestTag.from_payload(plain.group, plain.payload[wire.DIGEST_KEY]) == DigestTag(
        "conn1", 'webhook "a"', 30
    )
    for job in (threaded, reaction, untagged):
        assert job.group == ""
        assert wire.DIGEST_KEY not in job.payload


def test_a_damaged_tag_is_no_tag() -> None:
    assert DigestTag.from_payload("", {"label": "x"}) is None
    assert DigestTag.from_payload("g", None) is None
    assert DigestTag.from_payload("g", {"label": 5}) is None
    assert DigestTag.from_payload("g", {"label": "x", "threshold": "9"}) == DigestTag("g", "x")


def contents(n: int) -> list[dict[str, object]]:
    return [{"msgtype": "m.notice", "body": f"event {i}\nsecond line"} for i in range(n)]


def test_digest_lists_the_first_summaries_and_counts_the_rest() -> None:
    content = digest_content('webhook "alerts"', contents(37))
    lines = content["body"].split("\n")
    assert lines[0] == (
        'Digest: 37 events from webhook "alerts" arrived faster than this room should read '
        "them, so this one message stands for them:"
    )
    assert lines[1 : 1 + SHOWN] == [f"• event {i}" for i in range(SHOWN)]
    assert lines[-1] == "…and 27 more"
    assert content[wire.DIGEST_CONTENT_KEY] == {"events": 37, "shown": SHOWN}
    assert content["msgtype"] == "m.notice" and content["format"] == wire.HTML_FORMAT
    assert content["formatted_body"].count("<li>") == SHOWN
    assert "<p>…and 27 more</p>" in content["formatted_body"]


def test_a_small_digest_has_no_tail() -> None:
    content = digest_content("org/repo", contents(3))
    assert content["body"].split("\n")[1:] == ["• event 0", "• event 1", "• event 2"]
    assert "more" not in content["formatted_body"]


def test_html_in_summaries_and_label_is_escaped() -> None:
    hostile = [{"body": "<img src=x onerror=alert(1)> & <b>bold</b>"}]
    content = digest_content('webhook "<script>"', hostile)
    html = content["formatted_body"]
    assert "<img" not in html and "<script>" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;script&gt;" in html


def test_huge_and_odd_bodies_are_cut_to_one_short_line() -> None:
    assert summary_line({"body": "x" * 1_000_000}) == "x" * (LINE_MAX - 1) + "…"
    assert summary_line({"body": "\n\n  \t spaced \t out  \nnext"}) == "spaced out"
    assert summary_line({"body": None}) == "(no text)"
    assert summary_line({"body": ["not", "text"]}) == "(no text)"
    assert summary_line({}) == "(no text)"
    assert summary_line({"body": "   \n  "}) == "(no text)"
    content = digest_content("x" * 10_000, [{"body": "y" * 100_000}] * 200)
    assert len(content["body"]) < 4000 and len(content["formatted_body"]) < 5000


def test_the_same_bundle_makes_the_same_digest() -> None:
    assert digest_content("a", contents(40)) == digest_content("a", contents(40))
