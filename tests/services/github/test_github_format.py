"""GitHub repository notices (`hookshot.services.github.format*`), table-tested over real payloads.

Expected texts follow hookshot 7.x `src/Connections/GithubRepo.ts` and `src/format_util.rs`
(rendered with markdown-it and node-emoji as hookshot does). Rows named "derived" change one
field of a corpus payload (named in the row id) to reach a case the corpus lacks; rows marked
"ours" are where we deliberately differ from hookshot (see the module docstrings).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from support.paths import CORPORA

from hookshot import wire
from hookshot.services.github.emoji import emojify
from hookshot.services.github.format import (
    DEFAULT_OPTIONS,
    LINK_PREVIEWS_KEY,
    WORKFLOW_CONCLUSION_NOTICES,
    MalformedPayload,
    RepoNoticeOptions,
    event_name,
    issue_room_alias,
    labeled_notice_wanted,
    labels_pass,
    payload_labels,
    render_issue_opened,
    render_repo_event,
    render_workflow_run_completed,
    workflow_run_pass,
)
from hookshot.services.github.labels import format_labels, label_chip, text_colour
from hookshot.services.github.payload import (
    EXTERNAL_URL,
    GITHUB_ISSUE_KEY,
    GITHUB_PULL_REQUEST_KEY,
    GITHUB_PUSH_KEY,
    GITHUB_REPO_KEY,
)

CORPUS = CORPORA / "github"
MANIFEST: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())

HW = "https://github.com/Codertocat/Hello-World"
ISSUE_1 = f"{HW}/issues/1"
PR_2 = f"{HW}/pull/2"
RELEASE = f"{HW}/releases/tag/0.0.1"
RUN = "https://github.com/octo-org/octo-repo/actions/runs/289782451"
ISSUE_TITLE = "Spelling error in the README file"
PR_TITLE = "Update the README with new information."
BUG = (
    '<span data-mx-bg-color="#d73a4a" data-mx-color="#000000" '
    'title="Something isn\'t working">bug</span>'
)
ISSUE_LINK = f'<a href="{ISSUE_1}">Codertocat/Hello-World#1</a>'
ISSUE_REF = f"[Codertocat/Hello-World#1]({ISSUE_1})"
PR_LINK = f'<a href="{PR_2}">Codertocat/Hello-World#2</a>'
PR_REF = f"[Codertocat/Hello-World#2]({PR_2})"
COMMIT = f"{HW}/commit/6113728f27ae82c7b1a177c8d03f9e96e0adf246"
DIFF = "--- a/x.html\n+++ b/x.html\n@@ -1 +1 @@\n-<p>old</p>\n+<p>new</p>\n"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPUS / name).read_text())
    return data


def header(name: str) -> str:
    return next(str(m["headers"]["X-GitHub-Event"]) for m in MANIFEST if m["file"] == name)


def notice(body: str, html: str, *extras: Mapping[str, object]) -> dict[str, object]:
    content: dict[str, object] = {
        "msgtype": "m.notice",
        "body": body,
        "formatted_body": html,
        "format": wire.HTML_FORMAT,
    }
    for extra in extras:
        content.update(extra)
    return content


def repo_keys(
    repo_id: int = 186853002, name: str = "Codertocat/Hello-World", url: str = HW
) -> dict[str, object]:
    return {EXTERNAL_URL: url, GITHUB_REPO_KEY: {"id": repo_id, "name": name, "url": url}}


def issue_keys(
    url: str = ISSUE_1,
    issue_id: int = 444500041,
    number: int = 1,
    title: str = ISSUE_TITLE,
    repo: Mapping[str, object] | None = None,
) -> dict[str, object]:
    return {
        **(repo or repo_keys()),
        EXTERNAL_URL: url,
        GITHUB_ISSUE_KEY: {"id": issue_id, "number": number, "title": title, "url": url},
    }


PR_ISSUE = issue_keys(PR_2, 279147437, 2, PR_TITLE)
PR_KEYS = {
    **PR_ISSUE,
    GITHUB_PULL_REQUEST_KEY: {"id": 279147437, "number": 2, "title": PR_TITLE, "url": PR_2},
}


def setting(*path_and_value: Any) -> Callable[[dict[str, Any]], None]:
    """A payload change: set the nested key `path[:-1]` to the last argument."""
    *path, value = path_and_value

    def change(payload: dict[str, Any]) -> None:
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def steps(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """Several payload changes, applied in order."""

    def change(payload: dict[str, Any]) -> None:
        for step in changes:
            step(payload)

    return change


def row(
    file: str,
    expected: dict[str, object] | None,
    *,
    id: str,
    event: str | None = None,
    change: Callable[[dict[str, Any]], None] | None = None,
    options: RepoNoticeOptions = DEFAULT_OPTIONS,
    **kwargs: Any,
) -> Any:
    return pytest.param(file, event, change, options, kwargs, expected, id=id)


ROWS = [
    # issues.opened
    row(
        "issues.opened.1.json",
        notice(
            f'📥 **Codertocat** created new issue {ISSUE_REF}: "{ISSUE_TITLE}"'
            " assigned to Codertocat with labels bug",
            f"📥 <strong>Codertocat</strong> created new issue {ISSUE_LINK}: "
            f"&quot;{ISSUE_TITLE}&quot; assigned to Codertocat with labels {BUG}",
            issue_keys(),
        ),
        id="issues.opened",
    ),
    row(
        "issues.opened.1.json",
        notice(
            f'📥 **Codertocat** created new issue {ISSUE_REF}: "{ISSUE_TITLE}"'
            " assigned to Codertocat [Issue Room]"
            "(https://matrix.to/#/#github_codertocat_hello-world_1:example.org) with labels bug",
            f"📥 <strong>Codertocat</strong> created new issue {ISSUE_LINK}: "
            f"&quot;{ISSUE_TITLE}&quot; assigned to Codertocat "
            '<a href="https://matrix.to/#/#github_codertocat_hello-world_1:example.org">'
            f"Issue Room</a> with labels {BUG}",
            issue_keys(),
        ),
        options=RepoNoticeOptions(show_issue_room_link=True, server_name="example.org"),
        id="issues.opened-showIssueRoomLink",
    ),
    row(
        "issues.opened.5.json",
        notice(
            "📥 **Codertocat** created new issue [Codertocat/Hello-World#1]"
            f'(https://octocoders.github.io/Codertocat/Hello-World/issues/1): "{ISSUE_TITLE}"'
            " assigned to Codertocat",
            "📥 <strong>Codertocat</strong> created new issue "
            '<a href="https://octocoders.github.io/Codertocat/Hello-World/issues/1">'
            f"Codertocat/Hello-World#1</a>: &quot;{ISSUE_TITLE}&quot; assigned to Codertocat",
            issue_keys(
                "https://octocoders.github.io/Codertocat/Hello-World/issues/1",
                10,
                repo=repo_keys(118, url="https://octocoders.github.io/Codertocat/Hello-World"),
            ),
        ),
        id="issues.opened-ghes-no-labels",
    ),
    row(
        "issues.opened.1.json",
        notice(
            f"📥 **Codertocat** created new issue {ISSUE_REF}: "
            '"🐛 Fix <b>x</b> *now* :nope:" assigned to Codertocat, b_c with labels bug',
            f"📥 <strong>Codertocat</strong> created new issue {ISSUE_LINK}: "
            "&quot;🐛 Fix &lt;b&gt;x&lt;/b&gt; <em>now</em> :nope:&quot; "
            f"assigned to Codertocat, b_c with labels {BUG}",
            issue_keys(title=":bug: Fix <b>x</b> *now* :nope:"),
        ),
        change=steps(
            setting("issue", "title", ":bug: Fix <b>x</b> *now* :nope:"),
            setting("issue", "assignees", [{"login": "Codertocat"}, {"login": "b_c"}]),
        ),
        id="issues.opened-derived-title-emoji-markdown-two-assignees",
    ),
    # issues.edited / closed / reopened / labeled
    row(
        "issues.edited.1.json",
        notice(
            f'✏️ **Codertocat** edited issue {ISSUE_REF}: "{ISSUE_TITLE}"',
            f"✏️ <strong>Codertocat</strong> edited issue {ISSUE_LINK}: &quot;{ISSUE_TITLE}&quot;",
            issue_keys(),
        ),
        id="issues.edited",
    ),
    row(
        "issues.edited.1.json",
        notice(
            f'✏️ **Codertocat** edited issue {ISSUE_REF}: "{ISSUE_TITLE}"',
            f"✏️ <strong>Codertocat</strong> edited issue {ISSUE_LINK}: &quot;{ISSUE_TITLE}&quot;",
            issue_keys(),
            {LINK_PREVIEWS_KEY: []},
        ),
        options=RepoNoticeOptions(url_previews=False),
        id="issues.edited-no-url-previews",
    ),
    row(
        "issues.reopened.1.json",
        notice(
            f'🔷 **Codertocat** reopened issue {ISSUE_REF}: "{ISSUE_TITLE}"',
            f"🔷 <strong>Codertocat</strong> reopened issue {ISSUE_LINK}: "
            f"&quot;{ISSUE_TITLE}&quot;",
            issue_keys(),
        ),
        id="issues.reopened",
    ),
    row(
        "issues.reopened.1.json",
        notice(
            f'⬛ **Codertocat** closed issue {ISSUE_REF}: "{ISSUE_TITLE}"'
            ' with comment "Fixed in #2 🎉 **now**"',
            f"⬛ <strong>Codertocat</strong> closed issue {ISSUE_LINK}: &quot;{ISSUE_TITLE}&quot;"
            " with comment &quot;Fixed in #2 🎉 <strong>now</strong>&quot;",
            issue_keys(),
        ),
        event="github.issues.closed",
        change=setting("issue", "state", "closed"),
        comment="Fixed in #2 :tada: **now**",
        id="issues.closed-derived-state-closed-with-comment",
    ),
    row(
        "issues.labeled.1.json",
        notice(
            f'🗃 **Codertocat** labeled issue {ISSUE_REF}: "{ISSUE_TITLE}" with labels bug',
            f"🗃 <strong>Codertocat</strong> labeled issue {ISSUE_LINK}: &quot;{ISSUE_TITLE}&quot;"
            f" with labels {BUG}",
            issue_keys(),
        ),
        id="issues.labeled",
    ),
    # issue_comment.created
    row(
        "issue_comment.created.1.json",
        notice(
            f"🗣 **Codertocat** [commented]({ISSUE_1}) on {ISSUE_REF}  "
            "\n> You are totally right! I'll get this fixed right away.",
            f'🗣 <strong>Codertocat</strong> <a href="{ISSUE_1}">commented</a> on {ISSUE_LINK}'
            "<br>\n&gt; You are totally right! I'll get this fixed right away.",
            issue_keys(),
        ),
        id="issue_comment.created",
    ),
    row(
        "issue_comment.created.1.json",
        notice(
            f"🗣 **Codertocat** [commented]({ISSUE_1}) on {ISSUE_REF}  \n> {'x' * 256}…",
            f'🗣 <strong>Codertocat</strong> <a href="{ISSUE_1}">commented</a> on {ISSUE_LINK}'
            f"<br>\n&gt; {'x' * 256}…",
            issue_keys(),
        ),
        change=setting("comment", "body", "x" * 257),
        id="issue_comment.created-derived-257-chars-truncated",
    ),
    row(
        "issue_comment.created.1.json",
        notice(
            f"🗣 **Codertocat** [commented]({ISSUE_1}) on {ISSUE_REF}  \n> a{'🎉' * 127}…",
            f'🗣 <strong>Codertocat</strong> <a href="{ISSUE_1}">commented</a> on {ISSUE_LINK}'
            f"<br>\n&gt; a{'🎉' * 127}…",
            issue_keys(),
        ),
        # 256 UTF-16 units end inside the 128th emoji: ours drops the half (JavaScript keeps it).
        change=setting("comment", "body", "a" + "🎉" * 200),
        id="issue_comment.created-derived-utf16-cut-ours",
    ),
    # pull_request.opened
    row(
        "pull_request.opened.1.json",
        notice(
            f'🔵 **Codertocat** opened a new PR {PR_REF}: "{PR_TITLE}"',
            f"🔵 <strong>Codertocat</strong> opened a new PR {PR_LINK}: &quot;{PR_TITLE}&quot;",
            PR_KEYS,
        ),
        id="pull_request.opened",
    ),
    row(
        "pull_request.opened.2.json",
        notice(
            f'🔵 **Codertocat** opened a new PR {PR_REF}: "{PR_TITLE}" with labels bug',
            f"🔵 <strong>Codertocat</strong> opened a new PR {PR_LINK}: &quot;{PR_TITLE}&quot;"
            f" with labels {BUG}",
            PR_KEYS,
        ),
        id="pull_request.opened-labels",
    ),
    row(
        "pull_request.opened.2.json",
        notice(
            f'⚪ **Codertocat** drafted a new PR {PR_REF}: "{PR_TITLE}" with labels bug',
            f"⚪ <strong>Codertocat</strong> drafted a new PR {PR_LINK}: &quot;{PR_TITLE}&quot;"
            f" with labels {BUG}",
            PR_KEYS,
        ),
        change=setting("pull_request", "draft", True),
        id="pull_request.opened-derived-draft",
    ),
    row(
        "pull_request.opened.1.json",
        notice(
            f'🔵 **Codertocat** opened a new PR {PR_REF}: "{PR_TITLE}"\n``` diff\n{DIFF}\n```',
            f"🔵 <strong>Codertocat</strong> opened a new PR {PR_LINK}: &quot;{PR_TITLE}&quot;"
            '\n<pre><code class="language-diff">--- a/x.html\n+++ b/x.html\n@@ -1 +1 @@\n'
            "-&lt;p&gt;old&lt;/p&gt;\n+&lt;p&gt;new&lt;/p&gt;\n\n</code></pre>",
            PR_KEYS,
        ),
        options=RepoNoticeOptions(pr_diff_max_lines=5),
        diff=DIFF,
        id="pull_request.opened-prDiff-5-lines-escaped-ours",
    ),
    row(
        "pull_request.opened.1.json",
        notice(
            f'🔵 **Codertocat** opened a new PR {PR_REF}: "{PR_TITLE}"',
            f"🔵 <strong>Codertocat</strong> opened a new PR {PR_LINK}: &quot;{PR_TITLE}&quot;",
            PR_KEYS,
        ),
        options=RepoNoticeOptions(pr_diff_max_lines=4),
        diff=DIFF,
        id="pull_request.opened-prDiff-over-maxLines-ours",
    ),
    # pull_request.ready_for_review / closed / review
    row(
        "pull_request.ready_for_review.1.json",
        notice(
            f'🔬 **Codertocat** has marked {PR_REF} as ready to review "{PR_TITLE}"',
            f"🔬 <strong>Codertocat</strong> has marked {PR_LINK} as ready to review"
            f" &quot;{PR_TITLE}&quot;",
            PR_ISSUE,
        ),
        id="pull_request.ready_for_review",
    ),
    row(
        "pull_request.closed.1.json",
        notice(
            f'⚫ **Codertocat** closed PR {PR_REF}: "{PR_TITLE}"',
            f"⚫ <strong>Codertocat</strong> closed PR {PR_LINK}: &quot;{PR_TITLE}&quot;",
            PR_ISSUE,
        ),
        id="pull_request.closed",
    ),
    row(
        "pull_request.closed.1.json",
        notice(
            f'⚫ **Codertocat** closed PR {PR_REF}: "{PR_TITLE}" with comment "Superseded by #3"',
            f"⚫ <strong>Codertocat</strong> closed PR {PR_LINK}: &quot;{PR_TITLE}&quot;"
            " with comment &quot;Superseded by #3&quot;",
            PR_ISSUE,
        ),
        comment="Superseded by #3",
        id="pull_request.closed-with-comment",
    ),
    row(
        "pull_request.closed.1.json",
        notice(
            f'✳️ **Codertocat** merged PR {PR_REF}: "{PR_TITLE}"',
            f"✳️ <strong>Codertocat</strong> merged PR {PR_LINK}: &quot;{PR_TITLE}&quot;",
            PR_ISSUE,
        ),
        change=setting("pull_request", "merged", True),
        id="pull_request.closed-derived-merged",
    ),
    row(
        "pull_request.closed.1.json",
        notice(
            f'✳️ **Codertocat** merged PR {PR_REF}: "{PR_TITLE}" with comment "Thanks! 🚀"',
            f"✳️ <strong>Codertocat</strong> merged PR {PR_LINK}: &quot;{PR_TITLE}&quot;"
            " with comment &quot;Thanks! 🚀&quot;",
            PR_ISSUE,
        ),
        change=setting("pull_request", "merged", True),
        comment="Thanks! :rocket:",
        id="pull_request.closed-derived-merged-with-comment-ours",
    ),
    row("pull_request_review.submitted.1.json", None, id="pull_request_review.commented-skipped"),
    row(
        "pull_request_review.submitted.1.json",
        notice(
            f'✅ **Codertocat** approved {PR_REF} "{PR_TITLE}"',
            f"✅ <strong>Codertocat</strong> approved {PR_LINK} &quot;{PR_TITLE}&quot;",
            PR_ISSUE,
        ),
        change=setting("review", "state", "APPROVED"),
        id="pull_request_review.submitted-derived-approved",
    ),
    row(
        "pull_request_review.submitted.2.json",
        notice(
            f'🔴 **Codertocat** changes_requested {PR_REF} "{PR_TITLE}"',
            f"🔴 <strong>Codertocat</strong> changes_requested {PR_LINK} &quot;{PR_TITLE}&quot;",
            PR_ISSUE,
        ),
        change=setting("review", "state", "changes_requested"),
        id="pull_request_review.submitted-derived-changes_requested",
    ),
    # release
    row(
        "release.published.1.json",
        notice(
            f"📣 **Codertocat** released [0.0.1]({RELEASE}) for Codertocat/Hello-World",
            f'<p>📣 <strong>Codertocat</strong> released <a href="{RELEASE}">0.0.1</a>'
            " for Codertocat/Hello-World</p>\n",
        ),
        id="release.published-name-null",
    ),
    row(
        "release.published.2.json",
        notice(
            f"📣 **Codertocat** released [0.0.1]({RELEASE}) for Codertocat/Hello-World",
            f'<p>📣 <strong>Codertocat</strong> released <a href="{RELEASE}">0.0.1</a>'
            " for Codertocat/Hello-World</p>\n",
        ),
        id="release.published-name-empty-ours",
    ),
    row(
        "release.published.2.json",
        notice(
            f"📣 **Codertocat** released [v1 🚀]({RELEASE}) for Codertocat/Hello-World"
            "\n\nNotes:\n\n* fixed :bug:\n* <b>raw</b>",
            f'<p>📣 <strong>Codertocat</strong> released <a href="{RELEASE}">v1 🚀</a>'
            " for Codertocat/Hello-World</p>\n<p>Notes:</p>\n<ul>\n<li>fixed :bug:</li>\n"
            "<li>&lt;b&gt;raw&lt;/b&gt;</li>\n</ul>\n",
        ),
        change=steps(
            setting("release", "name", "v1 :rocket:"),
            setting("release", "body", "Notes:\n\n* fixed :bug:\n* <b>raw</b>"),
        ),
        id="release.published-derived-name-and-notes",
    ),
    row("release.created.1.json", None, id="release.created-not-draft-skipped"),
    row(
        "release.created.1.json",
        notice(
            f"📝 **Codertocat** drafted release [0.0.1]({RELEASE}) for Codertocat/Hello-World",
            f'<p>📝 <strong>Codertocat</strong> drafted release <a href="{RELEASE}">0.0.1</a>'
            " for Codertocat/Hello-World</p>\n",
        ),
        change=setting("release", "draft", True),
        id="release.created-derived-draft",
    ),
    # workflow_run.completed
    row(
        "workflow_run.completed.1.json",
        notice(
            f"✅ Workflow **test** [completed successfully 🎉]({RUN}) for octo-org/octo-repo"
            " on branch `master`",
            f'<p>✅ Workflow <strong>test</strong> <a href="{RUN}">completed successfully 🎉</a>'
            " for octo-org/octo-repo on branch <code>master</code></p>\n",
        ),
        id="workflow_run.completed",
    ),
    # push
    row(
        "push.none.1.json",
        notice(
            f"**Codertocat** pushed [0 commits]({HW}/compare/simple-tag) to `refs/tags/simple-tag`"
            " for Codertocat/Hello-World",
            f'<p><strong>Codertocat</strong> pushed <a href="{HW}/compare/simple-tag">0 commits</a>'
            " to <code>refs/tags/simple-tag</code> for Codertocat/Hello-World</p>\n",
            repo_keys(),
            {
                EXTERNAL_URL: f"{HW}/compare/simple-tag",
                GITHUB_PUSH_KEY: {
                    "commits": [],
                    "pusher": "Codertocat <21031067+Codertocat@users.noreply.github.com>",
                    "ref": "refs/tags/simple-tag",
                    "base_ref": None,
                },
            },
        ),
        id="push-tag-no-commits",
    ),
    row(
        "push.none.3.json",
        notice(
            f"**Codertocat** pushed [1 commit]({COMMIT})"
            " to `refs/heads/master` for Codertocat/Hello-World",
            "<p><strong>Codertocat</strong> pushed "
            f'<a href="{COMMIT}">1 commit</a>'
            " to <code>refs/heads/master</code> for Codertocat/Hello-World</p>\n",
            repo_keys(),
            {
                EXTERNAL_URL: COMMIT,
                GITHUB_PUSH_KEY: {
                    "commits": ["6113728f27ae82c7b1a177c8d03f9e96e0adf246"],
                    "pusher": "Codertocat <21031067+Codertocat@users.noreply.github.com>",
                    "ref": "refs/heads/master",
                    "base_ref": None,
                },
            },
        ),
        id="push-one-commit",
    ),
    row(
        "push.none.3.json",
        notice(
            f"**Codertocat** pushed [2 commits]({COMMIT})"
            " to `refs/heads/master` for Codertocat/Hello-World",
            "<p><strong>Codertocat</strong> pushed "
            f'<a href="{COMMIT}">2 commits</a>'
            " to <code>refs/heads/master</code> for Codertocat/Hello-World</p>\n",
            repo_keys(),
            {
                EXTERNAL_URL: COMMIT,
                GITHUB_PUSH_KEY: {
                    "commits": ["6113728f27ae82c7b1a177c8d03f9e96e0adf246", "abc"],
                    "pusher": "Codertocat",
                    "ref": "refs/heads/master",
                    "base_ref": None,
                },
            },
        ),
        change=steps(
            lambda p: p["commits"].append({**p["commits"][0], "id": "abc"}),
            setting("pusher", "email", None),
        ),
        id="push-derived-two-commits-pusher-without-email-ours",
    ),
]


@pytest.mark.parametrize(("file", "event", "change", "options", "kwargs", "expected"), ROWS)
def test_notice(
    file: str,
    event: str | None,
    change: Callable[[dict[str, Any]], None] | None,
    options: RepoNoticeOptions,
    kwargs: dict[str, Any],
    expected: dict[str, object] | None,
) -> None:
    payload = load(file)
    if change is not None:
        change(payload)
    name = event or event_name(header(file), payload)
    assert render_repo_event(name, payload, options, **kwargs) == expected


@pytest.mark.parametrize(
    ("conclusion", "text"),
    [*WORKFLOW_CONCLUSION_NOTICES.items(), ("startup_failure", "startup_failure")],
)
def test_workflow_conclusions(conclusion: str, text: str) -> None:
    """hookshot's conclusion texts; an unknown conclusion is shown raw (ours)."""
    payload = load("workflow_run.completed.2.json")
    payload["workflow_run"]["conclusion"] = conclusion
    content = render_workflow_run_completed(payload)
    assert content["body"] == (
        f"✅ Workflow **test** [{text}]({RUN}) for octo-org/octo-repo on branch `master`"
    )


