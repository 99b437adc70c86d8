"""A merge request's or issue's current state, folded from GitLab deliveries, and the thread
root line that shows it (pure). Ours: hookshot has no threads (docs/quiet-rooms.md).

Merge request, issue and note deliveries carry what the root shows (state, draft, labels,
title); pipelines carry the MR they ran for (`merge_request`) and their status, folded into a
CI summary for the MR's head commit (a new head starts a new CI round). Pushes and branch
pipelines carry only a branch and a commit; the tracker maps those to their open MR
(subject_threads), and `pushed_branch`, `source_branch` and `pipeline_target` read them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from html import escape
from typing import Any, Final

from hookshot import wire
from hookshot.core.markdown import render_markdown_inline
from hookshot.core.subjects import (
    FAILED,
    PASSED,
    RUNNING,
    ci_counts,
    ci_overall,
    ci_tail,
    decode_subject,
    encode_subject,
    is_sha,
    state_icon,
)
from hookshot.services.gitlab.format import Content, label_titles, obj, text

MR: Final = "mr"
ISSUE: Final = "issue"
# GitLab pipeline statuses as CI states; "manual" waits for a person and says nothing yet.
_CI_STATES: Final[Mapping[str, str]] = {
    "created": RUNNING,
    "waiting_for_resource": RUNNING,
    "preparing": RUNNING,
    "pending": RUNNING,
    "running": RUNNING,
    "scheduled": RUNNING,
    "canceling": RUNNING,
    "success": PASSED,
    "skipped": PASSED,
    "failed": FAILED,
    "canceled": FAILED,
}
# Marks a thread key's subject kind, as GitLab writes references (group/proj!1, group/proj#1).
_SIGILS: Final[Mapping[str, str]] = {MR: "!", ISSUE: "#"}
OPEN_STATES: Final = frozenset({"open", "draft"})
MAX_BRANCH: Final = 255  # git's own limit on a ref name component is near this
_HEADS: Final = "refs/heads/"


@dataclass(frozen=True)
class Subject:
    """What the thread root of one merge request or issue shows."""

    path: str  # path_with_namespace as GitLab spells it
    iid: int
    kind: str = MR  # MR | ISSUE
    title: str | None = None  # unknown when a pipeline is the first thing seen
    url: str | None = None
    state: str = "open"  # open | draft | merged | closed
    labels: tuple[str, ...] = ()
    head: str | None = None  # head commit: pipelines for another commit are not counted
    pipelines: Mapping[str, str] = field(default_factory=dict)  # pipeline id -> CI state

    def encode(self) -> str:
        return encode_subject(self)

    @classmethod
    def decode(cls, text: str | None) -> Subject | None:
        return decode_subject(cls, text)

    @property
    def ci(self) -> dict[str, int]:
        """CI state -> how many of the head commit's pipelines are in it."""
        return ci_counts(self.pipelines.values())

    @property
    def ci_overall(self) -> str | None:
        """Failed if anything failed, else running if anything runs, else passed."""
        return ci_overall(self.ci)


def subject_key(instance: str, path: str, kind: str, iid: int) -> str:
    """The thread key of a merge request (`…!iid`) or issue (`…#iid`) of `instance`'s project."""
    return f"gitlab:{instance.lower()}/{path.lower()}{_SIGILS[kind]}{iid}"


def subject_of(event: str, payload: Mapping[str, Any]) -> tuple[str, int] | None:
    """The (kind, iid) a delivery is about: a merge request or issue event, a note on one, or
    a pipeline that ran for a merge request; None for anything else."""
    kind = event.removeprefix("gitlab.").partition(".")[0]
    item: Mapping[str, Any] = {}
    if kind in ("merge_request", "issue"):
        item = obj(payload.get("object_attributes"))
        found = MR if kind == "merge_request" else ISSUE
    elif kind == "note":
        noteable = obj(payload.get("object_attributes")).get("noteable_type")
        if noteable not in ("MergeRequest", "Issue"):
            return None  # commits and snippets have no thread
        found = MR if noteable == "MergeRequest" else ISSUE
        item = obj(payload.get("merge_request" if found == MR else "issue"))
    elif kind == "pipeline":
        item, found = obj(payload.get("merge_request")), MR
    else:
        return None
    iid = item.get("iid")
    if not isinstance(iid, int) or isinstance(iid, bool):
        return None
    return found, iid


def ci_state(status: object) -> str | None:
    """A pipeline status as running / passed / failed (None: ignore it)."""
    return _CI_STATES.get(status.lower()) if isinstance(status, str) else None


def update(
    old: Subject | None, path: str, kind: str, iid: int, event: str, payload: Mapping[str, Any]
) -> Subject:
    """`old` after a delivery about subject `iid` of project `path`."""
    subject = old or Subject(path=path, iid=iid, kind=kind)
    what = event.removeprefix("gitlab.").partition(".")[0]
    if what == "pipeline":
        return _with_pipeline(subject, payload)
    if what == "note":
        item = obj(payload.get("merge_request" if kind == MR else "issue"))
        return _with_item(subject, item, None)
    return _with_item(subject, obj(payload.get("object_attributes")), payload.get("labels"))


