"""The notices a GitHub repository connection sends, as hookshot 7.x words them.

Each `render_*` function takes a webhook payload (the parsed body) and returns the
`m.room.message` content hookshot's `GitHubRepoConnection` (`src/Connections/GithubRepo.ts`)
sends for it, or None where hookshot sends nothing. Texts, icons, `:shortcode:` emoji,
markdown (inline for issue and pull request notices, block for releases, workflow runs and
pushes) and the extra content keys are hookshot's; label chips come from `github_labels`.

Rendering only: the connection applies the hook filter (`enableHooks`), `labels_pass`,
`workflow_run_pass`, the labeled-notice debounce, and fetches what hookshot fetches (the PR
diff, the closer's comment) before calling in. Deliberate differences are marked "Ours".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from hookshot import wire
from hookshot.core.markdown import render_markdown, render_markdown_inline
from hookshot.services.github.emoji import emojify
from hookshot.services.github.events import (
    event_name,
    labeled_notice_wanted,
    labels_pass,
    payload_labels,
    workflow_run_pass,
)
from hookshot.services.github.labels import escape_html, format_labels
from hookshot.services.github.payload import (
    EXTERNAL_URL,
    GITHUB_PUSH_KEY,
    Content,
    MalformedPayload,
    Payload,
    integer,
    issue_partial,
    items,
    login,
    obj,
    optional_string,
    pull_request_partial,
    repo_partial,
    string,
    utf16_len,
    utf16_prefix,
)

__all__ = [
    "DEFAULT_OPTIONS",
    "MalformedPayload",
    "RepoNoticeOptions",
    "event_name",
    "issue_partial",
    "issue_room_alias",
    "labeled_notice_wanted",
    "labels_pass",
    "payload_labels",
    "pull_request_partial",
    "render_issue_comment_created",
    "render_issue_edited",
    "render_issue_labeled",
    "render_issue_opened",
    "render_issue_state_change",
    "render_pull_request_closed",
    "render_pull_request_opened",
    "render_pull_request_ready_for_review",
    "render_pull_request_review_submitted",
    "render_push",
    "render_release_drafted",
    "render_release_published",
    "render_repo_event",
    "render_workflow_run_completed",
    "repo_partial",
    "workflow_run_pass",
]

# Wire name: the MSC4095 hint hookshot adds (as an empty list) when URL previews are turned off.
LINK_PREVIEWS_KEY: Final = wire.URL_PREVIEWS_KEY

TRUNCATE_COMMENT_SIZE: Final = 256  # UTF-16 code units, as JavaScript counts
DEFAULT_PR_DIFF_MAX_LINES: Final = 30
ELLIPSIS: Final = "…"

# hookshot's WORKFLOW_CONCLUSION_TO_NOTICE.
WORKFLOW_CONCLUSION_NOTICES: Final[Mapping[str, str]] = {
    "success": "completed successfully 🎉",
    "failure": "failed 😟",
    "neutral": "completed neutrally 😐",
    "cancelled": "was cancelled 🙅",
    "timed_out": "timed out ⏰",
    "action_required": "requires further action 🖱️",
    "stale": "completed, but is stale 🍞",
    "skipped": "skipped ⏭️",
}

# Review states hookshot announces; "commented" (sent for every review comment) is skipped.
REVIEW_ICONS: Final[Mapping[str, str]] = {"approved": "✅", "changes_requested": "🔴"}


@dataclass(frozen=True, slots=True)
class RepoNoticeOptions:
    """Connection settings that change what a notice says."""

    # showIssueRoomLink (state, else config default) and the GitHub App is installed.
    show_issue_room_link: bool = False
    server_name: str = ""  # homeserver name in the issue room alias
    url_previews: bool = True  # showUrlPreviews ?? messaging.allowUrlPreviews
    pr_diff_max_lines: int = DEFAULT_PR_DIFF_MAX_LINES  # prDiff.maxLines || 30

    def __post_init__(self) -> None:
        if self.show_issue_room_link and not self.server_name:
            raise ValueError("show_issue_room_link needs the homeserver's server_name")


DEFAULT_OPTIONS: Final = RepoNoticeOptions()


def render_issue_opened(payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS) -> Content:
    """issues.opened: "📥 **user** created new issue [org/repo#1](url): "title"" + labels."""
    repo, issue = obj(payload, "repository"), obj(payload, "issue")
    message = emojify(
        f"📥 **{login(issue, 'user')}** created new issue {_ref(repo, issue)}: "
        f'"{string(issue, "title")}"'
    )
    assignees = [string(a, "login") for a in items(issue, "assignees") if isinstance(a, Mapping)]
    if assignees:
        message += f" assigned to {', '.join(assignees)}"
    if options.show_issue_room_link:
        alias = issue_room_alias(
            login(repo, "owner"),
            string(repo, "name"),
            integer(issue, "number"),
            options.server_name,
        )
        message += f" [Issue Room](https://matrix.to/#/{alias})"
    return _with_labels(emojify(message), issue, repo, options)


def render_issue_comment_created(
    payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS
) -> Content:
    """issue_comment.created: who commented where, then the comment's first 256 characters."""
    repo, issue, comment = (
        obj(payload, "repository"),
        obj(payload, "issue"),
        obj(payload, "comment"),
    )
    url = string(issue, "html_url")
    message = emojify(f"🗣 **{login(comment, 'user')}** [commented]({url}) on {_ref(repo, issue)}  ")
    body = optional_string(comment, "body") or ""
    message += "\n> " + utf16_prefix(body, TRUNCATE_COMMENT_SIZE)
    if utf16_len(body) > TRUNCATE_COMMENT_SIZE:
        message += ELLIPSIS
    return _inline(message, {**issue_partial(repo, issue), EXTERNAL_URL: url}, options)


