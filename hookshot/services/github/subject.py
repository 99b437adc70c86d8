"""A pull request's or issue's current state, folded from its deliveries, and the thread root
line that shows it (pure). Ours: hookshot has no threads (docs/quiet-rooms.md).

Every delivery about a subject carries what the root shows (state, draft, labels, title) except
the CI summary, which is a fold over check runs, workflow runs and check suites for the
subject's head commit; a new head starts a new CI round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from hookshot import wire
from hookshot.core.markdown import render_markdown_inline
from hookshot.core.subjects import (
    ci_counts,
    ci_overall,
    ci_state,
    ci_tail,
    decode_subject,
    encode_subject,
    state_icon,
)
from hookshot.services.github.emoji import emojify
from hookshot.services.github.labels import format_labels
from hookshot.services.github.payload import EXTERNAL_URL, Content

# The CI payload kinds, finest first: a summary counts only the finest kind it has seen, so one
# GitHub Actions job (a check run, inside a workflow run, inside a check suite) counts once.
_CI_KINDS: Final = (("check_run", "name"), ("workflow_run", "name"), ("check_suite", None))


@dataclass(frozen=True)
class Subject:
    """What the thread root of one pull request or issue shows."""

    repo: str  # full_name as GitHub spells it
    number: int
    kind: str = "pr"  # "pr" | "issue"
    title: str | None = None  # unknown when a CI result is the first thing seen
    url: str | None = None
    state: str = "open"  # open | draft | merged | closed
    labels: tuple[tuple[str, str], ...] = ()  # (name, colour)
    head: str | None = None  # head commit: CI results for another commit are not counted
    checks: Mapping[str, str] = field(default_factory=dict)  # "<kind>:<name>" -> CI state

    def encode(self) -> str:
        return encode_subject(self)

    @classmethod
    def decode(cls, text: str | None) -> Subject | None:
        return decode_subject(cls, text, lambda stored: tuple(tuple(label) for label in stored))

    @property
    def ci(self) -> dict[str, int]:
        """CI state -> how many checks are in it, counting the finest kind seen."""
        for kind, _ in _CI_KINDS:
            mine = [state for key, state in self.checks.items() if key.startswith(f"{kind}:")]
            if mine:
                return ci_counts(mine)
        return {}

    @property
    def ci_overall(self) -> str | None:
        """Failed if anything failed, else running if anything runs, else passed."""
        return ci_overall(self.ci)


def subject_key(repo: str, number: int) -> str:
    """The thread key of a pull request or issue (GitHub numbers them in one sequence)."""
    return f"github:{repo.lower()}#{number}"


def subject_numbers(payload: Mapping[str, Any]) -> list[int]:
    """The pull request / issue numbers a delivery is about: its item, or the pull requests a
    CI result names (none for a fork's PR: GitHub leaves `pull_requests` empty there)."""
    for key in ("pull_request", "issue"):
        item = payload.get(key)
        if isinstance(item, Mapping) and _is_int(item.get("number")):
            return [item["number"]]
    run = _ci_object(payload)
    if run is None:
        return []
    prs = run.get("pull_requests")
    return [
        pr["number"]
        for pr in (prs if isinstance(prs, list) else [])
        if isinstance(pr, Mapping) and _is_int(pr.get("number"))
    ]


def update(old: Subject | None, repo: str, number: int, payload: Mapping[str, Any]) -> Subject:
    """`old` after a delivery about subject `number` of `repo`."""
    subject = old or Subject(repo=repo, number=number)
    pr, issue = payload.get("pull_request"), payload.get("issue")
    if isinstance(pr, Mapping):
        subject = _with_item(subject, pr, "pr")
        head = pr.get("head")
        sha = head.get("sha") if isinstance(head, Mapping) else None
        return _on_head(subject, sha) if isinstance(sha, str) else subject
    if isinstance(issue, Mapping):
        return _with_item(subject, issue, "pr" if "pull_request" in issue else "issue")
    return _with_ci(subject, payload)


def on_push(old: Subject, after: str) -> Subject:
    """A push to the pull request's head branch: a new head, so a new CI round."""
    return _on_head(old, after)


def render_root(subject: Subject, *, url_previews: bool = True) -> Content | None:
    """The thread root's content for `subject`: one line with its state, labels and CI
    summary; None while its title is unknown."""
    if subject.title is None or subject.url is None:
        return None
    icon = state_icon(subject.kind == "issue", subject.state)
    noun = "PR" if subject.kind == "pr" else "issue"
    ref = f"[{subject.repo}#{subject.number}]({subject.url})"
    text = emojify(f'{icon} {noun} {ref}: "{subject.title}" is **{subject.state}**')
    chips = format_labels([{"name": name, "color": colour} for name, colour in subject.labels])
    tail = ci_tail(subject.ci)
    body = text + (f" with labels {chips.plain}" if chips.plain else "") + tail
    html = render_markdown_inline(text) + (f" with labels {chips.html}" if chips.html else "")
    content: Content = {
        "msgtype": wire.M_NOTICE,
        "body": body,
        "formatted_body": html + tail,
        "format": wire.HTML_FORMAT,
        EXTERNAL_URL: subject.url,
    }
    if not url_previews:
        content[wire.URL_PREVIEWS_KEY] = []
    return content


def _with_item(subject: Subject, item: Mapping[str, Any], kind: str) -> Subject:
    title, url = item.get("title"), item.get("html_url")
    labels = item.get("labels")
    return replace(
        subject,
        kind=kind,
        title=title if isinstance(title, str) else subject.title,
        url=url if isinstance(url, str) else subject.url,
        state=_item_state(item, subject.state),
        labels=tuple(
            (str(label["name"]), str(label.get("color") or ""))
            for label in (labels if isinstance(labels, list) else [])
            if isinstance(label, Mapping) and isinstance(label.get("name"), str)
        ),
    )


def _item_state(item: Mapping[str, Any], previous: str) -> str:
    links = item.get("pull_request")  # an issue object of a PR (issue_comment) links its merge
    merged_at = links.get("merged_at") if isinstance(links, Mapping) else None
    if item.get("merged") is True or item.get("merged_at") or merged_at:
        return "merged"
    if item.get("state") == "closed":
        return "closed"
    if "draft" in item:
        return "draft" if item.get("draft") is True else "open"
    # An issue object of a PR does not say whether it is a draft: keep what we knew.
    return "draft" if previous == "draft" else "open"


def _on_head(subject: Subject, sha: str) -> Subject:
    if sha == subject.head:
        return subject
    return replace(subject, head=sha, checks={})


def _ci_object(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for kind, _ in _CI_KINDS:
        run = payload.get(kind)
        if isinstance(run, Mapping):
            return run
    return None


def _with_ci(subject: Subject, payload: Mapping[str, Any]) -> Subject:
    for kind, name_key in _CI_KINDS:
        run = payload.get(kind)
        if not isinstance(run, Mapping):
            continue
        state = ci_state(run.get("status"), run.get("conclusion"))
        sha = run.get("head_sha")
        current = _pr_head(run, subject.number)
        if state is None or not isinstance(sha, str):
            return subject
        # The PR's head as the result names it: a newer head starts a new CI round, and a
        # result for an older commit than the one we know is not this PR's state any more.
        if current is not None and current != subject.head:
            subject = _on_head(subject, current)
        if subject.head is not None and sha != subject.head:
            return subject
        name = run.get(name_key) if name_key else _app_name(run)
        checks = {**subject.checks, f"{kind}:{name}": state}
        return replace(subject, head=sha, checks=checks)
    return subject


def _pr_head(run: Mapping[str, Any], number: int) -> str | None:
    prs = run.get("pull_requests")
    for pr in prs if isinstance(prs, list) else []:
        head = pr.get("head") if isinstance(pr, Mapping) else None
        if pr.get("number") == number and isinstance(head, Mapping):
            sha = head.get("sha")
            return sha if isinstance(sha, str) else None
    return None


def _app_name(run: Mapping[str, Any]) -> str:
    app = run.get("app")
    slug = app.get("slug") if isinstance(app, Mapping) else None
    return slug if isinstance(slug, str) else "?"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
