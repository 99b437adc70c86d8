"""The Forgejo subject fold, its thread root line, the tracker over the in-memory store and
the thread messages (pure parts), over the corpus deliveries."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from support.paths import CORPORA

from hookshot.core.queue.memory import MemoryQueue
from hookshot.core.subjects import FAILED, PASSED, RUNNING
from hookshot.core.threads import ThreadAction
from hookshot.services.forgejo.repo import ForgejoRepo, from_state
from hookshot.services.forgejo.subject import (
    ISSUE,
    PR,
    RunResult,
    Subject,
    render_root,
    run_result,
    subject_key,
    subject_of,
    update,
)
from hookshot.services.forgejo.subject_threads import SubjectTracker, threaded

CORPUS = CORPORA / "forgejo"
# pull_request.opened.1 and .closed-merged.2 are one pull request: jcitizen/my-repo#1.
HEAD = "2eba238e33607c1fa49253182e9fff42baafa1eb"
KEY = "forgejo:trygitea/jcitizen/my-repo#1"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPUS / f"{name}.json").read_text())
    return data


def action_run(outcome: str, sha: str = HEAD, workflow: str = "ci.yml") -> dict[str, Any]:
    """An `action_run_<outcome>` body. No real one is in the corpus (see its README): this is
    constructed from Forgejo's ActionPayload / ActionRun structs (modules/structs), with the
    repository of pull_request.opened.1."""
    return {
        "action": outcome,
        "prior_status": "running",
        "run": {
            "id": 7,
            "title": "Add License File",
            "repository": load("pull_request.opened.1")["repository"],
            "workflow_id": workflow,
            "prettyref": "feature",
            "commit_sha": sha,
            "event": "pull_request",
            "status": outcome,
            "html_url": "https://try.gitea.io/jcitizen/my-repo/actions/runs/7",
        },
    }


def conn(**state: Any) -> ForgejoRepo:
    content = {"instance": "trygitea", "owner": "jcitizen", "repo": "my-repo", **state}
    return from_state(
        "!room:x", "t", "trygitea/jcitizen/my-repo", content, instance_url="https://try.gitea.io"
    )


def test_keys_name_the_instance() -> None:
    assert subject_key("TryGitea", "JCitizen/My-Repo", 1) == KEY


@pytest.mark.parametrize(
    ("name", "event_type", "expected"),
    [
        ("pull_request.opened.1", "pull_request", (PR, 1)),
        ("pull_request_review_approved.reviewed.1", "pull_request_review_approved", (PR, 7)),
        ("pull_request_comment.created.1", "pull_request_comment", (PR, 2)),  # no is_pull
        ("pull_request_comment.created.2", "issue_comment", (PR, 2)),  # is_pull
        ("issues.opened.1", "issues", (ISSUE, 1)),
        ("issue_comment.created.3", "issue_comment", (ISSUE, 1)),
        ("push.branch.1", "push", None),
        ("release.published.1", "release", None),
    ],
)
def test_subject_of(name: str, event_type: str, expected: tuple[str, int] | None) -> None:
    assert subject_of(event_type, load(name)) == expected


def test_the_fold_follows_a_pull_request() -> None:
    opened = load("pull_request.opened.1")
    subject = update(None, opened["repository"], PR, 1, opened)
    assert (subject.title, subject.state, subject.head) == ("Add License File", "open", HEAD)
    assert subject.url == "https://try.gitea.io/jcitizen/my-repo/pulls/1"
    merged = load("pull_request.closed-merged.2")
    assert update(subject, merged["repository"], PR, 1, merged).state == "merged"
    closed = load("pull_request.closed.2")
    assert update(subject, closed["repository"], PR, 1, closed).state == "closed"
    wip = copy.deepcopy(opened)
    wip["pull_request"]["title"] = "[WIP] Add License File"
    assert update(None, wip["repository"], PR, 1, wip).state == "draft"
    # A title that merely starts with "wip" is not Forgejo's prefix.
    wip["pull_request"]["title"] = "wipe the cache"
    assert update(None, wip["repository"], PR, 1, wip).state == "open"


def test_an_issue_from_old_gitea_gets_its_page_from_the_repository() -> None:
    opened = load("issues.opened.1")  # no html_url on the issue
    subject = update(None, opened["repository"], ISSUE, 1, opened)
    assert subject.url == "http://try.gitea.io/gogits/hello-world/issues/1"
    closed = load("issues.closed.1")
    assert update(subject, closed["repository"], ISSUE, 1, closed).state == "closed"


def test_a_comment_keeps_labels_it_does_not_list() -> None:
    subject = Subject(repo="o/r", number=2, title="t", url="https://x/o/r/pulls/2", labels=("a",))
    comment = load("pull_request_comment.created.1")
    del comment["issue"]["labels"]
    after = update(subject, comment["repository"], PR, 2, comment)
    assert after.labels == ("a",) and after.state == "open"
    merged = copy.deepcopy(comment)
    merged["issue"]["pull_request"]["merged"] = True  # an issue object of a merged PR
    assert update(subject, merged["repository"], PR, 2, merged).state == "merged"


def test_render_root() -> None:
    subject = Subject(
        repo="o/r",
        number=3,
        title="Speed",
        url="https://f.test/o/r/pulls/3",
        state="merged",
        labels=("bug",),
        runs={"a": PASSED, "b": FAILED, "c": RUNNING},
    )
    content = render_root(subject)
    assert content is not None
    assert content["body"] == (
        '✳️ PR [o/r#3](https://f.test/o/r/pulls/3): "Speed" is **merged** with labels `bug`'
        " · CI: ❌ 1 failed, ⏳ 1 running, ✅ 1 passed"
    )
    assert content["formatted_body"].startswith('✳️ PR <a href="https://f.test/o/r/pulls/3">')
    assert render_root(Subject(repo="o/r", number=3)) is None  # nothing to show yet
    issue = render_root(Subject("o/r", 4, ISSUE, "Crash", "https://f.test/o/r/issues/4"))
    assert issue is not None and issue["body"].startswith("📥 issue")


def test_a_hostile_title_cannot_make_a_link_or_markup() -> None:
    title = "[click](https://evil.example) <script>alert(1)</script> `x`"
    content = render_root(Subject("o/r", 1, PR, title, "https://f.test/o/r/pulls/1"))
    assert content is not None
    html = content["formatted_body"]
    assert 'href="https://evil.example"' not in html and "<script>" not in html
    assert "<code>" not in html
    # A URL that is not http(s) is not used.
    odd = load("pull_request.opened.1")
    odd["pull_request"]["html_url"] = "javascript:alert(1)"
    odd["repository"]["html_url"] = "javascript:alert(1)"
    assert update(None, odd["repository"], PR, 1, odd).url is None


def test_run_results() -> None:
    assert run_result("action_run_failure", action_run("failure")) == RunResult(
        HEAD, "ci.yml", FAILED
    )
    assert run_result("action_run_recover", action_run("recover")).state == PASSED  # type: ignore[union-attr]
    gitea = {
        "action": "in_progress",
        "workflow": {"name": "CI"},
        "workflow_run": {"head_sha": HEAD, "status": "in_progress", "conclusion": None},
    }
    assert run_result("workflow_run", gitea) == RunResult(HEAD, "CI", RUNNING)
    assert run_result("issues", load("issues.opened.1")) is None


@pytest.mark.parametrize(
    "sha", [None, 5, "", "x" * 40, "A" * 40, "0" * 65, HEAD + "\n", "../../etc", ["ab" * 20]]
)
def test_a_run_without_a_plain_commit_id_is_ignored(sha: object) -> None:
    body = action_run("success")
    body["run"]["commit_sha"] = sha
    assert run_result("action_run_success", body) is None


async def test_tracker_and_thread_messages() -> None:
    tracker = SubjectTracker(MemoryQueue())
    room = conn(threads=True, ciReactions=True)
    opened = load("pull_request.opened.1")
    changes = await tracker.observe("pull_request", opened)
    out = threaded(room, "pull_request", [{"body": "opened"}], changes)
    # The first notice is the root; nothing to edit yet.
    assert [(m.content, m.thread) for m in out] == [({"body": "opened"}, out[0].thread)]
    assert out[0].thread is not None and out[0].thread.key == KEY
    assert out[0].thread.action is ThreadAction.POST

    failed = await tracker.observe("action_run_failure", action_run("failure"))
    out = threaded(room, "action_run_failure", [{"body": "❌ run"}], failed)
    # With ciReactions the run's notice is not posted: the root is edited and reacted on.
    assert [m.thread.action for m in out if m.thread] == [
        ThreadAction.EDIT_ROOT,
        ThreadAction.REACT,
    ]
    assert out[1].thread is not None and out[1].thread.reaction == "❌"
    assert "CI: ❌ 1 failed" in str(out[0].content["body"])

    passed = await tracker.observe("action_run_success", action_run("success"))
    out = threaded(room, "action_run_success", [{"body": "✅ run"}], passed)
    assert [m.thread.reaction for m in out if m.thread] == [None, "✅"]  # the re-run replaced it

    # Without ciReactions the run's notice goes into the thread.
    plain = threaded(conn(threads=True), "action_run_success", [{"body": "✅ run"}], passed)
    assert plain[0].thread is not None and plain[0].thread.action is ThreadAction.POST

    merged = await tracker.observe("pull_request", load("pull_request.closed-merged.2"))
    out = threaded(room, "pull_request", [{"body": "merged"}], merged)
    assert out[0].thread is not None and out[0].thread.action is ThreadAction.POST
    assert out[1].thread is not None and out[1].thread.action is ThreadAction.EDIT_ROOT
    assert "is **merged**" in str(out[1].content["body"])
    assert "CI: ✅ 1 passed" in str(out[1].content["body"])

    # Threads off: the notices as they always were.
    off = threaded(conn(), "pull_request", [{"body": "merged"}], merged)
    assert [(m.content, m.thread) for m in off] == [({"body": "merged"}, None)]


async def test_pushes_to_the_head_branch_start_a_new_round() -> None:
    tracker = SubjectTracker(MemoryQueue())
    await tracker.observe("pull_request", load("pull_request.opened.1"))
    await tracker.observe("action_run_failure", action_run("failure"))
    push = load("push.branch.2")  # a real push, moved to the PR's repository and branch
    push["repository"] = load("pull_request.opened.1")["repository"]
    push["ref"] = "refs/heads/feature"
    [change] = await tracker.observe("push", push)
    assert change.old is not None and change.old.runs == {"ci.yml": FAILED}
    assert change.new.head == push["after"] and change.new.runs == {}
    # The old commit's result arriving late is not this PR's state any more.
    [late] = await tracker.observe("action_run_success", action_run("success"))
    assert late.new.runs == {}
    [now] = await tracker.observe("action_run_success", action_run("success", push["after"]))
    assert now.new.runs == {"ci.yml": PASSED}
    # Another branch, a deleted branch, a tag: not about the PR.
    for ref, after in (
        ("refs/heads/main", push["after"]),
        ("refs/heads/feature", "0" * 40),
        ("refs/tags/feature", push["after"]),
    ):
        assert await tracker.observe("push", {**push, "ref": ref, "after": after}) == []


async def test_a_fork_branch_and_unknown_commits_are_not_mapped() -> None:
    tracker = SubjectTracker(MemoryQueue())
    fork = load("pull_request.opened.1")
    fork["pull_request"]["head"]["repo"]["full_name"] = "mallory/my-repo"
    await tracker.observe("pull_request", fork)
    push = load("push.branch.2")
    push.update(repository=fork["repository"], ref="refs/heads/feature")
    assert await tracker.observe("push", push) == []
    assert await tracker.observe("action_run_failure", action_run("failure", "ab" * 20)) == []
    # Without a store (no ValueStore in this queue) nothing is tracked.
    assert await SubjectTracker(None).observe("pull_request", fork) == []


def _mangled(value: object, kind: int) -> object:
    """Every leaf (and every container) replaced by a value of another type."""
    if isinstance(value, dict):
        return {k: _mangled(v, kind) for k, v in value.items()} if kind % 2 else ["x"]
    if isinstance(value, list):
        return {"0": value} if kind % 3 == 0 else [_mangled(v, kind) for v in value]
    return [None, 5, "", [], {}, "<b>x</b>", True, -1][kind % 8]


@pytest.mark.parametrize("kind", range(8))
async def test_odd_payloads_never_raise(kind: int) -> None:
    # A failed job is a lost one: odd deliveries may change nothing, but must not fail.
    tracker = SubjectTracker(MemoryQueue())
    bodies = [
        ("pull_request", load("pull_request.opened.1")),
        ("issue_comment", load("pull_request_comment.created.2")),
        ("issues", load("issues.opened.1")),
        ("push", load("push.branch.2")),
        ("action_run_failure", action_run("failure")),
    ]
    for event_type, body in bodies:
        await tracker.observe(event_type, body)  # real ones first, so there is state
    for event_type, body in bodies:
        odd = _mangled(body, kind)
        odd = odd if isinstance(odd, dict) else {"payload": odd}
        odd["repository"] = body.get("repository") or body["run"]["repository"]
        for change in await tracker.observe(event_type, odd):
            render_root(change.new)
            threaded(conn(threads=True, ciReactions=True), event_type, [], [change])
    assert Subject.decode("not json") is None and Subject.decode('{"x": 1}') is None
