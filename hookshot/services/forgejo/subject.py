"""A Forgejo/Gitea pull request's or issue's current state, folded from its deliveries, and the
thread root line that shows it (pure; docs/quiet-rooms.md).

Pull request, issue, comment and review deliveries carry what the root shows (state, labels,
title). CI results carry only a commit: Forgejo's `action_run_*` deliveries name it in
`run.commit_sha`, Gitea's `workflow_run` in `workflow_run.head_sha`; the tracker maps a head
commit to its pull request (subject_threads). A new head starts a new CI round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from hookshot import wire
from hookshot.core.markdown import render_markdown_inline
from hookshot.core.subjects import (
    FAILED,
    PASSED,
    ci_counts,
    ci_overall,
    ci_state,
    ci_tail,
    decode_subject,
    encode_subject,
    is_sha,
    state_icon,
)
from hookshot.services.forgejo.format import Content, is_draft, item_url, plain

PR: Final = "pr"
ISSUE: Final = "issue"

# Forgejo Actions: the outcome is the event type's suffix (there is no "running" delivery).
_ACTION_RUN_STATES: Final[Mapping[str, str]] = {
    "action_run_success": PASSED,
    "action_run_recover": PASSED,
    "action_run_failure": FAILED,
}
MAX_LABELS: Final = 50


@dataclass(frozen=True)
class Subject:
    """What the thread root of one pull request or issue shows."""

    repo: str  # full_name as the forge spells it
    number: int
    kind: str = PR  # PR | ISSUE
    title: str | None = None
    url: str | None = None
    state: str = "open"  # open | draft | merged | closed
    labels: tuple[str, ...] = ()
    head: str | None = None  # head commit: CI results for another commit are not counted
    runs: Mapping[str, str] = field(default_factory=dict)  # workflow -> CI state

    def encode(self) -> str:
        return encode_subject(self)

    @classmethod
    def decode(cls, text: str | None) -> Subject | None:
        return decode_subject(cls, text)

    @property
    def ci(self) -> dict[str, int]:
        """CI state -> how many of the head commit's workflows are in it."""
        return ci_counts(self.runs.values())

    @property
    def ci_overall(self) -> str | None:
        return ci_overall(self.ci)


@dataclass(frozen=True)
class RunResult:
    """One CI result: which commit, which workflow, and its state."""

    sha: str
    workflow: str
    state: str


def subject_key(instance: str, repo: str, number: int) -> str:
    """The thread key of a pull request or issue (Forgejo numbers both in one sequence)."""
    return f"forgejo:{instance.lower()}/{repo.lower()}#{number}"


def subject_of(event_type: str, payload: Mapping[str, Any]) -> tuple[str, int] | None:
    """The (kind, number) a pull request, issue, comment or review delivery is about."""
    pr, issue = _obj(payload.get("pull_request")), _obj(payload.get("issue"))
    if pr and _is_number(pr.get("number")):
        return PR, pr["number"]
    if issue and _is_number(issue.get("number")):
        pull = payload.get("is_pull") is True or issue.get("pull_request") is not None
        pull = pull or event_type == "pull_request_comment"
        return (PR if pull else ISSUE), issue["number"]
    return None


def run_result(event_type: str, payload: Mapping[str, Any]) -> RunResult | None:
    """The CI result of a Forgejo `action_run_*` or Gitea `workflow_run` delivery."""
    state: str | None
    if event_type in _ACTION_RUN_STATES:
        run = _obj(payload.get("run"))
        sha, state = run.get("commit_sha"), _ACTION_RUN_STATES[event_type]
        workflow = run.get("workflow_id") or run.get("title")
    elif event_type == "workflow_run":
        run = _obj(payload.get("workflow_run"))
        sha, state = run.get("head_sha"), ci_state(run.get("status"), run.get("conclusion"))
        workflow = _obj(payload.get("workflow")).get("name") or run.get("name")
    else:
        return None
    if not is_sha(sha) or state is None:
        return None
    return RunResult(str(sha), str(workflow or "?")[:200], state)


