"""GitLab project notices: which event a delivery is, and hookshot's texts for it.

Texts mirror `src/Connections/GitlabRepo.ts` in matrix-hookshot (7.x, main): markdown bodies,
`md.renderInline` or an untrimmed `md.render` for the HTML, quirks such as trailing and double
spaces kept. Where hookshot would print `undefined`/`null` or post a misleading notice, we do
the sensible thing instead (marked "ours"). Pipeline, job and issue notices are ours
(`hookshot.services.gitlab.ci`, `hookshot.services.gitlab.issues`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeGuard

from hookshot import wire
from hookshot.core.markdown import render_markdown, render_markdown_inline
from hookshot.core.patterns import js_search

# hookshot shows at most this many commits of a push.
PUSH_MAX_COMMITS: Final = 5
URL_PREVIEWS_KEY: Final = wire.URL_PREVIEWS_KEY
# X-Gitlab-Event values whose bodies are not project events (instance-wide admin hooks).
CONFIDENTIAL_HEADERS: Final = frozenset({"Confidential Issue Hook", "Confidential Note Hook"})

_NULL_SHA = "0" * 40

Content = dict[str, object]


def event_name(header: str | None, payload: object) -> str | None:
    """The queue name of a GitLab delivery, e.g. `gitlab.merge_request.open`; None to ignore it.

    hookshot's names for what it handles; ours add `gitlab.pipeline.<status>`,
    `gitlab.job.<status>` and `gitlab.note.updated`. Deliveries without an action (the UI's
    "Test" button for merge requests, issues and releases) and system events without an
    `object_kind` (users, groups, project creation) give None.
    """
    # `header` only adds hints (confidential hooks); a "System Hook" delivery of a project
    # event (object_kind) is routed like the project's own, as hookshot routes it.
    if not isinstance(payload, Mapping):
        return None
    kind = payload.get("object_kind")
    attrs = obj(payload.get("object_attributes"))
    if kind in ("merge_request", "issue"):
        action = attrs.get("action")
        return f"gitlab.{kind}.{action}" if _token(action) else None
    if kind == "note":
        # Ours: an edited comment is not a new one (hookshot posts it again).
        return "gitlab.note.updated" if attrs.get("action") == "update" else "gitlab.note.created"
    if kind in ("push", "tag_push", "wiki_page"):
        return f"gitlab.{kind}"
    if kind == "release":
        action = payload.get("action")
        return f"gitlab.release.{action}" if _token(action) else None
    if kind == "pipeline":
        status = attrs.get("status")
        return f"gitlab.pipeline.{status.lower()}" if _token(status) else None
    if kind == "build":
        status = payload.get("build_status")
        return f"gitlab.job.{status.lower()}" if _token(status) else None
    return None


def is_confidential(header: str | None, payload: Mapping[str, Any]) -> bool:
    """Whether a delivery concerns a confidential issue or an internal note.

    Ours: hookshot bridges these like any other; a room may be more public than the issue.
    """
    if header in CONFIDENTIAL_HEADERS:
        return True
    if payload.get("event_type") in ("confidential_issue", "confidential_note"):
        return True
    attrs = obj(payload.get("object_attributes"))
    issue = obj(payload.get("issue"))
    return any(v is True for v in (attrs.get("confidential"), attrs.get("internal"))) or (
        issue.get("confidential") is True
    )


@dataclass(frozen=True)
class ProjectRef:
    """Which project a delivery is about, for routing it to connections."""

    path: str  # path_with_namespace as GitLab spells it
    web_url: str
    instance_url: str  # web_url without the project path


def project_ref(payload: Mapping[str, Any]) -> ProjectRef | None:
    """The project of a delivery; old job payloads only carry `repository.homepage`."""
    project = obj(payload.get("project"))
    path = text(project.get("path_with_namespace"))
    web_url = text(project.get("web_url")) or text(project.get("homepage"))
    if path and web_url and web_url.rstrip("/").endswith("/" + path):
        return ProjectRef(path, web_url, web_url.rstrip("/")[: -len(path) - 1])
    homepage = text(obj(payload.get("repository")).get("homepage")) or web_url
    match = re.fullmatch(r"(https?://[^/]+)/(.+?)/?", homepage or "")
    if match is None:
        return None
    return ProjectRef(path or match.group(2), homepage or "", match.group(1))


def notice(body: str, html: str) -> Content:
    """An `m.notice` with HTML, keys in hookshot's order."""
    return {
        "msgtype": wire.M_NOTICE,
        "body": body,
        "formatted_body": html,
        "format": wire.HTML_FORMAT,
    }