HANDLED = {
    "issues.opened",
    "issues.edited",
    "issues.reopened",
    "issues.labeled",
    "issue_comment.created",
    "pull_request.opened",
    "pull_request.closed",
    "pull_request.ready_for_review",
    "release.published",
    "workflow_run.completed",
    "push.none",
}


@pytest.mark.parametrize("entry", MANIFEST, ids=[m["file"] for m in MANIFEST])
def test_every_corpus_payload(entry: dict[str, Any]) -> None:
    """Every payload is named as hookshot names it and renders (or is skipped) without error."""
    payload = load(entry["file"])
    name = event_name(entry["headers"]["X-GitHub-Event"], payload)
    action = entry["action"]
    assert name == f"github.{entry['event']}" + (f".{action}" if action else "")
    content = render_repo_event(name, payload, RepoNoticeOptions(url_previews=False))
    stem = entry["file"].rsplit(".", 2)[0]
    assert (content is not None) == (stem in HANDLED)
    if content is not None:
        assert content["msgtype"] == wire.M_NOTICE
        assert content["format"] == wire.HTML_FORMAT
        assert isinstance(content["body"], str)
        assert content["body"]
        assert isinstance(content["formatted_body"], str)
        assert content["formatted_body"]
        assert content[LINK_PREVIEWS_KEY] == []
        json.dumps(content, ensure_ascii=False).encode()  # plain JSON, valid UTF-8


