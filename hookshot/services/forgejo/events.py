"""Naming Forgejo and Gitea deliveries (pure): which headers say what, and the hook name a
connection filters on.

Forgejo sends `X-Forgejo-*` and Gitea's `X-Gitea-*`; Gitea only `X-Gitea-*`. `X-*-Event-Type`
is the precise type (`pull_request_review_approved`, `pull_request_comment`, ...); older Gitea
sends only `X-*-Event`, where a review is `pull_request_approved`/`_rejected`/`_comment` and a
comment on a pull request's conversation is `issue_comment`. A merge is `closed` with
`pull_request.merged` true."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hookshot.errors import WebhookError
from hookshot.services.forgejo.wire import HEADER_PREFIXES

# Event-Type -> hook name, for the types whose name does not depend on the action.
_BY_TYPE = {
    "push": "push",
    "create": "ref.created",
    "delete": "ref.deleted",
    "pull_request_sync": "pull_request.synchronized",
    "pull_request_label": "pull_request.labeled",
    "pull_request_review_approved": "pull_request.reviewed",
    "pull_request_review_rejected": "pull_request.reviewed",
    "pull_request_review_comment": "pull_request.reviewed",
    "issue_label": "issue.labeled",
    # Forgejo Actions (Forgejo 10+): the run's outcome is in the type.
    "action_run_success": "workflow.run.success",
    "action_run_failure": "workflow.run.failure",
    "action_run_recover": "workflow.run.recover",
}
# Older Gitea's X-Gitea-Event for reviews (no Event-Type header).
_LEGACY_REVIEWS = {
    "pull_request_approved": "pull_request_review_approved",
    "pull_request_rejected": "pull_request_review_rejected",
    "pull_request_comment": "pull_request_review_comment",
}
_PR_ACTIONS = {"opened", "reopened", "edited"}
_ISSUE_ACTIONS = {
    "opened": "issue.created",
    "closed": "issue.changed",
    "reopened": "issue.changed",
    "edited": "issue.edited",
}


@dataclass(frozen=True)
class Delivery:
    """What the headers of one delivery say."""

    event_type: str  # the precise type (Event-Type, else Event mapped as older Gitea meant it)
    delivery: str  # the delivery's UUID (a redelivery keeps it)
    signature: str | None  # hex HMAC-SHA256 of the body


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for prefix in HEADER_PREFIXES:
        value = (headers.get(prefix + name) or "").strip()
        if value:
            return value
    return None


def read_delivery(headers: Mapping[str, str]) -> Delivery:
    """The delivery's type, id and signature; WebhookError(400) when a header is missing."""
    event = _header(headers, "event")
    if event is None:
        raise WebhookError(400, "Missing X-Forgejo-Event or X-Gitea-Event header")
    delivery = _header(headers, "delivery")
    if delivery is None:
        raise WebhookError(400, "Missing X-Forgejo-Delivery or X-Gitea-Delivery header")
    event_type = _header(headers, "event-type") or _LEGACY_REVIEWS.get(event, event)
    return Delivery(event_type, delivery, _header(headers, "signature"))


def _is_pull(payload: Mapping[str, object]) -> bool:
    issue = payload.get("issue")
    if payload.get("is_pull") is True:
        return True
    return isinstance(issue, Mapping) and issue.get("pull_request") is not None


def hook_name(event_type: str, payload: Mapping[str, object]) -> str | None:
    """The `enableHooks` name of a delivery (e.g. "pull_request.merged"), or None when no
    notice is made for it (assignments, milestones, edits of comments, ...)."""
    raw_action = payload.get("action")
    action = raw_action if isinstance(raw_action, str) else ""
    fixed = _BY_TYPE.get(event_type)
    if fixed is not None:
        return fixed
    if event_type == "pull_request":
        pr = payload.get("pull_request")
        if action == "closed":
            merged = isinstance(pr, Mapping) and pr.get("merged") is True
            return "pull_request.merged" if merged else "pull_request.closed"
        return f"pull_request.{action}" if action in _PR_ACTIONS else None
    if event_type in ("issue_comment", "pull_request_comment"):
        return "issue.comment.created" if action == "created" else None
    if event_type == "issues":
        return _ISSUE_ACTIONS.get(action)
    if event_type == "release":
        return "release.published" if action == "published" else None
    if event_type == "workflow_run":
        run = payload.get("workflow_run")
        conclusion = run.get("conclusion") if isinstance(run, Mapping) else None
        if action != "completed" or not isinstance(conclusion, str) or not conclusion:
            return None
        return f"workflow.run.{conclusion}"
    return None


def is_pull_comment(event_type: str, payload: Mapping[str, object]) -> bool:
    """A comment on a pull request's conversation (not a review comment)."""
    return event_type == "pull_request_comment" or (
        event_type == "issue_comment" and _is_pull(payload)
    )