def render_root(subject: Subject, *, url_previews: bool = True) -> Content | None:
    """The thread root's content for `subject`: one line with its state, labels and CI
    summary; None while its title or URL is unknown."""
    if subject.title is None or subject.url is None:
        return None
    icon = state_icon(subject.kind == ISSUE, subject.state)
    noun = "MR" if subject.kind == MR else "issue"
    ref = f"[{subject.path}{_SIGILS[subject.kind]}{subject.iid}]({subject.url})"
    line = f'{icon} {noun} {ref}: "{subject.title}" is **{subject.state}**'
    names = ", ".join(subject.labels)
    labels = f" with labels {names}" if names else ""
    tail = ci_tail(subject.ci)
    content: Content = {
        "msgtype": wire.M_NOTICE,
        "body": line + labels + tail,
        "formatted_body": render_markdown_inline(line) + escape(labels, quote=False) + tail,
        "format": wire.HTML_FORMAT,
    }
    if not url_previews:
        content[wire.URL_PREVIEWS_KEY] = []
    return content


def _with_item(subject: Subject, item: Mapping[str, Any], labels: object) -> Subject:
    title, url = text(item.get("title")), text(item.get("url"))
    head = text(obj(item.get("last_commit")).get("id"))
    # MR and issue hooks list labels at the top level; a note's item only sometimes has them.
    listed = labels if isinstance(labels, list) else item.get("labels")
    changed = replace(
        subject,
        title=title or subject.title,
        url=url or subject.url,
        state=_item_state(subject, item),
        labels=label_titles({"labels": listed}) if isinstance(listed, list) else subject.labels,
    )
    return on_head(changed, head) if head else changed


def _item_state(subject: Subject, item: Mapping[str, Any]) -> str:
    state = item.get("state")
    if state == "merged":
        return "merged"
    if state in ("closed", "locked"):
        return "closed"
    if state != "opened":
        return subject.state  # a note's item may say nothing: keep what we knew
    if subject.kind == MR:
        draft = item.get("draft", item.get("work_in_progress"))
        if isinstance(draft, bool):
            return "draft" if draft else "open"
        return "draft" if subject.state == "draft" else "open"
    return "open"


def _branch(value: object) -> str | None:
    if not isinstance(value, str) or value.startswith("refs/"):
        return None  # an MR pipeline's `refs/merge-requests/…` is no branch
    return value if 0 < len(value) <= MAX_BRANCH else None


def pushed_branch(payload: Mapping[str, Any]) -> tuple[str, str] | None:
    """(branch, new head commit) of a `Push Hook`; None for a tag or a deleted branch."""
    ref, after = payload.get("ref"), payload.get("after")
    if not isinstance(ref, str) or not ref.startswith(_HEADS) or not is_sha(after):
        return None
    branch = _branch(ref.removeprefix(_HEADS))
    if branch is None or not str(after).strip("0"):
        return None  # all zeros: the branch was deleted
    return branch, str(after)


def source_branch(payload: Mapping[str, Any]) -> str | None:
    """The source branch of a merge request delivery, when it is in the MR's own project (a
    fork's branch of that name is another branch, and its pushes go to the fork's hooks)."""
    attrs = obj(payload.get("object_attributes"))
    source, target = attrs.get("source_project_id"), attrs.get("target_project_id")
    if not isinstance(source, int) or source != target:
        return None
    return _branch(attrs.get("source_branch"))


def pipeline_target(payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The branch (None for a tag's or an MR's own ref) and the commit a pipeline ran for."""
    attrs = obj(payload.get("object_attributes"))
    sha = attrs.get("sha")
    branch = None if attrs.get("tag") is True else _branch(attrs.get("ref"))
    return branch, sha if isinstance(sha, str) and is_sha(sha) else None


def on_head(subject: Subject, sha: str) -> Subject:
    """A new head commit (a push to the source branch, an updated MR): a new CI round."""
    if sha == subject.head:
        return subject
    return replace(subject, head=sha, pipelines={})


def _with_pipeline(subject: Subject, payload: Mapping[str, Any]) -> Subject:
    attrs = obj(payload.get("object_attributes"))
    mr = obj(payload.get("merge_request"))
    state, sha, pipeline = ci_state(attrs.get("status")), text(attrs.get("sha")), attrs.get("id")
    subject = replace(
        subject,
        title=subject.title or text(mr.get("title")),
        url=subject.url or text(mr.get("url")),
    )
    if state is None or sha is None or pipeline is None:
        return subject
    if subject.head is not None and sha != subject.head:
        # A starting pipeline for another commit is a push we may not have heard of yet (the
        # MR hook and the pipeline hook race); a finished one is an old commit's (say canceled
        # by that push), which is not the MR's state any more.
        if state != RUNNING:
            return subject
        subject = on_head(subject, sha)
    return replace(subject, head=sha, pipelines={**subject.pipelines, str(pipeline): state})