def test_corpus_copy_is_complete() -> None:
    files = {p.name for p in CORPUS.glob("*.json")} - {"manifest.json"}
    assert files == {m["file"] for m in MANIFEST}
    assert len(files) == 279


@pytest.mark.parametrize(
    ("header_value", "payload", "name"),
    [
        ("push", {"ref": "refs/heads/main"}, "github.push"),
        ("issues", {"action": "opened"}, "github.issues.opened"),
        ("ping", {"action": ""}, "github.ping"),
        ("ping", {"action": None}, "github.ping"),
        (
            "repository_dispatch",
            {"action": "on-demand-test"},
            "github.repository_dispatch.on-demand-test",
        ),
    ],
)
def test_event_name(header_value: str, payload: dict[str, Any], name: str) -> None:
    assert event_name(header_value, payload) == name


@pytest.mark.parametrize(
    ("labels", "including", "excluding", "passes"),
    [
        ([], None, None, True),
        (["bug"], [], [], True),
        (["bug"], ["bug"], None, True),
        (["bug"], ["feature"], None, False),
        ([], ["feature"], None, False),
        (["bug"], None, ["bug"], False),
        (["bug", "x"], ["x"], ["bug"], False),
        (["x"], ["x"], ["bug"], True),
    ],
)
def test_labels_pass(
    labels: list[str], including: list[str] | None, excluding: list[str] | None, passes: bool
) -> None:
    assert labels_pass(labels, including, excluding) is passes


