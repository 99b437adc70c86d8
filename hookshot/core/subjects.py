"""What every forge's quiet rooms share (pure; docs/quiet-rooms.md): the CI states a thread
root summarises and reacts with, the icons of a subject's state, the `threads on|off` words,
and turning one connection's notices about a delivery into thread messages.

Each service folds its own payloads into its own subject; this module only sees the result:
the root line before and after, and the overall CI state before and after.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from hookshot.core.connections import OutgoingMessage
from hookshot.core.threads import ThreadAction, ThreadRef

RUNNING: Final = "running"
PASSED: Final = "passed"
FAILED: Final = "failed"
CI_REACTIONS: Final[Mapping[str, str]] = {RUNNING: "⏳", PASSED: "✅", FAILED: "❌"}
# Worst first: the overall state is the first one present.
CI_ORDER: Final = (FAILED, RUNNING, PASSED)

# GitHub-shaped check and run conclusions (Gitea's workflow_run copies them); "stale" says
# nothing about the code.
_PASSED_CONCLUSIONS: Final = frozenset({"success", "neutral", "skipped"})
_FAILED_CONCLUSIONS: Final = frozenset(
    {"failure", "timed_out", "cancelled", "action_required", "startup_failure"}
)

# A pull / merge request's states, and an issue's (which is never a draft or merged).
CHANGE_ICONS: Final[Mapping[str, str]] = {
    "open": "🔵",
    "draft": "⚪",
    "merged": "✳️",
    "closed": "⚫",
}
ISSUE_ICONS: Final[Mapping[str, str]] = {"open": "📥", "closed": "⬛"}

# `threads on|off` in a connected room.
SWITCHES: Final[Mapping[str, bool]] = {"on": True, "off": False, "true": True, "false": False}

_S = TypeVar("_S")
# A commit id from a payload: hex, SHA-1 or SHA-256 (it becomes part of a store key).
_SHA: Final = re.compile(r"[0-9a-f]{7,64}")


def is_sha(value: object) -> bool:
    """Whether a payload's value is a commit id (and so safe in a store key)."""
    return isinstance(value, str) and _SHA.fullmatch(value) is not None


def encode_subject(subject: object) -> str:
    """A subject dataclass as its stored JSON (tuples become lists; keys sorted, so equal
    subjects store equal text)."""
    return json.dumps(vars(subject), separators=(",", ":"), sort_keys=True)


def decode_subject(
    make: Callable[..., _S],
    text: str | None,
    labels: Callable[[Iterable[Any]], tuple[Any, ...]] = tuple,
) -> _S | None:
    """The subject `encode_subject` stored, or None for a missing or unreadable record (a
    record from another version starts the subject afresh rather than failing the delivery).
    `labels` turns the stored label list back into the dataclass's tuple."""
    try:
        raw = json.loads(text) if text else None
        if not isinstance(raw, dict):
            return None
        raw["labels"] = labels(raw.get("labels", ()))
        return make(**raw)
    except (ValueError, TypeError):
        return None


def state_icon(issue: bool, state: str) -> str:
    """The icon a thread root starts with for a subject in `state`."""
    return (ISSUE_ICONS if issue else CHANGE_ICONS).get(state, "🔵")


def ci_state(status: object, conclusion: object) -> str | None:
    """A GitHub-shaped check's or run's status and conclusion as running / passed / failed
    (None: ignore it)."""
    if status != "completed":
        return RUNNING if isinstance(status, str) else None
    if conclusion in _PASSED_CONCLUSIONS:
        return PASSED
    return FAILED if conclusion in _FAILED_CONCLUSIONS else None


def ci_counts(states: Iterable[str]) -> dict[str, int]:
    """CI state -> how many checks are in it, worst first."""
    listed = list(states)
    return {state: listed.count(state) for state in CI_ORDER if state in listed}


def ci_overall(counts: Mapping[str, int]) -> str | None:
    """Failed if anything failed, else running if anything runs, else passed."""
    return next((state for state in CI_ORDER if counts.get(state)), None)


def ci_tail(counts: Mapping[str, int]) -> str:
    """` · CI: ❌ 1 failed, ✅ 2 passed` for a thread root; "" without CI results."""
    text = ", ".join(
        f"{CI_REACTIONS[state]} {counts[state]} {state}" for state in CI_ORDER if counts.get(state)
    )
    return f" · CI: {text}" if text else ""


@dataclass(frozen=True)
class RootUpdate:
    """One subject's thread root around a delivery, as one connection renders it."""

    key: str  # the thread key in the connection's room
    first_seen: bool  # the delivery is the first the bridge saw about the subject
    before: Mapping[str, Any] | None  # the root's content before (None: unknown)
    after: Mapping[str, Any] | None  # and after (None: not known enough to show yet)
    ci_before: str | None = None
    ci_after: str | None = None


def thread_messages(
    room_id: str,
    notes: Sequence[Mapping[str, Any]],
    updates: Sequence[RootUpdate],
    *,
    ci: bool,
    ci_reactions: bool,
) -> list[OutgoingMessage]:
    """A threaded connection's messages for one delivery: its `notes` into the (first)
    subject's thread, then each root's edit, then the CI reaction (which replaces a CI
    result's notes when `ci_reactions`)."""
    if not updates:
        return [OutgoingMessage(room_id=room_id, content=note) for note in notes]
    if ci and ci_reactions:
        notes = []  # the reaction says it
    first = updates[0].key
    out = [
        OutgoingMessage(room_id=room_id, content=note, thread=ThreadRef(first)) for note in notes
    ]
    posted = bool(out)
    for update in updates:
        after = update.after
        # A first notice is the root itself; edit only what it no longer shows.
        starts = update.first_seen and posted and update.key == first
        if after is not None and after != update.before and not starts:
            edit = ThreadRef(update.key, ThreadAction.EDIT_ROOT)
            out.append(OutgoingMessage(room_id=room_id, content=after, thread=edit))
        overall = update.ci_after
        if ci and ci_reactions and overall is not None and overall != update.ci_before:
            ref = ThreadRef(update.key, ThreadAction.REACT, reaction=CI_REACTIONS[overall])
            out.append(OutgoingMessage(room_id=room_id, content={}, thread=ref))
    return out