def render_block(body: str) -> str:
    """hookshot's `md.render(content)` for GitLab notices: not trimmed, so it ends in a newline."""
    html = render_markdown(body)
    return html + "\n" if html else ""


def regex_allows(pattern: str | None, value: str) -> bool:
    """hookshot's `value.match(pattern)` filter: unset or empty allows all; a broken one none.
    Matched with RE2 (core.patterns): linear time whatever the room wrote."""
    if not pattern:
        return True
    return js_search(pattern, value)


def label_titles(item: Mapping[str, Any]) -> tuple[str, ...]:
    """The `labels[].title` of a payload or merge request, as hookshot's label filter reads them."""
    labels = item.get("labels")
    if not isinstance(labels, list):
        return ()
    return tuple(t for label in labels if (t := text(obj(label).get("title"))) is not None)


def render_merge_request(action: str, payload: Mapping[str, Any]) -> Content | None:
    """Notice for a merge request opened, reopened, closed, merged or switched to/from draft."""
    attrs = obj(payload.get("object_attributes"))
    user = text(obj(payload.get("user")).get("username"))
    ref = _mr_link(obj(payload.get("project")), attrs)
    title = text(attrs.get("title"))
    if user is None or ref is None or title is None:
        return None
    if action == "update":
        draft = obj(payload.get("changes")).get("draft")
        if not isinstance(draft, Mapping):
            return None  # only a draft change is news
        state = "as draft" if draft.get("current") else "as ready for review"
        body = f'**{user}** marked MR {ref} {state} "{title}" '
    else:
        verb = {
            "open": "opened a new MR",
            "reopen": "reopened MR",
            "close": "closed MR",
            "merge": "merged MR",
        }.get(action)
        if verb is None:
            return None
        body = f'**{user}** {verb} {ref}: "{title}"'
    return notice(body, render_markdown_inline(body))


@dataclass(frozen=True)
class ReviewActivity:
    """One approval or MR comment, to be batched per (project, MR, user) and rendered together."""

    project_path: str
    mr_iid: str
    mr_url: str
    mr_title: str
    username: str  # part of the batch key
    author: str  # shown: the user's display name, as hookshot does
    comment_count: int = 0
    note: str | None = None  # set only when the room has includeCommentBody
    approved: bool | None = None
    discussion_id: str | None = None

    @property
    def batch_key(self) -> tuple[str, str, str]:
        # hookshot keys by iid/username only; a group connection sees many projects.
        return (self.project_path.lower(), self.mr_iid, self.username)


def review_activity(
    event: str, payload: Mapping[str, Any], *, include_comment_body: bool = False
) -> ReviewActivity | None:
    """The review part of `gitlab.merge_request.(un)approved/(un)approval` or an MR comment."""
    user = obj(payload.get("user"))
    project = obj(payload.get("project"))
    if event == "gitlab.note.created":
        attrs = obj(payload.get("object_attributes"))
        mr = obj(payload.get("merge_request"))
        if attrs.get("noteable_type") != "MergeRequest" or not mr:
            return None
        note = text(attrs.get("note")) if include_comment_body else None
        # Note payloads before GitLab 13 carry no `merge_request.url`; the comment's URL does.
        note_url = (text(attrs.get("url")) or "").partition("#")[0]
        return _activity(
            project,
            {**mr, "url": note_url} if note_url and not text(mr.get("url")) else mr,
            user,
            comment_count=1,
            note="" if include_comment_body and note is None else note,
            discussion_id=text(attrs.get("discussion_id")),
        )
    action = event.removeprefix("gitlab.merge_request.")
    if action not in ("approved", "unapproved", "approval", "unapproval"):
        return None
    # Ours: an individual approval is an approval (hookshot shows "unapproved" for it).
    attrs = obj(payload.get("object_attributes"))
    return _activity(project, attrs, user, approved=action in ("approved", "approval"))


