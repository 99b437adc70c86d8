"""Room admins' regexes run in linear time (RE2), in JavaScript syntax."""

from __future__ import annotations

import time

import pytest
from conftest import ARTIFACTS

from hookshot.core.patterns import MAX_PATTERN, MAX_SUBJECT, PatternError, check, js_search


@pytest.mark.parametrize(
    ("pattern", "value", "found"),
    [
        (r"^v(?<major>\d+)", "v12.1", True),  # JavaScript named group
        (r"^refs\/tags\/v\d", "refs/tags/v1", True),
        (r"\u0041", "A", True),  # JavaScript's \u escape
        (r"\\u0041", "\\u0041", True),  # an escaped backslash stays one
        (r"\d", "٣", False),  # ASCII, as JavaScript without the u flag
        (r"main$", "main\n", False),  # `$` is the end of the text, as in JavaScript
        (r"^(a+)+$", "a" * 40 + "!", False),
    ],
)
def test_js_syntax(pattern: str, value: str, found: bool) -> None:
    assert js_search(pattern, value) is found


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"^v(?<m>\d+)\k<m>$", "uses a backreference"),
        (r"(v)\1", "uses a backreference"),
        (r"(?<=v)1", "cannot be run in linear time"),
        (r"v(?!1)", "cannot be run in linear time"),
        ("[", "cannot be run in linear time"),
        ("a" * (MAX_PATTERN + 1), f"is longer than {MAX_PATTERN} characters"),
    ],
)
def test_what_rE2_cannot_run_is_refused_with_the_reason(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as err:
        check(pattern, "pushTagsRegex")
    assert str(err.value).startswith(f"'pushTagsRegex' {message}")
    assert js_search(pattern, "v1") is False  # and never matches if it got in anyway


def test_values_over_the_cap_never_match() -> None:
    assert js_search("a", "a" * MAX_SUBJECT)
    assert not js_search("a", "a" * (MAX_SUBJECT + 1))


def test_the_catastrophic_pattern_is_recorded_not_timed() -> None:
    # Python's re takes about a second at 24 characters here and doubles with each one; the
    # time goes to test-artifacts for the notes, the assertion is only about the answer.
    started = time.perf_counter()
    for length in range(20, 1000):
        assert not js_search(r"^(a+)+$", "a" * length + "!")
    took = time.perf_counter() - started
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "patterns.txt").open("a") as out:
        out.write(f"^(a+)+$ against 980 values of 20..999 characters + '!': {took * 1000:.2f} ms\n")