def render_issue_state_change(
    payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS, *, comment: str | None = None
) -> Content:
    """issues.closed / issues.reopened; `comment` is the sender's latest comment of the last two
    minutes, which hookshot fetches and quotes."""
    repo, issue = obj(payload, "repository"), obj(payload, "issue")
    # hookshot reads the issue's state, not the action.
    state = "reopened" if issue.get("state") == "open" else "closed"
    icon = "🔷" if state == "reopened" else "⬛"
    title = emojify(string(issue, "title"))
    text = emojify(
        f'{icon} **{login(payload, "sender")}** {state} issue {_ref(repo, issue)}: "{title}"'
        f"{_with_comment(comment)}"
    )
    return _inline(text, issue_partial(repo, issue), options)


def render_issue_edited(payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS) -> Content:
    """issues.edited: "✏️ **sender** edited issue [org/repo#1](url): "title""."""
    repo, issue = obj(payload, "repository"), obj(payload, "issue")
    title = emojify(string(issue, "title"))
    text = emojify(f'✏️ **{login(payload, "sender")}** edited issue {_ref(repo, issue)}: "{title}"')
    return _inline(text, issue_partial(repo, issue), options)


def render_issue_labeled(payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS) -> Content:
    """issues.labeled: the notice hookshot sends once the labels settle (render the latest event
    of the debounce; see `labeled_notice_wanted`), listing all the issue's labels."""
    repo, issue = obj(payload, "repository"), obj(payload, "issue")
    title = emojify(string(issue, "title"))
    text = emojify(f'🗃 **{login(payload, "sender")}** labeled issue {_ref(repo, issue)}: "{title}"')
    return _with_labels(text, issue, repo, options)


def render_pull_request_opened(
    payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS, *, diff: str | None = None
) -> Content:
    """pull_request.opened ("drafted" for drafts), with labels and, when `diff` (fetched from
    `diff_url` because prDiff is enabled) has at most `pr_diff_max_lines` lines, the diff."""
    repo, pr = obj(payload, "repository"), obj(payload, "pull_request")
    verb, icon = ("drafted", "⚪") if pr.get("draft") else ("opened", "🔵")
    sender, title = login(payload, "sender"), string(pr, "title")
    text = emojify(f'{icon} **{sender}** {verb} a new PR {_ref(repo, pr)}: "{title}"')
    labels = format_labels(items(pr, "labels"))
    body = text + (f" with labels {labels.plain}" if labels.plain else "")
    html = render_markdown_inline(text) + (f" with labels {labels.html}" if labels.html else "")
    # Ours: hookshot counts lines by splitting on "/n", so it never leaves a long diff out.
    if diff is not None and _line_count(diff) <= options.pr_diff_max_lines:
        body += f"\n``` diff\n{diff}\n```"
        # Ours: the diff is escaped; hookshot puts it into the HTML raw.
        html += f'\n<pre><code class="language-diff">{escape_html(diff)}\n</code></pre>'
    return _notice(
        body, html, {**issue_partial(repo, pr), **pull_request_partial(repo, pr)}, options
    )


