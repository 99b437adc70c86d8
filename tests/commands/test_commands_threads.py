"""The `threads on|off` words shared by the forges' room and setup commands (pure parts)."""

from __future__ import annotations

import pytest

from hookshot.commands.threads import configured, switch, trailing_threads, with_threads
from hookshot.errors import CommandError


@pytest.mark.parametrize(
    ("setting", "value"), [("on", True), ("OFF", False), ("true", True), ("False", False)]
)
def test_switch(setting: str, value: bool) -> None:
    assert switch(setting) is value


@pytest.mark.parametrize("setting", ["maybe", "", "yes", "1"])
def test_switch_refuses_other_words(setting: str) -> None:
    with pytest.raises(CommandError, match=r"Say `threads on` or `threads off`\."):
        switch(setting)


@pytest.mark.parametrize(
    ("word", "setting", "value"),
    [(None, None, None), ("threads", "on", True), ("Threads", "off", False)],
)
def test_trailing_threads(word: str | None, setting: str | None, value: bool | None) -> None:
    assert trailing_threads(word, setting) is value


@pytest.mark.parametrize(
    ("word", "setting", "message"),
    [
        ("threads", None, "Say `threads on`"),
        ("threads", "maybe", "Say `threads on`"),
        ("quietly", "on", "Only `threads on` or `threads off` may follow the URL, not `quietly`"),
    ],
)
def test_trailing_threads_errors(word: str, setting: str | None, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        trailing_threads(word, setting)
    assert str(caught.value).startswith(message), caught.value


def test_answers_and_content() -> None:
    assert configured("o/r", None) == "Room configured to bridge o/r"
    assert configured("o/r", True) == "Room configured to bridge o/r with threads on"
    assert configured("g/p", False) == "Room configured to bridge g/p with threads off"
    content = {"org": "o", "repo": "r", "threads": True, "ciReactions": True}
    assert with_threads(content, False) == {**content, "threads": False}
    assert content["threads"] is True  # the input is left alone
