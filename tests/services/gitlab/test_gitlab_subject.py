"""The GitLab subject fold, its thread root line, and the thread messages (pure parts, and the
tracker over the in-memory store)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.paths import CORPORA

from hookshot.core.queue.memory import MemoryQueue
from hookshot.core.subjects import FAILED, PASSED, RUNNING
from hookshot.core.threads import ThreadAction
from hookshot.services.gitlab.format import event_name
from hookshot.services.gitlab.repo import EVENT_TYPE, GitLabRepo, from_state
from hookshot.services.gitlab.subject import (
    ISSUE,
    MR,
    Subject,
    ci_state,
    render_root,
    subject_key,
    subject_of,
    update,
)
from hookshot.services.gitlab.subject_threads import Change, SubjectTracker, thread_ref, threaded

URL = "http://example.com"
PATH = "gitlabhq/gitlab-test"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPORA / "gitlab" / name).read_text())
    return data


def name_of(payload: dict[str, Any]) -> str:
    name = event_name(None, payload)
    assert name is not None
    return name


def mr_pipeline(status: str, sha: str = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7") -> Any:
    payload = load("pipeline.success.1.json")
    payload["project"].update(path_with_namespace=PATH, web_url=f"{URL}/{PATH}")
    payload["object_attributes"].update(status=status, sha=sha)
    return payload


def conn(**state: Any) -> GitLabRepo:
    content = {"instance": "Work", "path": PATH, **state}
    return from_state("!room:x", EVENT_TYPE, f"work/{PATH}", content, instance_url=URL)


def test_keys_name_the_instance_and_kind() -> None:
    assert subject_key("Work", "Grp/Proj", MR, 3) == "gitlab:work/grp/proj!3"
    assert subject_key("work", "grp/proj", ISSUE, 3) == "gitlab:work/grp/proj#3"


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        ("merge_request.open.1.json", (MR, 1)),
        ("issue.open.1.json", (ISSUE, 23)),
        ("note.create.2.json", (MR, 1)),
        ("note.create.3.json", (ISSUE, 17)),
        ("note.create.1.json", None),  # a commit comment
        ("pipeline.success.1.json", (MR, 1)),
        ("push.none.1.json", None),
    ],
)
def test_subject_of(file: str, expected: tuple[str, int] | None) -> None:
    payload = load(file)
    assert subject_of(name_of(payload), payload) == expected


def test_a_branch_pipeline_has_no_subject() -> None:
    payload = load("pipeline.success.1.json")
    del payload["merge_request"]
    assert subject_of(name_of(payload), payload) is None


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("running", RUNNING),
        ("pending", RUNNING),
        ("success", PASSED),
        ("failed", FAILED),
        ("canceled", FAILED),
        ("skipped", PASSED),
        ("manual", None),
        (None, None),
    ],
)
def test_ci_state(status: object, state: str | None) -> None:
    assert ci_state(status) == state


def test_an_mr_from_open_to_merged_with_ci() -> None:
    opened = load("merge_request.open.1.json")
    subject = update(None, PATH, MR, 1, name_of(opened), opened)
    assert (subject.title, subject.state, subject.labels) == ("MS-Viewport", "open", ("API",))
    root = render_root(subject)
    assert root is not None
    assert root["body"] == (
        "🔵 MR [gitlabhq/gitlab-test!1](http://example.com/diaspora/merge_requests/1): "
        '"MS-Viewport" is **open** with labels API'
    )
    for status, summary in (("running", "⏳ 1 running"), ("success", "✅ 1 passed")):
        pipeline = mr_pipeline(status)
        subject = update(subject, PATH, MR, 1, name_of(pipeline), pipeline)
        assert subject.ci_overall == ci_state(status)
        assert str((render_root(subject) or {})["body"]).endswith(f"· CI: {summary}")
    # A pipeline of an older commit that finishes late is not the MR's state.
    stale = mr_pipeline("failed", sha="old")
    assert update(subject, PATH, MR, 1, name_of(stale), stale) == subject
    merged = load("merge_request.open.1.json")
    merged["object_attributes"].update(action="merge", state="merged")
    merged["labels"] = []
    subject = update(subject, PATH, MR, 1, name_of(merged), merged)
    body = str((render_root(subject) or {})["body"])
    assert body.startswith("✳️ MR") and "is **merged** · CI: ✅ 1 passed" in body
    assert Subject.decode(subject.encode()) == subject


def test_draft_and_a_new_head() -> None:
    payload = load("merge_request.open.1.json")
    payload["object_attributes"]["draft"] = True
    subject = update(None, PATH, MR, 1, name_of(payload), payload)
    assert subject.state == "draft"
    pipeline = mr_pipeline("failed")
    subject = update(subject, PATH, MR, 1, name_of(pipeline), pipeline)
    assert subject.ci == {FAILED: 1}
    # A push starts a new round: its pipeline starting replaces the old head's results.
    pushed = mr_pipeline("running", sha="new")
    subject = update(subject, PATH, MR, 1, name_of(pushed), pushed)
    assert (subject.head, subject.ci) == ("new", {RUNNING: 1})


def test_a_note_keeps_what_its_item_does_not_say() -> None:
    opened = load("merge_request.open.1.json")
    subject = update(None, PATH, MR, 1, name_of(opened), opened)
    note = load("note.create.2.json")
    assert [label["title"] for label in note["merge_request"]["labels"]] == ["Afterpod", "Element"]
    after = update(subject, PATH, MR, 1, name_of(note), note)
    assert after.labels == ("Afterpod", "Element") and after.url == subject.url
    del note["merge_request"]["labels"]
    after = update(subject, PATH, MR, 1, name_of(note), note)
    assert after.labels == ("API",) and after.state == "open"


def test_without_threads_nothing_changes() -> None:
    opened = load("merge_request.open.1.json")
    subject = update(None, PATH, MR, 1, name_of(opened), opened)
    out = threaded(conn(), name_of(opened), [{"body": "x"}], [Change(None, subject)])
    assert [m.thread for m in out] == [None]
    assert thread_ref(conn(), PATH, "1") is None
    ref = thread_ref(conn(threads=True), PATH, "1")
    assert ref is not None and ref.key == "gitlab:work/gitlabhq/gitlab-test!1"


async def test_tracker_and_thread_messages() -> None:
    tracker = SubjectTracker(MemoryQueue())
    room = conn(threads=True, ciReactions=True)
    opened = load("merge_request.open.1.json")
    changes = await tracker.observe(name_of(opened), opened, URL, "Merge Request Hook")
    out = threaded(room, name_of(opened), [{"body": "opened"}], changes)
    # The first notice is the root; nothing to edit yet.
    assert [(m.content, m.thread and m.thread.action) for m in out] == [
        ({"body": "opened"}, ThreadAction.POST)
    ]
    running = mr_pipeline("running")
    changes = await tracker.observe(name_of(running), running, URL, "Pipeline Hook")
    out = threaded(room, name_of(running), [{"body": "pipeline"}], changes)
    assert [m.thread and m.thread.action for m in out] == [
        ThreadAction.EDIT_ROOT,
        ThreadAction.REACT,
    ]
    assert out[1].thread is not None and out[1].thread.reaction == "⏳"
    # Without ciReactions the pipeline notice goes into the thread.
    plain = threaded(conn(threads=True), name_of(running), [{"body": "pipeline"}], changes)
    assert plain[0].content == {"body": "pipeline"}
    assert plain[0].thread is not None and plain[0].thread.action is ThreadAction.POST


async def test_confidential_items_are_not_tracked() -> None:
    tracker = SubjectTracker(MemoryQueue())
    issue = load("issue.open.1.json")
    issue["object_attributes"]["confidential"] = True
    assert await tracker.observe(name_of(issue), issue, URL, "Issue Hook") == []
