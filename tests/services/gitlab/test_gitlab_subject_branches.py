"""Pushes and branch pipelines join their merge request's thread: the pure readers of branch and
commit, and the tracker's branch / head-commit map over the in-memory store."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.paths import CORPORA

from hookshot.core.queue.memory import MemoryQueue
from hookshot.core.subjects import PASSED, RUNNING
from hookshot.core.threads import ThreadAction
from hookshot.services.gitlab.format import event_name
from hookshot.services.gitlab.repo import EVENT_TYPE, GitLabRepo, from_state
from hookshot.services.gitlab.subject import pipeline_target, pushed_branch, source_branch
from hookshot.services.gitlab.subject_threads import Change, SubjectTracker, threaded

URL = "http://example.com"
PATH = "gitlabhq/gitlab-test"
BRANCH = "ms-viewport"  # merge_request.open.1.json's source branch
HEAD = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"  # and its last commit
NEW = "1f0a3e4b5c6d7e8f90a1b2c3d4e5f60718293a4b"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPORA / "gitlab" / name).read_text())
    data["project"].update(path_with_namespace=PATH, web_url=f"{URL}/{PATH}")
    return data


def name_of(payload: dict[str, Any]) -> str:
    name = event_name(None, payload)
    assert name is not None
    return name


def push(branch: str, after: str = NEW) -> dict[str, Any]:
    payload = load("push.none.2.json")
    payload.update(ref=f"refs/heads/{branch}", after=after, checkout_sha=after)
    return payload


def branch_pipeline(status: str, ref: str, sha: str) -> dict[str, Any]:
    """The corpus pipeline as a branch pipeline (no `merge_request`)."""
    payload = load("pipeline.success.1.json")
    payload["merge_request"] = None
    payload["object_attributes"].update(status=status, ref=ref, sha=sha, source="push")
    return payload


def merge_request(**attrs: Any) -> dict[str, Any]:
    payload = load("merge_request.open.1.json")
    payload["object_attributes"].update(attrs)
    return payload


def conn(**state: Any) -> GitLabRepo:
    content = {"instance": "Work", "path": PATH, "threads": True, **state}
    return from_state("!room:x", EVENT_TYPE, f"work/{PATH}", content, instance_url=URL)


async def observe(tracker: SubjectTracker, payload: dict[str, Any]) -> list[Change]:
    return await tracker.observe(name_of(payload), payload, URL, None)


def test_pushed_branch() -> None:
    assert pushed_branch(load("push.none.1.json")) == ("master", HEAD)
    assert pushed_branch(push("feature/x")) == ("feature/x", NEW)
    assert pushed_branch(push("gone", after="0" * 40)) is None  # a deleted branch
    tag = push("v1")
    tag["ref"] = "refs/tags/v1"
    assert pushed_branch(tag) is None
    assert pushed_branch(push("x", after="not a sha")) is None


def test_source_branch_is_only_the_projects_own() -> None:
    assert source_branch(load("merge_request.open.1.json")) == BRANCH
    assert source_branch(load("merge_request.update.1.json")) == "next-feature"
    fork = merge_request(source_project_id=99)
    assert source_branch(fork) is None


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({}, ("master", "bcbb5ec396a2c0f828686f14fac9b80b780504f2")),
        ({"tag": True, "ref": "v1.0"}, (None, "bcbb5ec396a2c0f828686f14fac9b80b780504f2")),
        ({"ref": "refs/merge-requests/1/head"}, (None, "bcbb5ec396a2c0f828686f14fac9b80b780504f2")),
        ({"sha": "zzz"}, ("master", None)),
    ],
)
def test_pipeline_target(attrs: dict[str, Any], expected: tuple[str | None, str | None]) -> None:
    payload = load("pipeline.success.1.json")
    payload["object_attributes"].update(attrs)
    assert pipeline_target(payload) == expected


async def test_a_push_to_the_source_branch_joins_the_mr() -> None:
    store = MemoryQueue()
    tracker = SubjectTracker(store)
    await observe(tracker, merge_request())
    assert await observe(tracker, push("master")) == []  # another branch: main timeline
    [change] = await observe(tracker, push(BRANCH))
    assert (change.old and change.old.head, change.new.head) == (HEAD, NEW)
    out = threaded(conn(), "gitlab.push", [{"body": "pushed"}], [change])
    assert [(m.content, m.thread and m.thread.key) for m in out] == [
        ({"body": "pushed"}, "gitlab:work/gitlabhq/gitlab-test!1")
    ]
    # The map lives in the store: a restarted bridge still knows the branch.
    assert len(await observe(SubjectTracker(store), push(BRANCH, after=HEAD))) == 1


async def test_branch_pipelines_count_for_the_mr_with_reactions() -> None:
    tracker = SubjectTracker(MemoryQueue())
    await observe(tracker, merge_request())
    room = conn(ciReactions=True)
    # By the head commit (whatever the ref says) and by the source branch.
    running = branch_pipeline("running", "elsewhere", HEAD)
    [change] = await observe(tracker, running)
    assert change.new.ci_overall == RUNNING
    out = threaded(room, name_of(running), [{"body": "pipeline"}], [change])
    assert [m.thread and m.thread.action for m in out] == [
        ThreadAction.EDIT_ROOT,
        ThreadAction.REACT,
    ]
    assert out[1].thread is not None and out[1].thread.reaction == "⏳"
    assert "CI: ⏳ 1 running" in str(out[0].content["body"])
    passed = branch_pipeline("success", BRANCH, HEAD)
    [change] = await observe(tracker, passed)
    assert change.new.ci_overall == PASSED
    # A pipeline of another branch and commit is not the MR's.
    assert await observe(tracker, branch_pipeline("failed", "master", NEW)) == []


async def test_a_merged_mr_lets_go_of_its_branch() -> None:
    tracker = SubjectTracker(MemoryQueue())
    await observe(tracker, merge_request())
    [merged] = await observe(tracker, merge_request(action="merge", state="merged"))
    assert merged.new.state == "merged"
    assert await observe(tracker, push(BRANCH)) == []
    assert await observe(tracker, branch_pipeline("running", BRANCH, NEW)) == []
    assert await observe(tracker, branch_pipeline("running", "master", HEAD)) == []
    # A new MR from the same branch claims it.
    await observe(tracker, merge_request(iid=2, url=f"{URL}/{PATH}/-/merge_requests/2"))
    [change] = await observe(tracker, push(BRANCH))
    assert change.new.iid == 2


async def test_a_closed_mr_keeps_a_newer_mrs_branch() -> None:
    tracker = SubjectTracker(MemoryQueue())
    await observe(tracker, merge_request())
    await observe(tracker, merge_request(iid=2))
    await observe(tracker, merge_request(action="close", state="closed"))  # !1 closed
    [change] = await observe(tracker, push(BRANCH))
    assert change.new.iid == 2


async def test_a_forks_branch_is_not_mapped() -> None:
    tracker = SubjectTracker(MemoryQueue())
    await observe(tracker, merge_request(source_project_id=99, last_commit={"id": "ab" * 20}))
    assert await observe(tracker, push(BRANCH)) == []
    # Its head commit is still the MR's: a pipeline for it counts.
    assert len(await observe(tracker, branch_pipeline("running", BRANCH, "ab" * 20))) == 1


async def test_without_a_store_nothing_is_tracked() -> None:
    tracker = SubjectTracker(None)
    assert await observe(tracker, merge_request()) == []
    assert await observe(tracker, push(BRANCH)) == []
