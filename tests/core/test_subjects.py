"""The quiet-rooms parts every forge shares (pure): CI summary, icons, thread messages."""

from __future__ import annotations

from hookshot.core.subjects import (
    FAILED,
    PASSED,
    RUNNING,
    RootUpdate,
    ci_counts,
    ci_overall,
    ci_state,
    ci_tail,
    state_icon,
    thread_messages,
)
from hookshot.core.threads import ThreadAction


def test_ci_summary_is_worst_first() -> None:
    counts = ci_counts([PASSED, RUNNING, PASSED, FAILED])
    assert list(counts.items()) == [(FAILED, 1), (RUNNING, 1), (PASSED, 2)]
    assert ci_overall(counts) == FAILED and ci_overall(ci_counts([PASSED])) == PASSED
    assert ci_overall({}) is None and ci_tail({}) == ""
    assert ci_tail(counts) == " · CI: ❌ 1 failed, ⏳ 1 running, ✅ 2 passed"


def test_github_shaped_run_states() -> None:
    assert ci_state("in_progress", None) == RUNNING
    assert ci_state("completed", "skipped") == PASSED
    assert ci_state("completed", "timed_out") == FAILED
    assert ci_state("completed", "stale") is None and ci_state(None, None) is None


def test_icons() -> None:
    assert state_icon(False, "merged") == "✳️" and state_icon(True, "closed") == "⬛"
    assert state_icon(True, "weird") == "🔵"


def test_thread_messages() -> None:
    root = {"body": "root"}
    first = RootUpdate("k", first_seen=True, before=None, after=root)
    # Without subjects the notes are sent as they are.
    [plain] = thread_messages("!r", [{"body": "n"}], [], ci=False, ci_reactions=False)
    assert plain.thread is None
    # The first notice starts the thread: no edit of itself.
    [only] = thread_messages("!r", [{"body": "n"}], [first], ci=False, ci_reactions=False)
    assert only.thread is not None and only.thread.action is ThreadAction.POST
    # No notice (filtered, or an event without one): the root is edited (dropped if none).
    [edit] = thread_messages("!r", [], [first], ci=False, ci_reactions=False)
    assert edit.thread is not None and edit.thread.action is ThreadAction.EDIT_ROOT
    # Unchanged root: no edit; a CI change with reactions: the notice gives way to a reaction.
    ci = RootUpdate("k", False, root, root, ci_before=RUNNING, ci_after=PASSED)
    [react] = thread_messages("!r", [{"body": "ci"}], [ci], ci=True, ci_reactions=True)
    assert react.thread is not None and react.thread.reaction == "✅"
    same = RootUpdate("k", False, root, root, ci_before=PASSED, ci_after=PASSED)
    assert thread_messages("!r", [], [same], ci=True, ci_reactions=True) == []