def test_payload_labels() -> None:
    assert payload_labels(load("issues.opened.1.json")["issue"]) == ["bug"]
    assert payload_labels({"labels": [{"name": "a"}, "junk", {"color": "fff"}]}) == ["a"]
    assert payload_labels({}) == []


@pytest.mark.parametrize(
    ("added", "including", "wanted"),
    [
        (["bug"], None, False),
        (["bug"], [], False),
        (["bug"], ["bug"], True),
        (["x", "bug"], ["bug"], True),
        (["x"], ["bug"], False),
    ],
)
def test_labeled_notice_wanted(added: list[str], including: list[str] | None, wanted: bool) -> None:
    assert labeled_notice_wanted(added, including) is wanted


@pytest.mark.parametrize(
    ("branch", "name", "matching", "including", "excluding", "passes"),
    [
        ("master", "CI", None, None, None, True),
        ("master", "CI", "", None, None, True),
        ("master", "CI", "^main$", None, None, False),
        ("master", "CI", "ast", None, None, True),  # a regex search, not a full match
        ("master", "CI", "^ma(?<rest>ster)$", None, None, True),  # JavaScript named group
        ("master", "CI", "[", None, None, False),  # invalid regex: hookshot throws
        (None, "CI", "main", None, None, False),
        (None, "CI", None, None, None, True),
        ("master", "CI", None, None, ["CI"], False),
        ("master", "CI", None, None, [], True),
        ("master", "CI", None, ["CI"], None, True),
        ("master", "CI", None, ["Other"], None, False),
        ("master", "CI", None, [], None, False),  # hookshot: an empty list is truthy
    ],
)
def test_workflow_run_pass(
    branch: str | None,
    name: str,
    matching: str | None,
    including: list[str] | None,
    excluding: list[str] | None,
    passes: bool,
) -> None:
    payload = load("workflow_run.completed.1.json")
    payload["workflow_run"].update(head_branch=branch, name=name)
    assert workflow_run_pass(payload, matching, including, excluding) is passes


