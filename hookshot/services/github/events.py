"""Naming GitHub webhook events and hookshot's per-connection payload filters (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from hookshot.core.patterns import js_search

EVENT_PREFIX: Final = "github."


def event_name(header: str, payload: Mapping[str, object]) -> str:
    """hookshot's queue name for a delivery: `github.<X-GitHub-Event>[.<action>]`.

    The action is appended when it is a non-empty string (hookshot appends any truthy value).
    """
    action = payload.get("action")
    if isinstance(action, str) and action:
        return f"{EVENT_PREFIX}{header}.{action}"
    return f"{EVENT_PREFIX}{header}"


def labels_pass(
    labels: Iterable[str], including: Sequence[str] | None, excluding: Sequence[str] | None
) -> bool:
    """hookshot's matchesLabelFilter: no excluded label, and (when `including` is non-empty) at
    least one included label. Empty lists filter nothing."""
    present = set(labels)
    if excluding and any(label in present for label in excluding):
        return False
    if including:
        return any(label in present for label in including)
    return True


def payload_labels(item: Mapping[str, object]) -> list[str]:
    """The label names of an issue or pull request object, for `labels_pass`."""
    labels = item.get("labels")
    if not isinstance(labels, list):
        return []
    return [
        label["name"]
        for label in labels
        if isinstance(label, Mapping) and isinstance(label.get("name"), str)
    ]


def labeled_notice_wanted(added: Iterable[str], including: Sequence[str] | None) -> bool:
    """Whether hookshot sends the debounced "labeled issue" notice: only when `includingLabels`
    is set and one of the labels added during the debounce (minus any removed again) is in it.
    (excludingLabels is not consulted for this notice, as in hookshot.)"""
    if not including:
        return False
    return any(label in including for label in added)


def workflow_run_pass(
    payload: Mapping[str, object],
    matching_branch: str | None,
    including: Sequence[str] | None,
    excluding: Sequence[str] | None,
) -> bool:
    """hookshot's workflowRun filters for a workflow_run payload.

    `matching_branch` is a JavaScript regex searched (unanchored, no flags) in the run's head
    branch; an invalid one, or a run without a branch, passes nothing (hookshot throws). The
    workflow name is `workflow_run.name`. `excluding` drops listed names; `including`, when
    given, keeps only listed names, so an empty `including` list keeps none (as in hookshot).
    """
    run = payload.get("workflow_run")
    if not isinstance(run, Mapping):
        return False
    if matching_branch:
        branch = run.get("head_branch")
        if not isinstance(branch, str) or not js_search(matching_branch, branch):
            return False
    name = run.get("name")
    if excluding is not None and name in excluding:
        return False
    return including is None or name in including
