"""Digests (opt-in per connection): when one connection's backlog in a room passes a threshold,
the sender sends one message summarising the waiting messages instead of each of them.

A connection's state field `digest`: `true` (the bridge's threshold, config `digest.threshold`)
or `{"threshold": N}` (N from 2 to 1000); `false` or absent: off. A message of such a
connection carries a `DigestTag`; the outbox gives its send job the tag's group (the connection
in its room) and the sender decides at send time (`core/digest_send.py`). Threaded messages
are never digested: their thread needs each one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

log = logging.getLogger(__name__)

FIELD: Final = "digest"  # the state field
THRESHOLD: Final = "threshold"
MIN_THRESHOLD: Final = 2
MAX_THRESHOLD: Final = 1000
DEFAULT_THRESHOLD: Final = 20
DEFAULT_MAX_EVENTS: Final = 200  # jobs one digest stands for at most

_THRESHOLD_ERROR = (
    f"'{FIELD}.{THRESHOLD}' must be a whole number from {MIN_THRESHOLD} to {MAX_THRESHOLD}"
)


@dataclass(frozen=True, slots=True)
class DigestSetting:
    """A connection's digest is on; `threshold` None means the bridge's."""

    threshold: int | None = None

    def to_content(self) -> bool | dict[str, int]:
        return True if self.threshold is None else {THRESHOLD: self.threshold}

    def describe(self, default: int) -> str:
        n = default if self.threshold is None else self.threshold
        return f"on (more than {n} waiting)"


def parse_digest(value: object) -> DigestSetting | None:
    """The `digest` state field, strictly (commands, widget): None when off; ValueError says
    what is wrong."""
    if value is None or value is False:
        return None
    if value is True:
        return DigestSetting()
    if not isinstance(value, Mapping):
        raise ValueError(f"'{FIELD}' must be true, false or an object {{\"{THRESHOLD}\": N}}")
    unknown = sorted(str(k) for k in value if k != THRESHOLD)
    if unknown:
        raise ValueError(f"'{FIELD}' has unknown field(s) {', '.join(unknown)}: use {THRESHOLD}")
    threshold = value.get(THRESHOLD)
    if threshold is None:
        return DigestSetting()
    if isinstance(threshold, float) and threshold.is_integer():
        threshold = int(threshold)
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int)
        or not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD
    ):
        raise ValueError(_THRESHOLD_ERROR)
    return DigestSetting(threshold)


def digest_from_word(word: str) -> DigestSetting | None:
    """A command's setting: `on`, `off` or a threshold; ValueError says what is wrong."""
    word = word.strip().lower()
    if word in ("on", "true"):
        return DigestSetting()
    if word in ("off", "false"):
        return None
    if not word.isdigit() or len(word) > 4:
        raise ValueError(f"say on, off or a threshold from {MIN_THRESHOLD} to {MAX_THRESHOLD}")
    return parse_digest({THRESHOLD: int(word)})


def describe(setting: DigestSetting | None) -> str:
    """How a command's answer says what the setting now does."""
    if setting is None:
        return "off: every message is sent on its own"
    waiting = "the bridge's threshold" if setting.threshold is None else str(setting.threshold)
    return f"on: one digest message when more than {waiting} of its messages wait to be sent"


def read_digest(value: object, where: str) -> DigestSetting | None:
    """The `digest` field of state read from a room (perhaps written by hand): a bad value is
    logged, never refused, so the connection keeps working. A bad object means the writer
    wanted a digest: it is on with the bridge's threshold; any other bad value leaves it off."""
    try:
        return parse_digest(value)
    except ValueError as err:
        fallback = DigestSetting() if isinstance(value, Mapping) else None
        outcome = "using the bridge's threshold" if fallback else "digest stays off"
        log.warning("%s: %s; %s", where, err, outcome)
        return fallback


@dataclass(frozen=True, slots=True)
class DigestTag:
    """What a message of a digest connection tells the sender: its group (the connection in
    its room, unique there), what the room calls the connection, and the threshold."""

    group: str
    label: str
    threshold: int | None = None

    def to_payload(self) -> dict[str, Any]:
        return {"label": self.label, THRESHOLD: self.threshold}

    @classmethod
    def from_payload(cls, group: str, raw: object) -> DigestTag | None:
        """The tag of a send job (None when it has none or it is damaged)."""
        if not group or not isinstance(raw, Mapping) or not isinstance(raw.get("label"), str):
            return None
        threshold = raw.get(THRESHOLD)
        if isinstance(threshold, bool) or not isinstance(threshold, int):
            threshold = None
        return cls(group, str(raw["label"]), threshold)


def digest_tag(group: str, label: str, setting: DigestSetting | None) -> DigestTag | None:
    """The tag for a connection's messages, or None when its digest is off."""
    return None if setting is None else DigestTag(group, label, setting.threshold)
