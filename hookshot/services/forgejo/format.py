"""Notices for Forgejo and Gitea deliveries (pure), worded like the GitHub notices so a room
reads the same whichever forge it follows. Every field from the payload is user text: it goes
through markdown (which escapes raw HTML) and titles and names are stripped of markdown
link syntax, so a crafted title cannot make a link that points elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookshot import wire
from hookshot.core.markdown import escape_markdown, render_markdown, render_markdown_inline
from hookshot.services.forgejo.repo import branch_of

Payload = Mapping[str, Any]
Content = dict[str, Any]

WIP_PREFIXES = ("wip:", "[wip]")  # Forgejo's default WORK_IN_PROGRESS_PREFIXES, lower-cased
COMMENT_PREVIEW = 256  # characters of a comment quoted in the notice (as for GitHub)
NOTES_PREVIEW = 1000  # characters of release notes

REVIEW_VERBS = {
    "pull_request_review_approved": ("✅", "approved"),
    "pull_request_review_rejected": ("🔴", "requested changes on"),
    "pull_request_review_comment": ("💬", "reviewed"),
}
RUN_OUTCOMES = {
    "success": ("✅", "succeeded"),
    "failure": ("❌", "failed"),
    "recover": ("✅", "recovered"),
    "cancelled": ("⚪", "was cancelled"),
    "skipped": ("⚪", "was skipped"),
}


def plain(value: object) -> str:
    """User text for inline markdown: one line, markdown syntax escaped."""
    text = " ".join(str(value).split()) if value is not None else ""
    return escape_markdown(text)


def _obj(payload: Payload, key: str) -> Payload:
    value = payload.get(key)
    return value if isinstance(value, Mapping) else {}


def _str(payload: Payload, key: str) -> str:
    value = payload.get(key)
    return value if isinstance(value, str) else ""


def _login(user: Payload) -> str:
    return plain(_str(user, "login") or _str(user, "username") or "someone")


def _labels(item: Payload) -> list[str]:
    labels = item.get("labels")
    names = [_str(x, "name") for x in labels if isinstance(x, Mapping)] if labels else []
    return [name for name in names if name]


def labels_of(payload: Payload) -> list[str]:
    """The labels of the delivery's issue or pull request (for the label filters)."""
    return _labels(_obj(payload, "pull_request") or _obj(payload, "issue"))


def is_draft(pr: Payload) -> bool:
    """A draft pull request: marked so, or titled with one of Forgejo's default
    work-in-progress prefixes (`WIP:`, `[WIP]`, any case)."""
    title = _str(pr, "title").lstrip().lower()
    return pr.get("draft") is True or title.startswith(WIP_PREFIXES)


def repository_of(payload: Payload) -> Payload:
    """The delivery's repository: top level, or inside the run for Forgejo's `action_run_*`
    deliveries (which have no top-level `repository`)."""
    return _obj(payload, "repository") or _obj(_obj(payload, "run"), "repository")


def item_url(repo: Payload, item: Payload, kind: str) -> str:
    """An issue's or pull request's page (old Gitea sends no `html_url` for issues)."""
    base = _str(repo, "html_url").rstrip("/")
    return _str(item, "html_url") or (f"{base}/{kind}/{item.get('number')}" if base else "")


def _ref(repo: Payload, item: Payload, kind: str = "issues") -> str:
    number = item.get("number")
    return f"[{plain(_str(repo, 'full_name'))}#{number}]({item_url(repo, item, kind)})"


def _quote(text: str, limit: int) -> str:
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return "\n".join("> " + line for line in cut.splitlines()) or ">"


def _notice(text: str, *, block: bool = False, url: str = "") -> Content:
    html = render_markdown(text) if block else render_markdown_inline(text)
    content: Content = {
        "msgtype": wire.M_NOTICE,
        "body": text,
        "format": wire.HTML_FORMAT,
        "formatted_body": html,
    }
    if url:
        content[wire.EXTERNAL_URL] = url
    return content


def _with_labels(text: str, item: Payload) -> str:
    labels = _labels(item)
    return text + (" with labels " + ", ".join(f"`{plain(x)}`" for x in labels) if labels else "")


def render(name: str, event_type: str, payload: Payload) -> Content | None:
    """The notice for hook `name` (see events.hook_name), or None when there is nothing to say."""
    repo, sender = repository_of(payload), _login(_obj(payload, "sender"))
    full_name = plain(_str(repo, "full_name"))
    if name == "push":
        return _push(payload, repo, sender)
    if name in ("ref.created", "ref.deleted"):
        verb = "created" if name == "ref.created" else "deleted"
        kind = plain(_str(payload, "ref_type") or "ref")
        ref = plain(branch_of(_str(payload, "ref")))
        return _notice(
            f"**{sender}** {verb} {kind} `{ref}` in {full_name}", url=_str(repo, "html_url")
        )
    if name.startswith("pull_request."):
        return _pull_request(name, event_type, payload, repo, sender)
    if name.startswith("issue."):
        return _issue(name, payload, repo, sender)
    if name == "release.published":
        release = _obj(payload, "release")
        title = plain(_str(release, "name") or _str(release, "tag_name"))
        text = f"📣 **{sender}** released [{title}]({_str(release, 'html_url')}) for {full_name}"
        notes = _str(release, "body").strip()
        if notes:
            text += "\n\n" + notes[:NOTES_PREVIEW] + ("…" if len(notes) > NOTES_PREVIEW else "")
        return _notice(text, block=True, url=_str(release, "html_url"))
    if name.startswith("workflow.run."):
        return _run(name, payload, repo)
    return None