def render_pull_request_ready_for_review(
    payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS
) -> Content:
    """pull_request.ready_for_review."""
    repo, pr = obj(payload, "repository"), obj(payload, "pull_request")
    text = emojify(
        f"🔬 **{login(payload, 'sender')}** has marked {_ref(repo, pr)} as ready to review "
        f'"{string(pr, "title")}"'
    )
    return _inline(text, issue_partial(repo, pr), options)


def render_pull_request_closed(
    payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS, *, comment: str | None = None
) -> Content:
    """pull_request.closed, "merged" when `pull_request.merged`; `comment` is the sender's latest
    comment of the last two minutes. Ours: quoted for merges too (hookshot only on close)."""
    repo, pr = obj(payload, "repository"), obj(payload, "pull_request")
    verb, icon = ("merged", "✳️") if pr.get("merged") else ("closed", "⚫")
    text = emojify(
        f'{icon} **{login(payload, "sender")}** {verb} PR {_ref(repo, pr)}: "{string(pr, "title")}"'
        f"{_with_comment(comment)}"
    )
    return _inline(text, issue_partial(repo, pr), options)


def render_pull_request_review_submitted(
    payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS
) -> Content | None:
    """pull_request_review.submitted: approvals and change requests; None for other states."""
    repo, pr = obj(payload, "repository"), obj(payload, "pull_request")
    state = string(obj(payload, "review"), "state").lower()
    icon = REVIEW_ICONS.get(state)
    if icon is None:
        return None
    text = emojify(
        f'{icon} **{login(payload, "sender")}** {state} {_ref(repo, pr)} "{string(pr, "title")}"'
    )
    return _inline(text, issue_partial(repo, pr), options)


def render_release_published(
    payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS
) -> Content:
    """release.published: "📣 **sender** released [name](url) for org/repo" and the notes."""
    return _release("📣", "released", payload, options)


def render_release_drafted(
    payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS
) -> Content | None:
    """release.created of a draft release; None for any other release.created."""
    if not obj(payload, "release").get("draft"):
        return None
    return _release("📝", "drafted release", payload, options)


def render_workflow_run_completed(
    payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS
) -> Content:
    """workflow_run.completed: "✅ Workflow **name** [conclusion text](run) for … on branch"."""
    run, repo = obj(payload, "workflow_run"), obj(payload, "repository")
    conclusion = optional_string(run, "conclusion")
    # Ours: an unknown conclusion is shown as it is (hookshot prints "undefined").
    outcome = WORKFLOW_CONCLUSION_NOTICES.get(conclusion or "", conclusion or "completed")
    branch = optional_string(run, "head_branch") or ""
    text = emojify(
        f"✅ Workflow **{string(obj(payload, 'workflow'), 'name')}** "
        f"[{outcome}]({string(run, 'html_url')}) for {string(repo, 'full_name')} "
        f"on branch `{branch}`"
    )
    return _block(text, {}, options)


def render_push(payload: Payload, options: RepoNoticeOptions = DEFAULT_OPTIONS) -> Content:
    """push: "**sender** pushed [N commits](compare) to `ref` for org/repo"; the commit ids,
    ref and pusher go in the `…github.push` key. hookshot does not emojify this one."""
    repo = obj(payload, "repository")
    commits = [c for c in items(payload, "commits") if isinstance(c, Mapping)]
    compare, ref = string(payload, "compare"), string(payload, "ref")
    count = len(commits)
    text = (
        f"**{login(payload, 'sender')}** pushed [{count} commit{'' if count == 1 else 's'}]"
        f"({compare}) to `{ref}` for {string(repo, 'full_name')}"
    )
    pusher = obj(payload, "pusher")
    email = optional_string(pusher, "email")
    push = {
        "commits": [string(c, "id") for c in commits],
        # Ours: a pusher without an email is just the name (hookshot writes "<null>").
        "pusher": f"{string(pusher, 'name')} <{email}>" if email else string(pusher, "name"),
        "ref": ref,
        "base_ref": optional_string(payload, "base_ref"),
    }
    return _block(
        text, {**repo_partial(repo), EXTERNAL_URL: compare, GITHUB_PUSH_KEY: push}, options
    )


