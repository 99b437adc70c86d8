"""What a GitHub repository connection posts for a delivery (pure): the hook name an event
answers to, the connection's filters, then hookshot's notice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hookshot.services.github.events import (
    labeled_notice_wanted,
    labels_pass,
    payload_labels,
    workflow_run_pass,
)
from hookshot.services.github.format import RepoNoticeOptions, render_repo_event
from hookshot.services.github.repo import GitHubRepo

# Event name -> the enableHooks name that turns it on (hookshot's vocabulary).
_HOOKS = {
    "github.issues.opened": "issue.created",
    "github.issues.edited": "issue.edited",
    "github.issues.closed": "issue.changed",
    "github.issues.reopened": "issue.changed",
    "github.issues.labeled": "issue.labeled",
    "github.issue_comment.created": "issue.comment.created",
    "github.pull_request.opened": "pull_request.opened",
    "github.pull_request.ready_for_review": "pull_request.ready_for_review",
    "github.pull_request.closed": "pull_request.closed",
    "github.pull_request_review.submitted": "pull_request.reviewed",
    "github.release.published": "release.created",
    "github.release.created": "release.drafted",
    "github.push": "push",
}
# hookshot ignores label events on issues younger than this.
JUST_CREATED = timedelta(seconds=6)
# Events whose issue or pull request labels pass through includingLabels/excludingLabels.
_LABEL_FILTERED = ("github.issues.", "github.issue_comment.", "github.pull_request.")


@dataclass(frozen=True)
class GitHubDefaults:
    """Config defaults a room's state may override."""

    server_name: str
    show_issue_room_link: bool = False
    url_previews: bool = True


def hook_for(name: str, payload: Mapping[str, Any]) -> str | None:
    """The enableHooks name of event `name`, or None for events no connection posts."""
    if name == "github.pull_request.closed":
        pr = payload.get("pull_request")
        # Ours: hookshot files merges under pull_request.closed; merged has its own name.
        if isinstance(pr, Mapping) and pr.get("merged") is True:
            return "pull_request.merged"
    if name == "github.workflow_run.completed":
        run = payload.get("workflow_run")
        conclusion = run.get("conclusion") if isinstance(run, Mapping) else None
        return f"workflow.run.{conclusion}" if isinstance(conclusion, str) else "workflow.run"
    return _HOOKS.get(name)


def _item(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    for key in ("pull_request", "issue"):
        value = payload.get(key)
        if isinstance(value, Mapping):
            return value
    return {}


def _just_created(item: Mapping[str, Any], now: datetime | None = None) -> bool:
    created = item.get("created_at")
    if not isinstance(created, str):
        return False
    try:
        when = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return False
    return (now or datetime.now(UTC)) - when < JUST_CREATED


def passes_filters(conn: GitHubRepo, name: str, payload: Mapping[str, Any]) -> bool:
    """The connection's label and workflow filters."""
    state = conn.state
    if name == "github.issues.labeled":
        if _just_created(_item(payload)):
            return False  # labels given at creation are in the "opened" notice already
        if not isinstance(payload.get("label"), Mapping):
            return False  # hookshot skips label events without a label
        # The router debounces label bursts and renders the last event: its issue carries
        # every label the burst left (hookshot tracks the added ones; the result is the same
        # unless an included label was already there before the burst).
        return labeled_notice_wanted(payload_labels(_item(payload)), state.including_labels)
    if name.startswith(_LABEL_FILTERED):
        labels = payload_labels(_item(payload))
        return labels_pass(labels, state.including_labels, state.excluding_labels)
    if name == "github.workflow_run.completed":
        opts = state.workflow_run
        if opts is None:
            return True
        return workflow_run_pass(
            payload, opts.matching_branch, opts.including_workflows, opts.excluding_workflows
        )
    return True


def notices(
    conn: GitHubRepo,
    name: str,
    payload: Mapping[str, Any],
    defaults: GitHubDefaults,
    *,
    comment: str | None = None,
    diff: str | None = None,
) -> list[dict[str, Any]]:
    """The message contents `conn` posts for event `name` (usually none or one)."""
    hook = hook_for(name, payload)
    if hook is None or not conn.hook_enabled(hook) or not passes_filters(conn, name, payload):
        return []
    pr_diff = conn.state.pr_diff
    options = RepoNoticeOptions(
        show_issue_room_link=conn.show_issue_room_link(defaults.show_issue_room_link),
        server_name=defaults.server_name,
        url_previews=conn.show_url_previews(defaults.url_previews),
        pr_diff_max_lines=pr_diff.effective_max_lines if pr_diff else 30,
    )
    wanted_diff = diff if pr_diff is not None and pr_diff.enabled else None
    content = render_repo_event(name, payload, options, comment=comment, diff=wanted_diff)
    return [dict(content)] if content is not None else []