def _push(payload: Payload, repo: Payload, sender: str) -> Content | None:
    commits = [c for c in payload.get("commits") or () if isinstance(c, Mapping)]
    if not commits:
        return None  # a branch created or deleted by a push: the create/delete notice says it
    count = len(commits)
    url = _str(payload, "compare_url") or _str(payload, "compare") or _str(repo, "html_url")
    branch = plain(branch_of(_str(payload, "ref")))
    text = (
        f"**{sender}** pushed [{count} commit{'' if count == 1 else 's'}]({url}) to `{branch}` "
        f"for {plain(_str(repo, 'full_name'))}"
    )
    shown = commits[-3:]
    for commit in shown:
        first = _str(commit, "message").strip().splitlines()
        text += f"\n- `{_str(commit, 'id')[:8]}` {plain(first[0]) if first else ''}"
    return _notice(text, block=True, url=url)


def _pull_request(
    name: str, event_type: str, payload: Payload, repo: Payload, sender: str
) -> Content | None:
    pr = _obj(payload, "pull_request")
    ref, title = _ref(repo, pr, "pulls"), plain(_str(pr, "title"))
    url = item_url(repo, pr, "pulls")
    if name == "pull_request.opened":
        verb, icon = ("drafted", "⚪") if is_draft(pr) else ("opened", "🔵")
        return _notice(
            _with_labels(f'{icon} **{sender}** {verb} a new PR {ref}: "{title}"', pr), url=url
        )
    if name == "pull_request.reviewed":
        icon, verb = REVIEW_VERBS.get(event_type, ("💬", "reviewed"))
        text = f'{icon} **{sender}** {verb} {ref} "{title}"'
        body = _str(_obj(payload, "review"), "content").strip()
        if body:
            text += "\n" + _quote(body, COMMENT_PREVIEW)
        return _notice(text, block=bool(body), url=url)
    simple = {
        "pull_request.merged": ("✳️", "merged PR"),
        "pull_request.closed": ("⚫", "closed PR"),
        "pull_request.reopened": ("🔷", "reopened PR"),
        "pull_request.edited": ("✏️", "edited PR"),
        "pull_request.synchronized": ("🔄", "pushed to PR"),
    }
    if name in simple:
        icon, verb = simple[name]
        return _notice(f'{icon} **{sender}** {verb} {ref}: "{title}"', url=url)
    if name == "pull_request.labeled":
        return _notice(_with_labels(f'🗃 **{sender}** labeled PR {ref}: "{title}"', pr), url=url)
    return None


def _issue(name: str, payload: Payload, repo: Payload, sender: str) -> Content | None:
    issue = _obj(payload, "issue")
    kind = "pulls" if issue.get("pull_request") else "issues"
    ref, title = _ref(repo, issue, kind), plain(_str(issue, "title"))
    url = item_url(repo, issue, kind)
    if name == "issue.created":
        author = _login(_obj(issue, "user")) if issue.get("user") else sender
        return _notice(
            _with_labels(f'📥 **{author}** created new issue {ref}: "{title}"', issue), url=url
        )
    if name == "issue.changed":
        reopened = payload.get("action") == "reopened"
        icon, verb = ("🔷", "reopened") if reopened else ("⬛", "closed")
        return _notice(f'{icon} **{sender}** {verb} issue {ref}: "{title}"', url=url)
    if name == "issue.edited":
        return _notice(f'✏️ **{sender}** edited issue {ref}: "{title}"', url=url)
    if name == "issue.labeled":
        return _notice(
            _with_labels(f'🗃 **{sender}** labeled issue {ref}: "{title}"', issue), url=url
        )
    if name == "issue.comment.created":
        comment = _obj(payload, "comment")
        link = _str(comment, "html_url") or url
        author = _login(_obj(comment, "user")) if comment.get("user") else sender
        text = f"🗣 **{author}** [commented]({link}) on {ref}\n"
        text += _quote(_str(comment, "body").strip(), COMMENT_PREVIEW)
        return _notice(text, block=True, url=link)
    return None


def _run(name: str, payload: Payload, repo: Payload) -> Content | None:
    outcome = name.removeprefix("workflow.run.")
    icon, verb = RUN_OUTCOMES.get(outcome, ("⚪", f"finished ({plain(outcome)})"))
    run = _obj(payload, "workflow_run") or _obj(payload, "run")
    workflow = _obj(payload, "workflow")
    title = plain(
        _str(workflow, "name") or _str(run, "display_title") or _str(run, "title") or "run"
    )
    url = _str(run, "html_url")
    branch = plain(branch_of(_str(run, "head_branch") or _str(run, "prettyref") or ""))
    text = f"{icon} Workflow **{title}** [{verb}]({url}) for {plain(_str(repo, 'full_name'))}"
    if branch:
        text += f" on branch `{branch}`"
    return _notice(text, url=url)


def branch_of_delivery(name: str, payload: Payload) -> str | None:
    """The branch a delivery is about, for the `branches` filter (None: not about one)."""
    if name == "push" or name.startswith("ref."):
        if name.startswith("ref.") and _str(payload, "ref_type") == "tag":
            return None
        return branch_of(_str(payload, "ref")) or None
    if name.startswith("pull_request."):
        base = _obj(_obj(payload, "pull_request"), "base")
        return _str(base, "ref") or None
    if name.startswith("workflow.run."):
        run = _obj(payload, "workflow_run") or _obj(payload, "run")
        return branch_of(_str(run, "head_branch") or _str(run, "prettyref")) or None
    return None