def render_mr_review(
    batch: Sequence[ReviewActivity], *, thread_event_id: str | None = None
) -> Content | None:
    """hookshot's debounced review notice for one user's activity on one MR.

    E.g. `**Alice** commented on MR [group/proj!1](url): "Title"  with 2 comments` (double
    space and all). With `thread_event_id` the notice replies in that thread. The author is
    the first part's; ours: the last approval wins even if comments follow it (hookshot
    forgets it).
    """
    if not batch:
        return None
    first = batch[0]
    count = sum(part.comment_count for part in batch)
    approvals = [part.approved for part in batch if part.approved is not None]
    notes = [part.note for part in batch if part.note is not None]
    comments = ""
    if count == 1:
        comments = " with one comment"
    elif count > 1:
        comments = f" with {count} comments"
    action = "replied" if thread_event_id else "commented on"
    if approvals:
        action = "✅ approved" if approvals[-1] else "🔴 unapproved"
    target = (
        ""
        if thread_event_id
        else f' MR [{first.project_path}!{first.mr_iid}]({first.mr_url}): "{first.mr_title}"'
    )
    body = f"**{first.author}** {action}{target} {comments}"
    if notes:
        body += "\n\n> " + "\n\n> ".join(notes)
        content = notice(body, render_block(body))
    else:
        content = notice(body, render_markdown_inline(body))
    if thread_event_id:
        content["m.relates_to"] = {"event_id": thread_event_id, "rel_type": "m.thread"}
    return content


def render_push(payload: Mapping[str, Any], *, branches_regex: str | None = None) -> Content | None:
    """hookshot's push notice: up to five commits, newest first; `branches_regex` is ours."""
    ref = text(payload.get("ref"))
    user = text(payload.get("user_name"))
    path, home = _project_home(payload)
    if ref is None or user is None or path is None or home is None:
        return None
    if payload.get("after") == _NULL_SHA:
        return None  # ours: a deleted branch (hookshot says "pushed 0 commit")
    branch = ref.replace("refs/heads/", "", 1)
    if not regex_allows(branches_regex, branch):
        return None
    raw = payload.get("commits")
    commits = [obj(c) for c in raw] if isinstance(raw, list) else []
    total = _count(payload.get("total_commits_count"), len(commits))
    commits_url = f"{home}/-/commits/{branch}"
    email = payload.get("user_email")
    should_name = not all(obj(c.get("author")).get("email") == email for c in commits)
    too_many = total > PUSH_MAX_COMMITS
    shown = 1 if too_many else min(total, PUSH_MAX_COMMITS)
    lines = []
    for commit in list(reversed(commits))[:shown]:
        sha = text(commit.get("id")) or ""
        line = f"[`{sha[:8]}`]({home}/-/commit/{sha}) {_commit_title(commit)}"
        if should_name:
            line += f" by {text(obj(commit.get('author')).get('name')) or ''}"
        lines.append(line)
    listed = "\n - ".join(lines)
    body = (
        f"**{user}** pushed [{total} commit{'s' if total > 1 else ''}]({commits_url})"
        f" to [`{branch}`]({home}/-/tree/{branch}) for {path}"
    )
    if shown >= 2:
        body += f"\n - {listed}\n"
    elif shown == 1:
        body += f": {listed}"
        if too_many:
            body += f", and [{total - 1} more]({commits_url}) commits"
    return notice(body, render_block(body))


