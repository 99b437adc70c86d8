"""Feed connection state, with hookshot's messages."""

from __future__ import annotations

import pytest

from hookshot.errors import StateError
from hookshot.services.feeds.state import parse_state


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({}, "No URL specified"),
        ({"url": "ftp://x/feed"}, "Feed URL doesn't appear valid"),
        ({"url": "https://"}, "Feed URL doesn't appear valid"),
        ({"url": "https://x/f", "label": 3}, "Label must be a string"),
        ({"url": "https://x/f", "template": 3}, "Template must be a string"),
        ({"url": "https://x/f", "template": "x" * 1025}, "Template should not be longer than 1024"),
        ({"url": "https://x/f", "notifyOnFailure": "yes"}, "notifyOnFailure must be a boolean"),
    ],
)
def test_bad_state(content: dict[str, object], message: str) -> None:
    with pytest.raises(StateError) as err:
        parse_state(content)
    assert str(err.value).startswith(message)


def test_round_trip_keeps_unknown_keys() -> None:
    content = {"url": "https://x/f", "label": "X", "notifyOnFailure": True, "future": 1}
    assert parse_state(content).to_content() == content