def render_repo_event(
    name: str,
    payload: Payload,
    options: RepoNoticeOptions = DEFAULT_OPTIONS,
    *,
    comment: str | None = None,
    diff: str | None = None,
) -> Content | None:
    """The notice for event `name` (see `event_name`), or None where hookshot sends none.

    `comment` is used by closed/reopened issues and closed pull requests, `diff` by opened pull
    requests; the connection fetches both, as hookshot does.
    """
    match name:
        case "github.issues.opened":
            return render_issue_opened(payload, options)
        case "github.issues.edited":
            return render_issue_edited(payload, options)
        case "github.issues.closed" | "github.issues.reopened":
            return render_issue_state_change(payload, options, comment=comment)
        case "github.issues.labeled":
            return render_issue_labeled(payload, options)
        case "github.issue_comment.created":
            return render_issue_comment_created(payload, options)
        case "github.pull_request.opened":
            return render_pull_request_opened(payload, options, diff=diff)
        case "github.pull_request.ready_for_review":
            return render_pull_request_ready_for_review(payload, options)
        case "github.pull_request.closed":
            return render_pull_request_closed(payload, options, comment=comment)
        case "github.pull_request_review.submitted":
            return render_pull_request_review_submitted(payload, options)
        case "github.release.published":
            return render_release_published(payload, options)
        case "github.release.created":
            return render_release_drafted(payload, options)
        case "github.workflow_run.completed":
            return render_workflow_run_completed(payload, options)
        case "github.push":
            return render_push(payload, options)
    return None


def issue_room_alias(org: str, repo: str, number: int, server_name: str) -> str:
    """The alias of hookshot's room for one issue: `#github_org_repo_1:server` (lowercased)."""
    return f"#github_{org.lower()}_{repo.lower()}_{number}:{server_name}"


def _release(icon: str, verb: str, payload: Payload, options: RepoNoticeOptions) -> Content:
    release, repo = obj(payload, "release"), obj(payload, "repository")
    # Ours: an empty name falls back to the tag too (hookshot's `??` leaves "[](url)").
    name = optional_string(release, "name") or string(release, "tag_name")
    text = emojify(
        f"{icon} **{login(payload, 'sender')}** {verb} [{name}]({string(release, 'html_url')}) "
        f"for {string(repo, 'full_name')}"
    )
    notes = optional_string(release, "body")
    if notes:
        text += f"\n\n{notes}"
    return _block(text, {}, options)


def _with_labels(text: str, item: Payload, repo: Payload, options: RepoNoticeOptions) -> Content:
    labels = format_labels(items(item, "labels"))
    body = text + (f" with labels {labels.plain}" if labels.plain else "")
    html = render_markdown_inline(text) + (f" with labels {labels.html}" if labels.html else "")
    return _notice(body, html, issue_partial(repo, item), options)


def _with_comment(comment: str | None) -> str:
    return f' with comment "{comment}"' if comment else ""


def _ref(repo: Payload, item: Payload) -> str:
    """`[org/repo#1](html_url)`."""
    return f"[{string(repo, 'full_name')}#{integer(item, 'number')}]({string(item, 'html_url')})"


def _inline(text: str, extra: Content, options: RepoNoticeOptions) -> Content:
    return _notice(text, render_markdown_inline(text), extra, options)


def _block(text: str, extra: Content, options: RepoNoticeOptions) -> Content:
    # hookshot sends md.render() untrimmed, which always ends in one newline.
    return _notice(text, render_markdown(text) + "\n", extra, options)


def _notice(body: str, html: str, extra: Content, options: RepoNoticeOptions) -> Content:
    content: Content = {
        "msgtype": wire.M_NOTICE,
        "body": body,
        "formatted_body": html,
        "format": wire.HTML_FORMAT,
        **extra,
    }
    if not options.url_previews:
        content[LINK_PREVIEWS_KEY] = []
    return content


def _line_count(text: str) -> int:
    lines = text.split("\n")
    return len(lines) - 1 if len(lines) > 1 and lines[-1] == "" else len(lines)