def render_tag_push(payload: Mapping[str, Any], *, tags_regex: str | None = None) -> Content | None:
    """hookshot's tag notice, filtered by the room's `pushTagsRegex`."""
    ref = text(payload.get("ref"))
    user = text(payload.get("user_name"))
    path, home = _project_home(payload)
    if ref is None or user is None or path is None or home is None:
        return None
    if payload.get("after") == _NULL_SHA:
        return None  # ours: a deleted tag (hookshot says "pushed tag")
    tag = ref.replace("refs/tags/", "", 1)
    if not regex_allows(tags_regex, tag):
        return None
    body = f"**{user}** pushed tag [`{tag}`]({home}/-/tree/{tag}) for {path}"
    return notice(body, render_markdown_inline(body))


def render_wiki_page(payload: Mapping[str, Any]) -> Content | None:
    """hookshot's wiki notice (created/updated/deleted), double space before the message."""
    attrs = obj(payload.get("object_attributes"))
    user = text(obj(payload.get("user")).get("username"))
    path = text(obj(payload.get("project")).get("path_with_namespace"))
    if user is None or path is None:
        return None
    action = attrs.get("action")
    statement = {"create": "created new wiki page", "delete": "deleted wiki page"}.get(
        str(action), "updated wiki page"
    )
    message = text(attrs.get("message"))
    # JavaScript's `message && ` "${message}"``; ours: a missing message is empty, not "undefined".
    quoted = f' "{message}"' if message else ""
    title = text(attrs.get("title")) or ""
    url = text(attrs.get("url")) or ""
    body = f'**{user}** {statement} "[{title}]({url})" for {path} {quoted}'
    return notice(body, render_markdown_inline(body))


def render_release(payload: Mapping[str, Any]) -> Content | None:
    """hookshot's release notice: commit author, release link and the description below."""
    author = text(obj(obj(payload.get("commit")).get("author")).get("name"))
    path = text(obj(payload.get("project")).get("path_with_namespace"))
    name = text(payload.get("name"))
    url = text(payload.get("url"))
    if author is None or path is None or name is None or url is None:
        return None
    description = text(payload.get("description")) or ""  # ours: no "null"
    body = f"**{author}** 🪄 released [{name}]({url}) for {path}\n\n{description}"
    return notice(body, render_block(body))


def obj(value: object) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else an empty one (payload fields may be absent or null)."""
    return value if isinstance(value, Mapping) else {}


def text(value: object) -> str | None:
    """A string or integer field as JavaScript's template literal prints it; else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _token(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value != ""


def _count(value: object, fallback: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else fallback


def _mr_link(project: Mapping[str, Any], mr: Mapping[str, Any]) -> str | None:
    path = text(project.get("path_with_namespace"))
    iid = text(mr.get("iid"))
    url = text(mr.get("url"))
    if path is None or iid is None or url is None:
        return None
    return f"[{path}!{iid}]({url})"


def _activity(
    project: Mapping[str, Any],
    mr: Mapping[str, Any],
    user: Mapping[str, Any],
    **parts: Any,
) -> ReviewActivity | None:
    path = text(project.get("path_with_namespace"))
    iid = text(mr.get("iid"))
    username = text(user.get("username"))
    if path is None or iid is None or username is None:
        return None
    return ReviewActivity(
        project_path=path,
        mr_iid=iid,
        mr_url=text(mr.get("url")) or "",
        mr_title=text(mr.get("title")) or "",
        username=username,
        author=text(user.get("name")) or username,
        **parts,
    )


def _project_home(payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    project = obj(payload.get("project"))
    # hookshot links from `homepage`; newer payloads keep it, web_url is the same URL.
    home = text(project.get("homepage")) or text(project.get("web_url"))
    return text(project.get("path_with_namespace")), home


def _commit_title(commit: Mapping[str, Any]) -> str:
    title = text(commit.get("title"))
    if title is not None:
        return title
    # Ours: payloads before GitLab 11 have no title (hookshot prints "undefined").
    message = text(commit.get("message")) or ""
    return message.split("\n", 1)[0]
