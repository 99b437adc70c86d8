"""Naming real Forgejo/Gitea deliveries (tests/corpora/forgejo): headers, hook names, and
the notice each one makes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.paths import CORPORA

from hookshot.errors import WebhookError
from hookshot.services.forgejo.events import hook_name, is_pull_comment, read_delivery
from hookshot.services.forgejo.format import (
    branch_of_delivery,
    is_draft,
    labels_of,
    plain,
    render,
    repository_of,
)

CORPUS = CORPORA / "forgejo"
DELIVERIES = sorted(p.name.removesuffix(".headers.json") for p in CORPUS.glob("*.headers.json"))

# File name (without the number) -> the hook name it must get.
EXPECTED = {
    "create.branch": "ref.created",
    "create.tag": "ref.created",
    "delete.branch": "ref.deleted",
    "delete.tag": "ref.deleted",
    "issue_comment.created": "issue.comment.created",
    "issue_comment.edited": None,
    "issue_label.label_updated": "issue.labeled",
    "issues.closed": "issue.changed",
    "issues.opened": "issue.created",
    "pull_request.closed-merged": "pull_request.merged",
    "pull_request.closed": "pull_request.closed",
    "pull_request.edited": "pull_request.edited",
    "pull_request.opened": "pull_request.opened",
    "pull_request.reopened": "pull_request.reopened",
    "pull_request_comment.created": "issue.comment.created",
    "pull_request_label.label_cleared": "pull_request.labeled",
    "pull_request_label.label_updated": "pull_request.labeled",
    "pull_request_review_approved.reviewed": "pull_request.reviewed",
    "pull_request_review_comment.reviewed": "pull_request.reviewed",
    "pull_request_review_rejected.reviewed": "pull_request.reviewed",
    "pull_request_review_request.review_requested": None,
    "pull_request_sync.synchronized": "pull_request.synchronized",
    "push.branch": "push",
    "push.new-branch": "push",
    "release.published": "release.published",
}


def _load(name: str) -> tuple[dict[str, str], dict[str, object]]:
    headers = json.loads((CORPUS / f"{name}.headers.json").read_text())
    body = json.loads((CORPUS / f"{name}.json").read_text())
    return {k.lower(): v for k, v in headers.items()}, body


def test_the_corpus_covers_every_expected_kind() -> None:
    kinds = {name.rsplit(".", 1)[0] for name in DELIVERIES}
    assert kinds == set(EXPECTED), kinds ^ set(EXPECTED)
    assert len(DELIVERIES) >= 40


@pytest.mark.parametrize("name", DELIVERIES)
def test_every_delivery_is_named_and_rendered(name: str) -> None:
    headers, body = _load(name)
    delivery = read_delivery(headers)
    assert delivery.delivery == headers["x-gitea-delivery"]
    hook = hook_name(delivery.event_type, body)
    assert hook == EXPECTED[name.rsplit(".", 1)[0]]
    if hook is None:
        return
    content = render(hook, delivery.event_type, body)
    if hook == "push" and not body.get("commits"):
        assert content is None  # a new branch: the `create` delivery makes the notice
        return
    assert content is not None, name
    repo = body["repository"]
    assert isinstance(repo, dict)
    assert plain(repo["full_name"]) in content["body"]
    assert content["msgtype"] == "m.notice" and content["formatted_body"]
    assert "<script" not in content["formatted_body"]


def test_older_gitea_without_event_type_still_names_reviews() -> None:
    headers, body = _load("pull_request_review_rejected.reviewed.1")
    for key in [k for k in headers if k.endswith("-event-type")]:
        del headers[key]
    delivery = read_delivery(headers)
    assert delivery.event_type == "pull_request_review_rejected"
    assert hook_name(delivery.event_type, body) == "pull_request.reviewed"
    content = render("pull_request.reviewed", delivery.event_type, body)
    assert content is not None and "requested changes on" in content["body"]


def test_forgejo_headers_are_read_first() -> None:
    headers = {
        "x-forgejo-event": "push",
        "x-forgejo-delivery": "f-1",
        "x-forgejo-signature": "abc",
        "x-gitea-event": "create",
        "x-gitea-delivery": "g-1",
    }
    delivery = read_delivery(headers)
    assert (delivery.event_type, delivery.delivery, delivery.signature) == ("push", "f-1", "abc")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing X-Forgejo-Event or X-Gitea-Event header"),
        ({"x-gitea-event": "push"}, "Missing X-Forgejo-Delivery or X-Gitea-Delivery header"),
        ({"x-gitea-event": " ", "x-gitea-delivery": "d"}, "Missing X-Forgejo-Event"),
    ],
)
def test_missing_headers_are_refused(headers: dict[str, str], message: str) -> None:
    with pytest.raises(WebhookError) as err:
        read_delivery(headers)
    assert err.value.status == 400 and err.value.message.startswith(message)


def test_merged_closed_and_comments_on_pull_requests() -> None:
    _, merged = _load("pull_request.closed-merged.1")
    _, closed = _load("pull_request.closed.1")
    assert render("pull_request.merged", "pull_request", merged)["body"].startswith("✳️")  # type: ignore[index]
    assert "closed PR" in render("pull_request.closed", "pull_request", closed)["body"]  # type: ignore[index]
    _, pr_comment = _load("pull_request_comment.created.1")
    assert is_pull_comment("pull_request_comment", pr_comment)
    _, issue_comment = _load("issue_comment.created.1")
    assert not is_pull_comment("issue_comment", issue_comment)


def test_branches_and_labels_of_deliveries() -> None:
    _, push = _load("push.branch.1")
    assert branch_of_delivery("push", push) == "master"
    _, tag = _load("create.tag.1")
    assert branch_of_delivery("ref.created", tag) is None
    _, pr = _load("pull_request.opened.1")
    base = pr["pull_request"]["base"]["ref"]  # type: ignore[index]
    assert branch_of_delivery("pull_request.opened", pr) == base
    _, labelled = _load("issue_label.label_updated.1")
    assert labels_of(labelled) == [x["name"] for x in labelled["issue"]["labels"]]  # type: ignore[index]


def test_user_text_cannot_inject_markup_or_links() -> None:
    _, body = _load("issues.opened.1")
    issue = dict(body["issue"])  # type: ignore[arg-type]
    issue["title"] = "<script>alert(1)</script> [click](https://evil.example) **x**"
    content = render("issue.created", "issues", {**body, "issue": issue})
    assert content is not None
    html = content["formatted_body"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://evil.example"' not in html
    assert "<strong>x</strong>" not in html


def test_a_push_without_commits_makes_no_notice() -> None:
    _, push = _load("push.branch.1")
    assert render("push", "push", {**push, "commits": []}) is None


def test_actions_runs(tmp_path: Path) -> None:
    # No real Actions delivery was found (see the corpus README); the shape follows Gitea's
    # WorkflowRunPayload (modules/structs/hook.go): constructed, so only the naming is tested.
    body = {
        "action": "completed",
        "workflow": {"name": "CI"},
        "workflow_run": {
            "conclusion": "failure",
            "html_url": "https://f.test/o/r/actions/runs/3",
            "head_branch": "main",
        },
        "repository": {"full_name": "o/r", "html_url": "https://f.test/o/r"},
    }
    assert hook_name("workflow_run", body) == "workflow.run.failure"
    content = render("workflow.run.failure", "workflow_run", body)
    assert content is not None and content["body"].startswith("❌ Workflow **CI** [failed]")
    assert hook_name("action_run_recover", {}) == "workflow.run.recover"
    assert hook_name("workflow_run", {**body, "action": "requested"}) is None


def test_forgejo_action_runs_carry_their_repository_inside_the_run() -> None:
    # Constructed from Forgejo's ActionPayload (modules/structs): no real one is in the corpus.
    repo = {"full_name": "o/r", "html_url": "https://f.test/o/r"}
    run = {
        "title": "Fix",
        "repository": repo,
        "prettyref": "main",
        "html_url": "https://f.test/r/1",
    }
    body = {"action": "failure", "run": run, "prior_status": "running"}
    assert repository_of(body) == repo and repository_of({"run": "x"}) == {}
    content = render("workflow.run.failure", "action_run_failure", body)
    assert content is not None
    assert (
        content["body"]
        == "❌ Workflow **Fix** [failed](https://f.test/r/1) for o/r on branch `main`"
    )


@pytest.mark.parametrize(
    ("pr", "draft"),
    [
        ({"title": "WIP: x"}, True),
        ({"title": " [wip] x"}, True),
        ({"title": "x", "draft": True}, True),
        ({"title": "wipe the cache"}, False),
        ({"title": 5, "draft": "yes"}, False),
    ],
)
def test_drafts(pr: dict[str, object], draft: bool) -> None:
    assert is_draft(pr) is draft


def _mangled(value: object, kind: int) -> object:
    """Every leaf (and every container) replaced by a value of another type."""
    if isinstance(value, dict):
        return {k: _mangled(v, kind) for k, v in value.items()} if kind % 2 else ["x"]
    if isinstance(value, list):
        return {"0": value} if kind % 3 == 0 else [_mangled(v, kind) for v in value]
    return [None, 5, "", [], {}, "<b>x</b>"][kind % 6]


@pytest.mark.parametrize("kind", range(6))
def test_odd_payloads_never_raise(kind: int) -> None:
    # Deliveries from other forge versions may lack fields or type them differently: the
    # notice may say less, but naming and rendering must not fail (a failed job is a lost one).
    for name in DELIVERIES:
        headers, body = _load(name)
        event_type = read_delivery(headers).event_type
        odd = _mangled(body, kind)
        odd = odd if isinstance(odd, dict) else {"payload": odd}
        hook = hook_name(event_type, odd) or EXPECTED[name.rsplit(".", 1)[0]] or "push"
        render(hook, event_type, odd)
        branch_of_delivery(hook, odd)
        labels_of(odd)
