"""The GitHub subject fold, its thread root line, and the thread messages (pure parts)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from support.paths import CORPORA

from hookshot.core.queue.memory import MemoryQueue
from hookshot.core.subjects import FAILED, PASSED, RUNNING, ci_state
from hookshot.core.threads import ThreadAction
from hookshot.services.github.repo import from_state
from hookshot.services.github.subject import (
    Subject,
    render_root,
    subject_key,
    subject_numbers,
    update,
)
from hookshot.services.github.subject_threads import Change, SubjectTracker, threaded

REPO = "Codertocat/Hello-World"
KEY = "github:codertocat/hello-world#2"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPORA / "github" / name).read_text())
    return data


def conn(**state: Any) -> Any:
    content = {"org": "Codertocat", "repo": "Hello-World", **state}
    return from_state("!room:x", "t", REPO, content)


@pytest.mark.parametrize(
    ("status", "conclusion", "expected"),
    [
        ("queued", None, RUNNING),
        ("in_progress", None, RUNNING),
        ("completed", "success", PASSED),
        ("completed", "skipped", PASSED),
        ("completed", "failure", FAILED),
        ("completed", "timed_out", FAILED),
        ("completed", "stale", None),
        (None, None, None),
    ],
)
def test_ci_state(status: object, conclusion: object, expected: str | None) -> None:
    assert ci_state(status, conclusion) == expected


@pytest.mark.parametrize(
    ("file", "numbers"),
    [
        ("pull_request.opened.1.json", [2]),
        ("issue_comment.created.1.json", [1]),
        ("pull_request_review.submitted.1.json", [2]),
        ("check_run.completed.1.json", [2]),
        ("check_suite.completed.1.json", [2]),
        ("workflow_run.completed.1.json", []),  # a fork's run names no PR
        ("workflow_run.completed.2.json", [2]),
        ("push.none.1.json", []),
    ],
)
def test_subject_numbers(file: str, numbers: list[int]) -> None:
    assert subject_numbers(load(file)) == numbers


def test_fold_a_pull_request_through_ci_and_merge() -> None:
    opened = update(None, REPO, 2, load("pull_request.opened.1.json"))
    assert (opened.kind, opened.state, opened.head) == ("pr", "open", opened.head)
    assert opened.title == "Update the README with new information."
    assert opened.ci_overall is None
    failed = update(opened, REPO, 2, load("check_run.completed.1.json"))
    assert failed.ci == {FAILED: 1} and failed.ci_overall == FAILED
    fixed = update(failed, REPO, 2, load("check_run.completed.2.json"))  # a re-run, same check
    assert fixed.ci == {PASSED: 1} and fixed.ci_overall == PASSED
    # The suite around it does not count twice: check runs are the finer grain.
    suite = update(fixed, REPO, 2, load("check_suite.completed.1.json"))
    assert suite.ci == {PASSED: 1}
    closed = load("pull_request.closed.1.json")
    closed["pull_request"]["merged"] = True
    merged = update(suite, REPO, 2, closed)
    assert merged.state == "merged" and merged.ci == {PASSED: 1}


def test_a_new_head_starts_a_new_ci_round_and_old_results_are_ignored() -> None:
    failed = update(None, REPO, 2, load("check_run.completed.1.json"))
    assert failed.title is None and failed.ci_overall == FAILED  # CI seen before the PR
    newer = update(failed, REPO, 2, load("pull_request.opened.5.json"))  # head 14977a7
    assert newer.head != failed.head and newer.checks == {}
    stale = copy.deepcopy(load("check_run.completed.1.json"))
    stale["check_run"]["pull_requests"] = []
    assert update(newer, REPO, 2, stale) == newer


def test_issue_comment_on_a_pr_keeps_draft_and_sees_merge() -> None:
    draft = Subject(repo=REPO, number=2, title="t", url="u", state="draft")
    comment = load("issue_comment.created.1.json")
    comment["issue"]["pull_request"] = {"merged_at": None}
    del comment["issue"]["draft"]  # older payloads do not say
    assert update(draft, REPO, 2, comment).state == "draft"
    comment["issue"]["pull_request"] = {"merged_at": "2024-01-01T00:00:00Z"}
    assert update(draft, REPO, 2, comment).state == "merged"
    issue = update(None, REPO, 1, load("issues.opened.1.json"))
    assert issue.kind == "issue" and issue.state == "open"


def test_subject_round_trips() -> None:
    subject = update(None, REPO, 2, load("pull_request.opened.1.json"))
    subject = update(subject, REPO, 2, load("check_run.completed.1.json"))
    assert Subject.decode(subject.encode()) == subject
    assert Subject.decode("not json") is None and Subject.decode(None) is None


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            Subject(REPO, 2, title="Fix it", url="https://x/2"),
            '🔵 PR [Codertocat/Hello-World#2](https://x/2): "Fix it" is **open**',
        ),
        (
            Subject(
                REPO,
                2,
                title="Fix it",
                url="https://x/2",
                state="merged",
                labels=(("bug", "d73a4a"),),
                checks={"check_run:a": PASSED, "check_run:b": FAILED, "workflow_run:w": PASSED},
            ),
            '✳️ PR [Codertocat/Hello-World#2](https://x/2): "Fix it" is **merged** with labels bug'
            " · CI: ❌ 1 failed, ✅ 1 passed",
        ),
        (
            Subject(REPO, 1, kind="issue", title="Bug", url="https://x/1", state="closed"),
            '⬛ issue [Codertocat/Hello-World#1](https://x/1): "Bug" is **closed**',
        ),
    ],
)
def test_render_root(subject: Subject, body: str) -> None:
    content = render_root(subject)
    assert content is not None and content["body"] == body
    assert content["msgtype"] == "m.notice" and content["external_url"] == subject.url
    assert "<strong>" in str(content["formatted_body"])
    assert "uk.half-shot.matrix-hookshot.link_previews" not in str(
        render_root(subject, url_previews=True)
    )


def test_render_root_needs_a_title() -> None:
    assert render_root(Subject(REPO, 2)) is None


def test_without_threads_nothing_changes() -> None:
    change = Change(KEY, None, Subject(REPO, 2, title="t", url="u"))
    out = threaded(conn(), "github.pull_request.opened", [{"body": "x"}], [change])
    assert [(m.content, m.thread) for m in out] == [({"body": "x"}, None)]


def test_first_notice_is_the_root_and_later_state_edits_it() -> None:
    opened = Subject(REPO, 2, title="t", url="u")
    first = threaded(
        conn(threads=True),
        "github.pull_request.opened",
        [{"body": "x"}],
        [Change(KEY, None, opened)],
    )
    assert [(m.thread.key, m.thread.action) for m in first if m.thread] == [
        (KEY, ThreadAction.POST)
    ]
    merged = Subject(REPO, 2, title="t", url="u", state="merged")
    later = threaded(
        conn(threads=True),
        "github.pull_request.closed",
        [{"body": "y"}],
        [Change(KEY, opened, merged)],
    )
    assert [m.thread.action for m in later if m.thread] == [
        ThreadAction.POST,
        ThreadAction.EDIT_ROOT,
    ]
    assert "merged" in later[1].content["body"]


def test_ci_reactions_replace_the_notice() -> None:
    opened = Subject(REPO, 2, title="t", url="u", head="abc")
    passed = Subject(REPO, 2, title="t", url="u", head="abc", checks={"workflow_run:CI": PASSED})
    name, notes = "github.workflow_run.completed", [{"body": "Workflow CI completed"}]
    change = [Change(KEY, opened, passed)]
    posted = threaded(conn(threads=True), name, notes, change)
    assert [m.thread.action for m in posted if m.thread] == [
        ThreadAction.POST,
        ThreadAction.EDIT_ROOT,
    ]
    reacted = threaded(conn(threads=True, ciReactions=True), name, notes, change)
    actions = [(m.thread.action, m.thread.reaction) for m in reacted if m.thread]
    assert actions == [(ThreadAction.EDIT_ROOT, None), (ThreadAction.REACT, "✅")]
    same = threaded(
        conn(threads=True, ciReactions=True), name, notes, [Change(KEY, passed, passed)]
    )
    assert same == []  # nothing new to show


async def test_tracker_keeps_state_and_maps_pushes_to_their_pr() -> None:
    tracker = SubjectTracker(MemoryQueue())
    opened = load("pull_request.opened.1.json")
    [first] = await tracker.observe("github.pull_request.opened", opened)
    assert first.old is None and first.key == subject_key(REPO, 2)
    [again] = await tracker.observe(
        "github.check_run.completed", load("check_run.completed.1.json")
    )
    assert again.old == first.new and again.new.ci_overall == FAILED
    push = load("push.none.1.json")
    push["ref"] = f"refs/heads/{opened['pull_request']['head']['ref']}"
    push["after"] = "f" * 40
    [pushed] = await tracker.observe("github.push", push)
    assert pushed.new.head == "f" * 40 and pushed.new.checks == {}
    push["ref"] = "refs/heads/elsewhere"
    assert await tracker.observe("github.push", push) == []