@pytest.mark.parametrize(
    ("name", "colour", "description", "html"),
    [
        (
            "bug",
            "d73a4a",
            None,
            '<span data-mx-bg-color="#d73a4a" data-mx-color="#000000">bug</span>',
        ),
        (
            "docs",
            "0075ca",
            None,
            '<span data-mx-bg-color="#0075ca" data-mx-color="#FFFFFF">docs</span>',
        ),
        # ours: hookshot judges by the last channel only, giving these white text.
        (
            "question",
            "d876e3",
            None,
            '<span data-mx-bg-color="#d876e3" data-mx-color="#000000">question</span>',
        ),
        (
            "light",
            "fff",
            None,
            '<span data-mx-bg-color="#fff" data-mx-color="#000000">light</span>',
        ),
        (
            "dark",
            "#000000",
            None,
            '<span data-mx-bg-color="#000000" data-mx-color="#FFFFFF">dark</span>',
        ),
        ("odd", "zz0000", None, "<span>odd</span>"),
        ("plain", None, "", "<span>plain</span>"),
        ("q", None, 'Say "hi" <b>', '<span title="Say &quot;hi&quot; &lt;b&gt;">q</span>'),
        ("<img>", None, None, "<span>&lt;img&gt;</span>"),
    ],
)
def test_label_chip(name: str, colour: str | None, description: str | None, html: str) -> None:
    assert label_chip(name, colour, description) == html


