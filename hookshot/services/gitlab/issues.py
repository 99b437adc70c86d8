"""GitLab issue notices for project rooms (ours: hookshot's GitLab project connection ignores
issue events). Worded like hookshot's merge request notices, with `#` for issues:

    **root** opened a new issue [group/project#23](…): "Title"
    **root** updated issue [group/project#23](…): "Title" (title, labels +Platform -API)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from hookshot.core.markdown import render_markdown_inline
from hookshot.services.gitlab.format import Content, label_titles, notice, obj, text

ISSUE_VERBS: Final[Mapping[str, str]] = {
    "open": "opened a new issue",
    "close": "closed issue",
    "reopen": "reopened issue",
    "update": "updated issue",
}
# Fields of `changes` worth telling a room about, in the order we name them; the rest
# (timestamps, ids, time tracking) changes with every edit.
CHANGE_NAMES: Final[Mapping[str, str]] = {
    "title": "title",
    "description": "description",
    "labels": "labels",
    "assignees": "assignees",
    "milestone_id": "milestone",
    "due_date": "due date",
    "weight": "weight",
    "severity": "severity",
    "health_status": "health status",
    "issue_type": "type",
    "confidential": "confidentiality",
    "discussion_locked": "lock",
}


def render_issue(action: str, payload: Mapping[str, Any]) -> Content | None:
    """Notice for an issue opened, closed, reopened or updated; None for an update that only
    touched bookkeeping fields."""
    verb = ISSUE_VERBS.get(action)
    attrs = obj(payload.get("object_attributes"))
    user = text(obj(payload.get("user")).get("username"))
    path = text(obj(payload.get("project")).get("path_with_namespace"))
    iid, url, title = text(attrs.get("iid")), text(attrs.get("url")), text(attrs.get("title"))
    if verb is None or user is None or path is None or iid is None or url is None:
        return None
    body = f'**{user}** {verb} [{path}#{iid}]({url}): "{title or ""}"'
    if action == "update":
        changed = describe_changes(obj(payload.get("changes")))
        if not changed:
            return None
        body += f" ({changed})"
    return notice(body, render_markdown_inline(body))


def describe_changes(changes: Mapping[str, Any]) -> str:
    """The interesting changed fields, e.g. `title, labels +Platform -API`."""
    names = []
    for key, name in CHANGE_NAMES.items():
        change = obj(changes.get(key))
        if not change:
            continue
        if key == "labels":
            before = label_titles({"labels": change.get("previous")})
            after = label_titles({"labels": change.get("current")})
            delta = [f"+{t}" for t in after if t not in before]
            delta += [f"-{t}" for t in before if t not in after]
            name = " ".join([name, *delta])
        names.append(name)
    return ", ".join(names)