def head_of(payload: Mapping[str, Any]) -> str | None:
    """The pull request's head commit in a pull request delivery."""
    sha = _obj(_obj(payload.get("pull_request")).get("head")).get("sha")
    return sha if is_sha(sha) else None


def update(
    old: Subject | None,
    repository: Mapping[str, Any],
    kind: str,
    number: int,
    payload: Mapping[str, Any],
) -> Subject:
    """`old` after a pull request, issue, comment or review delivery about it."""
    repo = repository.get("full_name")
    subject = old or Subject(repo=str(repo), number=number, kind=kind)
    pr = _obj(payload.get("pull_request"))
    if pr:
        changed = _with_item(subject, repository, pr, PR)
        head = head_of(payload)
        return on_head(changed, head) if head else changed
    return _with_item(subject, repository, _obj(payload.get("issue")), kind)


def on_head(subject: Subject, sha: str) -> Subject:
    """A new head commit (a push, a synchronized PR): a new CI round."""
    if sha == subject.head:
        return subject
    return replace(subject, head=sha, runs={})


def with_run(subject: Subject, result: RunResult) -> Subject:
    """`subject` after a CI result for one of its commits; a result for another commit than
    its head (an older push's) is not its state any more."""
    if subject.head is not None and result.sha != subject.head:
        return subject
    return replace(subject, head=result.sha, runs={**subject.runs, result.workflow: result.state})


def render_root(subject: Subject, *, url_previews: bool = True) -> Content | None:
    """The thread root's content: one line with the state, labels and CI summary; None
    while the title or URL is unknown."""
    if subject.title is None or subject.url is None:
        return None
    icon = state_icon(subject.kind == ISSUE, subject.state)
    noun = "PR" if subject.kind == PR else "issue"
    ref = f"[{plain(subject.repo)}#{subject.number}]({subject.url})"
    line = f'{icon} {noun} {ref}: "{plain(subject.title)}" is **{subject.state}**'
    if subject.labels:
        line += " with labels " + ", ".join(f"`{plain(name)}`" for name in subject.labels)
    tail = ci_tail(subject.ci)
    content: Content = {
        "msgtype": wire.M_NOTICE,
        "body": line + tail,
        "format": wire.HTML_FORMAT,
        "formatted_body": render_markdown_inline(line) + tail,
        wire.EXTERNAL_URL: subject.url,
    }
    if not url_previews:
        content[wire.URL_PREVIEWS_KEY] = []
    return content


def _with_item(
    subject: Subject, repository: Mapping[str, Any], item: Mapping[str, Any], kind: str
) -> Subject:
    title = item.get("title")
    # Old Gitea sends no `html_url` for issues: the page is built from the repository's.
    url = item_url(repository, item, "pulls" if kind == PR else "issues")
    labels = item.get("labels")
    names = subject.labels
    if isinstance(labels, list):  # a payload without the list says nothing about labels
        names = tuple(
            label["name"]
            for label in labels[:MAX_LABELS]
            if isinstance(label, Mapping) and isinstance(label.get("name"), str)
        )
    return replace(
        subject,
        kind=kind,
        title=title if isinstance(title, str) else subject.title,
        url=url if url.startswith(("https://", "http://")) else subject.url,
        state=_item_state(item, kind, subject.state),
        labels=names,
    )


def _item_state(item: Mapping[str, Any], kind: str, previous: str) -> str:
    links = _obj(item.get("pull_request"))  # an issue object of a PR (comments) says merged
    if item.get("merged") is True or item.get("merged_at") or links.get("merged") is True:
        return "merged"
    state = item.get("state")
    if state == "closed":
        return "closed"
    if state != "open":
        return previous  # a payload that does not say: keep what we knew
    return "draft" if kind == PR and is_draft(item) else "open"


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _is_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