def test_format_labels() -> None:
    labels = format_labels(
        [
            {"name": "bug", "color": "d73a4a", "description": "Something isn't working"},
            "not a label",
            {"name": "good first issue", "color": "", "description": None},
        ]
    )
    assert labels.plain == "bug, good first issue"
    assert labels.html == f"{BUG} <span>good first issue</span>"
    assert format_labels([]).plain == format_labels([]).html == ""


def test_text_colour_threshold() -> None:
    # Greys either side of contrast 4.5 with black (relative luminance 0.175).
    assert text_colour((0x74, 0x74, 0x74)) == "#FFFFFF"
    assert text_colour((0x75, 0x75, 0x75)) == "#000000"


@pytest.mark.parametrize(
    ("text", "emojified"),
    [
        (":sparkles: Add :nope: :+1:", "✨ Add :nope: 👍"),
        ("a:bug:b", "a🐛b"),
        ("::bug::", ":🐛:"),
        (":heart: :one:", "❤️ 1️⃣"),
        (":hot_beverage:", ":hot_beverage:"),  # not an emojilib 2.4 name
        ("12:30:45", "12:30:45"),
    ],
)
def test_emojify(text: str, emojified: str) -> None:
    assert emojify(text) == emojified


def test_issue_room_alias() -> None:
    assert issue_room_alias("Org", "Hello-World", 7, "example.org") == (
        "#github_org_hello-world_7:example.org"
    )


def test_room_link_needs_server_name() -> None:
    with pytest.raises(ValueError, match="server_name"):
        RepoNoticeOptions(show_issue_room_link=True)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "'repository' must be an object"),
        ({"repository": {}, "issue": {"user": {"login": "a"}}}, "'full_name' must be a string"),
    ],
)
def test_malformed_payload(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        render_issue_opened(payload)


def test_payloads_are_not_modified() -> None:
    payload = load("pull_request.opened.2.json")
    before = copy.deepcopy(payload)
    render_repo_event("github.pull_request.opened", payload, diff=DIFF)
    assert payload == before
