"""GitLab notices (`services/gitlab/` format, ci, issues): event names and texts over real payloads.

Rows marked "hookshot" follow `src/Connections/GitlabRepo.ts` and the expectations of
`tests/connections/GitlabRepoTest.ts` in matrix-hookshot; "ours" rows are texts hookshot does not
have or where we deliberately differ.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from support.paths import CORPORA

from hookshot import wire
from hookshot.services.gitlab.ci import format_duration, render_job, render_pipeline
from hookshot.services.gitlab.format import (
    ProjectRef,
    ReviewActivity,
    event_name,
    is_confidential,
    project_ref,
    render_merge_request,
    render_mr_review,
    render_push,
    render_release,
    render_tag_push,
    render_wiki_page,
    review_activity,
)
from hookshot.services.gitlab.issues import render_issue
from hookshot.services.gitlab.repo import ALLOWED_HOOKS, from_state

CORPUS = CORPORA / "gitlab"
MANIFEST: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())
HEADERS = {entry["file"]: entry["headers"]["X-Gitlab-Event"] for entry in MANIFEST}
HTML = wire.HTML_FORMAT


def load(name: str, **changes: Any) -> dict[str, Any]:
    """A corpus payload; `changes` replace top-level keys, `a__b` replaces a nested one."""
    payload: dict[str, Any] = json.loads((CORPUS / name).read_text())
    for key, value in changes.items():
        target = payload
        *parents, leaf = key.split("__")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return payload


def notice(body: str, html: str) -> dict[str, object]:
    return {"msgtype": "m.notice", "body": body, "formatted_body": html, "format": HTML}


def test_manifest_lists_every_file() -> None:
    files = {p.name for p in CORPUS.glob("*.json")} - {"manifest.json"}
    assert files == set(HEADERS)
    assert len(files) == 88


NAMED = {
    "build.created.1.json": "gitlab.job.created",
    "build.created.2.json": "gitlab.job.created",
    "build.created.3.json": "gitlab.job.created",
    "build.created.4.json": "gitlab.job.created",
    "build.success.1.json": "gitlab.job.success",
    "issue.open.1.json": "gitlab.issue.open",
    "issue.open.2.json": "gitlab.issue.open",
    "issue.open.3.json": "gitlab.issue.open",
    "merge_request.merge.1.json": "gitlab.merge_request.merge",
    "merge_request.open.1.json": "gitlab.merge_request.open",
    "merge_request.open.2.json": "gitlab.merge_request.open",
    "merge_request.update.1.json": "gitlab.merge_request.update",
    "merge_request.update.2.json": "gitlab.merge_request.update",
    "note.create.1.json": "gitlab.note.created",
    "note.create.2.json": "gitlab.note.created",
    "note.create.3.json": "gitlab.note.created",
    "note.create.4.json": "gitlab.note.created",
    "note.none.1.json": "gitlab.note.created",
    "note.none.2.json": "gitlab.note.created",
    "note.none.3.json": "gitlab.note.created",
    "note.none.4.json": "gitlab.note.created",
    "note.none.5.json": "gitlab.note.created",
    "pipeline.success.1.json": "gitlab.pipeline.success",
    "pipeline.success.2.json": "gitlab.pipeline.success",
    "push.none.1.json": "gitlab.push",
    "push.none.2.json": "gitlab.push",
    "release.create.1.json": "gitlab.release.create",
    "release.create.2.json": "gitlab.release.create",
    "release.create.3.json": "gitlab.release.create",
    "tag_push.none.1.json": "gitlab.tag_push",
    "tag_push.none.2.json": "gitlab.tag_push",
    "wiki_page.create.1.json": "gitlab.wiki_page",
    "wiki_page.create.2.json": "gitlab.wiki_page",
}


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_event_name_of_every_corpus_file(name: str) -> None:
    # System hooks, members, deployments, emoji, milestones, … are not project notices.
    assert event_name(HEADERS[name], load(name)) == NAMED.get(name)


@pytest.mark.parametrize(
    ("header", "payload", "expected"),
    [
        # hookshot: the "Test" button sends merge requests, issues and releases without action.
        ("Merge Request Hook", {"object_kind": "merge_request", "object_attributes": {}}, None),
        ("Issue Hook", {"object_kind": "issue", "object_attributes": {"action": ""}}, None),
        ("Release Hook", {"object_kind": "release"}, None),
        ("Merge Request Hook", {"object_kind": "merge_request"}, None),
        (
            "Merge Request Hook",
            {"object_kind": "merge_request", "object_attributes": {"action": "approval"}},
            "gitlab.merge_request.approval",
        ),
        # ours: an edited comment is not a new comment
        (
            "Note Hook",
            {"object_kind": "note", "object_attributes": {"action": "update"}},
            "gitlab.note.updated",
        ),
        (
            "Pipeline Hook",
            {"object_kind": "pipeline", "object_attributes": {"status": "FAILED"}},
            "gitlab.pipeline.failed",
        ),
        ("Pipeline Hook", {"object_kind": "pipeline", "object_attributes": None}, None),
        ("Job Hook", {"object_kind": "build", "build_status": 3}, None),
        ("System Hook", load("push.none.1.json"), "gitlab.push"),
        (None, load("push.none.1.json"), "gitlab.push"),
        ("Push Hook", ["not", "an", "object"], None),
        ("Push Hook", {}, None),
    ],
)
def test_event_name_edges(header: str | None, payload: object, expected: str | None) -> None:
    assert event_name(header, payload) == expected


@pytest.mark.parametrize(
    ("name", "confidential"),
    [
        ("issue.open.1.json", True),  # only the header says so
        ("issue.open.2.json", False),
        ("note.none.5.json", True),  # event_type confidential_note
        ("note.create.3.json", False),
    ],
)
def test_is_confidential(name: str, confidential: bool) -> None:
    assert is_confidential(HEADERS[name], load(name)) is confidential


def test_is_confidential_from_payload_fields() -> None:
    assert is_confidential(None, {"object_attributes": {"confidential": True}})
    assert is_confidential(None, {"object_attributes": {"internal": True}})
    assert is_confidential(None, {"issue": {"confidential": True}})
    assert not is_confidential(None, {"object_attributes": {"confidential": False}})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "push.none.1.json",
            ProjectRef("mike/diaspora", "http://example.com/mike/diaspora", "http://example.com"),
        ),
        (
            "merge_request.update.2.json",
            ProjectRef(
                "ryf/java/ruoyi-vue-plus",
                "https://hellogitlab.top/ryf/java/ruoyi-vue-plus",
                "https://hellogitlab.top",
            ),
        ),
        (
            # an old job payload has no `project`: the repository homepage gives it
            "build.created.3.json",
            ProjectRef(
                "gitlab-org/gitlab-test",
                "http://192.168.64.1:3005/gitlab-org/gitlab-test",
                "http://192.168.64.1:3005",
            ),
        ),
        ("system.user_create.1.json", None),
    ],
)
def test_project_ref(name: str, expected: ProjectRef | None) -> None:
    assert project_ref(load(name)) == expected


def test_project_ref_under_a_path_prefix() -> None:
    payload = {
        "project": {
            "path_with_namespace": "Group/Proj",
            "web_url": "https://example.com/gitlab/Group/Proj",
        }
    }
    ref = project_ref(payload)
    assert ref == ProjectRef(
        "Group/Proj", "https://example.com/gitlab/Group/Proj", "https://example.com/gitlab"
    )


MR_URL = "http://example.com/diaspora/merge_requests/1"
MR_LINK = f"[gitlabhq/gitlab-test!1]({MR_URL})"
MR_A = f'<a href="{MR_URL}">gitlabhq/gitlab-test!1</a>'


@pytest.mark.parametrize(
    ("action", "payload", "expected"),
    [
        pytest.param(
            "open",
            load("merge_request.open.1.json"),
            notice(
                f'**user1** opened a new MR {MR_LINK}: "MS-Viewport"',
                f"<strong>user1</strong> opened a new MR {MR_A}: &quot;MS-Viewport&quot;",
            ),
            id="hookshot-open",
        ),
        pytest.param(
            "reopen",
            load("merge_request.open.2.json"),
            notice(
                f'**root** reopened MR {MR_LINK}: "MS-Viewport"',
                f"<strong>root</strong> reopened MR {MR_A}: &quot;MS-Viewport&quot;",
            ),
            id="hookshot-reopen",
        ),
        pytest.param(
            "close",
            load("merge_request.open.1.json"),
            notice(
                f'**user1** closed MR {MR_LINK}: "MS-Viewport"',
                f"<strong>user1</strong> closed MR {MR_A}: &quot;MS-Viewport&quot;",
            ),
            id="hookshot-close",
        ),
        pytest.param(
            "merge",
            load("merge_request.open.1.json"),
            notice(
                f'**user1** merged MR {MR_LINK}: "MS-Viewport"',
                f"<strong>user1</strong> merged MR {MR_A}: &quot;MS-Viewport&quot;",
            ),
            id="hookshot-merge",
        ),
        pytest.param(
            "update",
            load(
                "merge_request.update.2.json",
                changes={"draft": {"previous": True, "current": False}},
            ),
            notice(
                "**王加豪** marked MR [ryf/java/ruoyi-vue-plus!607]"
                "(https://hellogitlab.top/ryf/java/ruoyi-vue-plus/-/merge_requests/607)"
                ' as ready for review "fix: b端人脸认证" ',
                '<strong>王加豪</strong> marked MR <a href="https://hellogitlab.top/ryf/java/'
                'ruoyi-vue-plus/-/merge_requests/607">ryf/java/ruoyi-vue-plus!607</a>'
                " as ready for review &quot;fix: b端人脸认证&quot; ",
            ),
            id="hookshot-ready-for-review-trailing-space",
        ),
        pytest.param(
            "update",
            load(
                "merge_request.update.2.json",
                changes={"draft": {"previous": False, "current": True}},
            ),
            notice(
                "**王加豪** marked MR [ryf/java/ruoyi-vue-plus!607]"
                "(https://hellogitlab.top/ryf/java/ruoyi-vue-plus/-/merge_requests/607)"
                ' as draft "fix: b端人脸认证" ',
                '<strong>王加豪</strong> marked MR <a href="https://hellogitlab.top/ryf/java/'
                'ruoyi-vue-plus/-/merge_requests/607">ryf/java/ruoyi-vue-plus!607</a>'
                " as draft &quot;fix: b端人脸认证&quot; ",
            ),
            id="hookshot-draft",
        ),
        pytest.param("update", load("merge_request.update.2.json"), None, id="update-not-draft"),
        pytest.param("update", load("merge_request.update.1.json"), None, id="update-no-draft"),
        pytest.param("approved", load("merge_request.open.1.json"), None, id="review-is-batched"),
        # the go-gitlab group example has keys with trailing spaces: no iid, no title
        pytest.param("merge", load("merge_request.merge.1.json"), None, id="malformed"),
        pytest.param("open", {"object_kind": "merge_request"}, None, id="empty"),
    ],
)
def test_merge_request(action: str, payload: dict[str, Any], expected: object) -> None:
    assert render_merge_request(action, payload) == expected


def test_merge_request_markdown_in_title_is_rendered_like_hookshot() -> None:
    payload = load("merge_request.open.1.json", object_attributes__title="Fix *all* the <b>")
    content = render_merge_request("open", payload)
    assert content is not None
    assert content["formatted_body"] == (
        f"<strong>user1</strong> opened a new MR {MR_A}: &quot;Fix <em>all</em> the &lt;b&gt;&quot;"
    )


# Values of hookshot's own test fixtures (GITLAB_MR, GITLAB_USER, GITLAB_MR_COMMENT).
HS_MR: dict[str, Any] = {
    "iid": 1234,
    "url": "https://gitlab.example.com/a-fake-org/a-fake-repo/issues/1234",
    "title": "My MR",
    "labels": [],
}
HS_COMMENT: dict[str, Any] = {
    "object_kind": "note",
    "event_type": "note",
    "merge_request": HS_MR,
    "object_attributes": {
        "discussion_id": "6babfc4ad3be2355db286ed50be111a5220d5751",
        "note": "I am starting a new thread",
        "noteable_type": "MergeRequest",
        "url": "https://gitlab.com/tadeuszs/my-awesome-project/-/merge_requests/2#note_1455087141",
        "id": 1455087141,
    },
    "project": {"path_with_namespace": "a-fake-org/a-fake-repo"},
    "user": {"name": "Alice", "username": "alice"},
}
HS_TARGET = f'MR [a-fake-org/a-fake-repo!1234]({HS_MR["url"]}): "My MR"'
HS_TARGET_HTML = f'MR <a href="{HS_MR["url"]}">a-fake-org/a-fake-repo!1234</a>: &quot;My MR&quot;'


def comment(note: str | None = None, discussion: str = "d1") -> ReviewActivity:
    payload = copy.deepcopy(HS_COMMENT)
    payload["object_attributes"]["discussion_id"] = discussion
    if note is not None:
        payload["object_attributes"]["note"] = note
    part = review_activity("gitlab.note.created", payload, include_comment_body=note is not None)
    assert part is not None
    return part


def approval(action: str) -> ReviewActivity:
    payload = {
        "object_kind": "merge_request",
        "user": HS_COMMENT["user"],
        "project": HS_COMMENT["project"],
        "object_attributes": {**HS_MR, "action": action},
    }
    part = review_activity(f"gitlab.merge_request.{action}", payload)
    assert part is not None
    return part


@pytest.mark.parametrize(
    ("batch", "thread", "expected"),
    [
        pytest.param(
            [comment()],
            None,
            notice(
                f"**Alice** commented on {HS_TARGET}  with one comment",
                f"<strong>Alice</strong> commented on {HS_TARGET_HTML}  with one comment",
            ),
            id="hookshot-one-comment-double-space",
        ),
        pytest.param(
            [comment(discussion="d1"), comment(discussion="fa5d")],
            None,
            notice(
                f"**Alice** commented on {HS_TARGET}  with 2 comments",
                f"<strong>Alice</strong> commented on {HS_TARGET_HTML}  with 2 comments",
            ),
            id="hookshot-two-comments",
        ),
        pytest.param(
            [approval("approved")],
            None,
            notice(
                f"**Alice** ✅ approved {HS_TARGET} ",
                f"<strong>Alice</strong> ✅ approved {HS_TARGET_HTML} ",
            ),
            id="hookshot-approved-trailing-space",
        ),
        pytest.param(
            [approval("unapproved")],
            None,
            notice(
                f"**Alice** 🔴 unapproved {HS_TARGET} ",
                f"<strong>Alice</strong> 🔴 unapproved {HS_TARGET_HTML} ",
            ),
            id="hookshot-unapproved",
        ),
        pytest.param(
            [approval("approval")],
            None,
            notice(
                f"**Alice** ✅ approved {HS_TARGET} ",
                f"<strong>Alice</strong> ✅ approved {HS_TARGET_HTML} ",
            ),
            id="ours-individual-approval-is-approved",
        ),
        pytest.param(
            [comment(), approval("approved"), comment()],
            None,
            notice(
                f"**Alice** ✅ approved {HS_TARGET}  with 2 comments",
                f"<strong>Alice</strong> ✅ approved {HS_TARGET_HTML}  with 2 comments",
            ),
            id="ours-approval-survives-later-comments",
        ),
        pytest.param(
            [comment("Looks good"), comment("One *nit*")],
            None,
            notice(
                f"**Alice** commented on {HS_TARGET}  with 2 comments"
                "\n\n> Looks good\n\n> One *nit*",
                f"<p><strong>Alice</strong> commented on {HS_TARGET_HTML}  with 2 comments</p>\n"
                "<blockquote>\n<p>Looks good</p>\n</blockquote>\n"
                "<blockquote>\n<p>One <em>nit</em></p>\n</blockquote>\n",
            ),
            id="hookshot-include-comment-body",
        ),
        pytest.param(
            [comment()],
            "$root",
            notice(
                "**Alice** replied  with one comment",
                "<strong>Alice</strong> replied  with one comment",
            )
            | {"m.relates_to": {"event_id": "$root", "rel_type": "m.thread"}},
            id="hookshot-reply-in-thread",
        ),
        pytest.param([], None, None, id="empty-batch"),
    ],
)
def test_mr_review(batch: list[ReviewActivity], thread: str | None, expected: object) -> None:
    assert render_mr_review(batch, thread_event_id=thread) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "note.create.2.json",
            ReviewActivity(
                project_path="gitlab-org/gitlab-test",
                mr_iid="1",
                # ours: old payloads lack merge_request.url; the comment's URL gives it
                mr_url="http://example.com/gitlab-org/gitlab-test/merge_requests/1",
                mr_title="Tempora et eos debitis quae laborum et.",
                username="root",
                author="Administrator",
                comment_count=1,
            ),
        ),
        ("note.create.3.json", None),  # a comment on an issue
        ("note.create.1.json", None),  # on a commit
        ("note.none.4.json", None),  # on a snippet
        ("push.none.1.json", None),
    ],
)
def test_review_activity_of_corpus(name: str, expected: ReviewActivity | None) -> None:
    assert review_activity(NAMED.get(name, "gitlab.push"), load(name)) == expected


def test_review_batch_key_separates_projects() -> None:
    part = comment()
    other = dataclasses.replace(part, project_path="A-Fake-Org/other")
    assert part.batch_key == ("a-fake-org/a-fake-repo", "1234", "alice")
    assert other.batch_key != part.batch_key


PUSH_HOME = "http://example.com/mike/diaspora"


def commit(sha: str, title: str, email: str = "john@example.com") -> dict[str, Any]:
    return {"id": sha, "title": title, "author": {"name": f"N {email[0]}", "email": email}}


@pytest.mark.parametrize(
    ("payload", "regex", "expected_body"),
    [
        pytest.param(
            load("push.none.1.json"),
            None,
            f"**John Smith** pushed [4 commits]({PUSH_HOME}/-/commits/master)"
            f" to [`master`]({PUSH_HOME}/-/tree/master) for mike/diaspora\n"
            f" - [`da156088`]({PUSH_HOME}/-/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7)"
            " fixed readme by GitLab dev user\n"
            f" - [`b6568db1`]({PUSH_HOME}/-/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327)"
            " Merge branch 'some-feature' into 'master' by Jordi Mallach\n",
            id="hookshot-list-newest-first-named",
        ),
        pytest.param(
            load("push.none.2.json"),
            None,
            f"**John Smith** pushed [4 commits]({PUSH_HOME}/-/commits/master)"
            f" to [`master`]({PUSH_HOME}/-/tree/master) for mike/diaspora\n"
            f" - [`da156088`]({PUSH_HOME}/-/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7)"
            " fixed readme by GitLab dev user\n"
            f" - [`b6568db1`]({PUSH_HOME}/-/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327)"
            " Update Catalan translation to e38cb41. by Jordi Mallach\n",
            id="ours-title-from-message",
        ),
        pytest.param(
            load("push.none.1.json", commits=[commit("a" * 40, "One")], total_commits_count=1),
            None,
            f"**John Smith** pushed [1 commit]({PUSH_HOME}/-/commits/master)"
            f" to [`master`]({PUSH_HOME}/-/tree/master) for mike/diaspora:"
            f" [`aaaaaaaa`]({PUSH_HOME}/-/commit/{'a' * 40}) One",
            id="hookshot-one-commit-by-pusher",
        ),
        pytest.param(
            load(
                "push.none.1.json",
                commits=[commit(str(i) * 40, f"C{i}") for i in range(1, 7)],
                total_commits_count=6,
            ),
            None,
            f"**John Smith** pushed [6 commits]({PUSH_HOME}/-/commits/master)"
            f" to [`master`]({PUSH_HOME}/-/tree/master) for mike/diaspora:"
            f" [`66666666`]({PUSH_HOME}/-/commit/{'6' * 40}) C6,"
            f" and [5 more]({PUSH_HOME}/-/commits/master) commits",
            id="hookshot-too-many",
        ),
        pytest.param(
            load("push.none.1.json", commits=[], total_commits_count=0),
            None,
            f"**John Smith** pushed [0 commit]({PUSH_HOME}/-/commits/master)"
            f" to [`master`]({PUSH_HOME}/-/tree/master) for mike/diaspora",
            id="hookshot-new-branch-no-commits",
        ),
        pytest.param(
            load("push.none.1.json", ref="refs/heads/feature/x"),
            "^main$|^feature/",
            f"**John Smith** pushed [4 commits]({PUSH_HOME}/-/commits/feature/x)"
            f" to [`feature/x`]({PUSH_HOME}/-/tree/feature/x) for mike/diaspora\n"
            f" - [`da156088`]({PUSH_HOME}/-/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7)"
            " fixed readme by GitLab dev user\n"
            f" - [`b6568db1`]({PUSH_HOME}/-/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327)"
            " Merge branch 'some-feature' into 'master' by Jordi Mallach\n",
            id="ours-branch-regex-allows",
        ),
        pytest.param(load("push.none.1.json"), "^main$", None, id="ours-branch-regex-filters"),
        pytest.param(
            load("push.none.1.json", after="0" * 40), None, None, id="ours-deleted-branch"
        ),
    ],
)
def test_push(payload: dict[str, Any], regex: str | None, expected_body: str | None) -> None:
    content = render_push(payload, branches_regex=regex)
    if expected_body is None:
        assert content is None
        return
    assert content is not None
    assert content["body"] == expected_body
    assert content["format"] == HTML


def test_push_html_is_hookshots_untrimmed_block_render() -> None:
    content = render_push(load("push.none.1.json"))
    assert content is not None
    assert content["formatted_body"] == (
        f'<p><strong>John Smith</strong> pushed <a href="{PUSH_HOME}/-/commits/master">'
        "4 commits</a>"
        f' to <a href="{PUSH_HOME}/-/tree/master"><code>master</code></a> for mike/diaspora</p>\n'
        "<ul>\n"
        f'<li><a href="{PUSH_HOME}/-/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7">'
        "<code>da156088</code></a> fixed readme by GitLab dev user</li>\n"
        f'<li><a href="{PUSH_HOME}/-/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327">'
        "<code>b6568db1</code></a> Merge branch 'some-feature' into 'master'"
        " by Jordi Mallach</li>\n"
        "</ul>\n"
    )


TAG_HOME = "http://example.com/jsmith/example"


@pytest.mark.parametrize(
    ("payload", "regex", "expected"),
    [
        pytest.param(
            load("tag_push.none.1.json"),
            None,
            notice(
                f"**John Smith** pushed tag [`v1.0.0`]({TAG_HOME}/-/tree/v1.0.0)"
                " for jsmith/example",
                f'<strong>John Smith</strong> pushed tag <a href="{TAG_HOME}/-/tree/v1.0.0">'
                "<code>v1.0.0</code></a> for jsmith/example",
            ),
            id="hookshot-tag",
        ),
        pytest.param(
            load("tag_push.none.2.json"),
            r"^v\d+\.\d+\.\d+$",
            notice(
                f"**John Smith** pushed tag [`v1.0.0`]({TAG_HOME}/-/tree/v1.0.0)"
                " for jsmith/example",
                f'<strong>John Smith</strong> pushed tag <a href="{TAG_HOME}/-/tree/v1.0.0">'
                "<code>v1.0.0</code></a> for jsmith/example",
            ),
            id="hookshot-pushTagsRegex-matches",
        ),
        pytest.param(load("tag_push.none.2.json"), "^release-", None, id="hookshot-pushTagsRegex"),
        pytest.param(load("tag_push.none.2.json"), "(", None, id="broken-regex-allows-none"),
        pytest.param(load("tag_push.none.2.json", after="0" * 40), None, None, id="ours-deleted"),
    ],
)
def test_tag_push(payload: dict[str, Any], regex: str | None, expected: object) -> None:
    assert render_tag_push(payload, tags_regex=regex) == expected


WIKI = "http://example.com/root/awesome-project/wikis/awesome"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            load("wiki_page.create.1.json"),
            notice(
                f'**root** created new wiki page "[Awesome]({WIKI})" for root/awesome-project'
                '  "adding an awesome page to the wiki"',
                f'<strong>root</strong> created new wiki page &quot;<a href="{WIKI}">Awesome</a>'
                "&quot; for root/awesome-project  &quot;adding an awesome page to the wiki&quot;",
            ),
            id="hookshot-create-double-space",
        ),
        pytest.param(
            load("wiki_page.create.2.json", object_attributes__action="update"),
            notice(
                f'**user1** updated wiki page "[Awesome]({WIKI})" for root/awesome-project'
                '  "adding an awesome page to the wiki"',
                f'<strong>user1</strong> updated wiki page &quot;<a href="{WIKI}">Awesome</a>'
                "&quot; for root/awesome-project  &quot;adding an awesome page to the wiki&quot;",
            ),
            id="hookshot-update",
        ),
        pytest.param(
            load("wiki_page.create.2.json", object_attributes__action="delete"),
            notice(
                f'**user1** deleted wiki page "[Awesome]({WIKI})" for root/awesome-project'
                '  "adding an awesome page to the wiki"',
                f'<strong>user1</strong> deleted wiki page &quot;<a href="{WIKI}">Awesome</a>'
                "&quot; for root/awesome-project  &quot;adding an awesome page to the wiki&quot;",
            ),
            id="hookshot-delete",
        ),
        pytest.param(
            load("wiki_page.create.1.json", object_attributes__message=""),
            notice(
                f'**root** created new wiki page "[Awesome]({WIKI})" for root/awesome-project ',
                f'<strong>root</strong> created new wiki page &quot;<a href="{WIKI}">Awesome</a>'
                "&quot; for root/awesome-project ",
            ),
            id="hookshot-empty-message-trailing-space",
        ),
        pytest.param(
            load("wiki_page.create.1.json", object_attributes__message=None),
            notice(
                f'**root** created new wiki page "[Awesome]({WIKI})" for root/awesome-project ',
                f'<strong>root</strong> created new wiki page &quot;<a href="{WIKI}">Awesome</a>'
                "&quot; for root/awesome-project ",
            ),
            id="ours-no-message-is-not-undefined",
        ),
    ],
)
def test_wiki_page(payload: dict[str, Any], expected: object) -> None:
    assert render_wiki_page(payload) == expected


REL = "http://example.com/exm-namespace/example-project/-/releases/1.0.0"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            load("release.create.1.json"),
            notice(
                f"**User** 🪄 released [1.0.0]({REL}) for exm-namespace/example-project"
                "\n\nRelease!",
                f'<p><strong>User</strong> 🪄 released <a href="{REL}">1.0.0</a> for '
                "exm-namespace/example-project</p>\n<p>Release!</p>\n",
            ),
            id="hookshot-release",
        ),
        pytest.param(
            load("release.create.1.json", description=None),
            notice(
                f"**User** 🪄 released [1.0.0]({REL}) for exm-namespace/example-project\n\n",
                f'<p><strong>User</strong> 🪄 released <a href="{REL}">1.0.0</a> for '
                "exm-namespace/example-project</p>\n",
            ),
            id="ours-no-description-is-not-null",
        ),
        pytest.param(load("release.create.1.json", commit={}), None, id="no-author"),
    ],
)
def test_release(payload: dict[str, Any], expected: object) -> None:
    assert render_release(payload) == expected


PIPE_WEB = "http://192.168.64.1:3005/gitlab-org/gitlab-test"
PIPE_MR = f"[gitlab-org/gitlab-test!1]({PIPE_WEB}/merge_requests/1)"


def pipeline(status: str, **changes: Any) -> dict[str, Any]:
    payload = load("pipeline.success.1.json", **changes)
    payload["object_attributes"]["status"] = status
    return payload


def failing_builds() -> list[dict[str, Any]]:
    build = {"stage": "test", "status": "failed", "allow_failure": False}
    return [
        {**build, "id": 1, "name": "rspec"},
        {**build, "id": 2, "name": "lint", "allow_failure": True},
        {**build, "id": 3, "name": "jest"},
        {**build, "id": 4, "name": "ok", "status": "success"},
    ]


@pytest.mark.parametrize(
    ("payload", "regex", "expected_body"),
    [
        pytest.param(
            load("pipeline.success.1.json"),
            None,
            f"Pipeline [#31]({PIPE_WEB}/-/pipelines/31) ✅ passed for gitlab-org/gitlab-test"
            f" on MR {PIPE_MR} in 1m 3s (triggered by **user1**)",
            id="mr-pipeline",
        ),
        pytest.param(
            load("pipeline.success.2.json"),
            None,
            f"Pipeline **pipeline_name** [#31]({PIPE_WEB}/-/pipelines/31) ✅ passed for"
            f" gitlab-org/gitlab-test on MR {PIPE_MR} in 1m 3s (triggered by **root**)",
            id="named-with-url",
        ),
        pytest.param(
            pipeline("failed", merge_request=None, builds=failing_builds()),
            None,
            f"Pipeline [#31]({PIPE_WEB}/-/pipelines/31) ❌ failed for gitlab-org/gitlab-test"
            f" on branch [`master`]({PIPE_WEB}/-/tree/master) in 1m 3s (triggered by **user1**)."
            f" Failed jobs: [`rspec`]({PIPE_WEB}/-/jobs/1), [`jest`]({PIPE_WEB}/-/jobs/3)",
            id="failed-lists-failed-jobs",
        ),
        pytest.param(
            pipeline("running", merge_request=None, user={}),
            None,
            f"Pipeline [#31]({PIPE_WEB}/-/pipelines/31) 🏃 is running for gitlab-org/gitlab-test"
            f" on branch [`master`]({PIPE_WEB}/-/tree/master)",
            id="running-no-duration",
        ),
        pytest.param(
            pipeline("canceled", merge_request=None, object_attributes__tag=True),
            None,
            f"Pipeline [#31]({PIPE_WEB}/-/pipelines/31) 🚫 was canceled for gitlab-org/gitlab-test"
            f" on tag [`master`]({PIPE_WEB}/-/tags/master) in 1m 3s (triggered by **user1**)",
            id="tag-pipeline",
        ),
        pytest.param(
            pipeline("something_new", merge_request=None, user={}),
            None,
            f"Pipeline [#31]({PIPE_WEB}/-/pipelines/31) ℹ️ is something new for"
            f" gitlab-org/gitlab-test on branch [`master`]({PIPE_WEB}/-/tree/master)",
            id="unknown-status",
        ),
        pytest.param(load("pipeline.success.1.json"), "^main$", None, id="refs-regex-filters"),
        pytest.param(pipeline("success", object_attributes__id=None), None, None, id="no-id"),
    ],
)
def test_pipeline(payload: dict[str, Any], regex: str | None, expected_body: str | None) -> None:
    content = render_pipeline(payload, refs_regex=regex)
    if expected_body is None:
        assert content is None
        return
    assert content is not None
    assert content["body"] == expected_body


def test_pipeline_html() -> None:
    content = render_pipeline(load("pipeline.success.1.json"))
    assert content == notice(
        f"Pipeline [#31]({PIPE_WEB}/-/pipelines/31) ✅ passed for gitlab-org/gitlab-test"
        f" on MR {PIPE_MR} in 1m 3s (triggered by **user1**)",
        f'Pipeline <a href="{PIPE_WEB}/-/pipelines/31">#31</a> ✅ passed for gitlab-org/gitlab-test'
        f' on MR <a href="{PIPE_WEB}/merge_requests/1">gitlab-org/gitlab-test!1</a> in 1m 3s'
        " (triggered by <strong>user1</strong>)",
    )


def test_failed_jobs_are_capped() -> None:
    build = {"status": "failed", "allow_failure": False}
    builds = [{**build, "id": i, "name": f"j{i}"} for i in range(1, 9)]
    content = render_pipeline(pipeline("failed", builds=builds, user={}))
    assert content is not None
    assert str(content["body"]).endswith(
        f"[`j5`]({PIPE_WEB}/-/jobs/5), and 3 more",
    )


JOB_WEB = "https://gitlab.com/jsmithy2/release-tools-fake"


@pytest.mark.parametrize(
    ("payload", "expected_body"),
    [
        pytest.param(
            load("build.success.1.json"),
            f"Job [`auto_deploy:start`]({JOB_WEB}/-/jobs/3580121225) of pipeline"
            f" [#743121198]({JOB_WEB}/-/pipelines/743121198) ✅ passed for"
            f" jsmithy2/release-tools-fake on branch [`main`]({JOB_WEB}/-/tree/main) in 50s",
            id="success",
        ),
        pytest.param(
            load(
                "build.success.1.json", build_status="failed", build_failure_reason="script_failure"
            ),
            f"Job [`auto_deploy:start`]({JOB_WEB}/-/jobs/3580121225) of pipeline"
            f" [#743121198]({JOB_WEB}/-/pipelines/743121198) ❌ failed for"
            f" jsmithy2/release-tools-fake on branch [`main`]({JOB_WEB}/-/tree/main) in 50s"
            " (script failure)",
            id="failed-with-reason",
        ),
        pytest.param(
            load("build.success.1.json", build_status="failed", build_allow_failure=True),
            f"Job [`auto_deploy:start`]({JOB_WEB}/-/jobs/3580121225) of pipeline"
            f" [#743121198]({JOB_WEB}/-/pipelines/743121198) ⚠️ failed (allowed to fail) for"
            f" jsmithy2/release-tools-fake on branch [`main`]({JOB_WEB}/-/tree/main) in 50s"
            " (unknown failure)",
            id="allowed-to-fail",
        ),
        pytest.param(
            load("build.created.3.json"),
            "Job [`test`](http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/1977)"
            " 🆕 was created for gitlab-org/gitlab-test on branch [`gitlab-script-trigger`]"
            "(http://192.168.64.1:3005/gitlab-org/gitlab-test/-/tree/gitlab-script-trigger)",
            id="old-payload-without-project",
        ),
        pytest.param(load("build.success.1.json", build_name=None), None, id="no-name"),
    ],
)
def test_job(payload: dict[str, Any], expected_body: str | None) -> None:
    content = render_job(payload)
    if expected_body is None:
        assert content is None
        return
    assert content is not None
    assert content["body"] == expected_body


def test_job_refs_regex() -> None:
    assert render_job(load("build.success.1.json"), refs_regex="^release/") is None
    assert render_job(load("build.success.1.json"), refs_regex="^main$") is not None


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0s"), (45, "45s"), (63, "1m 3s"), (49.503592, "50s"), (3600, "1h"), (3723, "1h 2m 3s")],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected


ISSUE = "[gitlabhq/gitlab-test#23](http://example.com/diaspora/issues/23)"
ISSUE_A = '<a href="http://example.com/diaspora/issues/23">gitlabhq/gitlab-test#23</a>'
ISSUE_TITLE = '"New API: create/update/delete file"'
ISSUE_TITLE_HTML = "&quot;New API: create/update/delete file&quot;"


@pytest.mark.parametrize(
    ("action", "payload", "expected"),
    [
        pytest.param(
            "open",
            load("issue.open.3.json"),
            notice(
                f"**root** opened a new issue {ISSUE}: {ISSUE_TITLE}",
                f"<strong>root</strong> opened a new issue {ISSUE_A}: {ISSUE_TITLE_HTML}",
            ),
            id="open",
        ),
        pytest.param(
            "close",
            load("issue.open.2.json"),
            notice(
                f"**root** closed issue {ISSUE}: {ISSUE_TITLE}",
                f"<strong>root</strong> closed issue {ISSUE_A}: {ISSUE_TITLE_HTML}",
            ),
            id="close",
        ),
        pytest.param(
            "reopen",
            load("issue.open.2.json"),
            notice(
                f"**root** reopened issue {ISSUE}: {ISSUE_TITLE}",
                f"<strong>root</strong> reopened issue {ISSUE_A}: {ISSUE_TITLE_HTML}",
            ),
            id="reopen",
        ),
        pytest.param(
            "update",
            load("issue.open.3.json"),
            notice(
                f"**root** updated issue {ISSUE}: {ISSUE_TITLE}"
                " (title, description, labels +Platform -API)",
                f"<strong>root</strong> updated issue {ISSUE_A}: {ISSUE_TITLE_HTML}"
                " (title, description, labels +Platform -API)",
            ),
            id="update-names-changes",
        ),
        pytest.param(
            "update",
            load("issue.open.3.json", changes={"updated_at": {"previous": 1, "current": 2}}),
            None,
            id="update-bookkeeping-only",
        ),
        pytest.param("move", load("issue.open.3.json"), None, id="unknown-action"),
    ],
)
def test_issue(action: str, payload: dict[str, Any], expected: object) -> None:
    assert render_issue(action, payload) == expected


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_every_corpus_file_renders(name: str) -> None:
    """Every payload goes through naming, rendering and review parsing without an exception,
    with every hook on and every filter set."""
    conn = from_state(
        "!room:example.org",
        "uk.half-shot.matrix-hookshot.gitlab.repository",
        "inst/x",
        {
            "instance": "inst",
            "path": "x",
            "enableHooks": list(ALLOWED_HOOKS),
            "includeCommentBody": True,
            "pushTagsRegex": ".",
            "pushBranchesRegex": ".",
            "pipelineRefsRegex": ".",
            "excludingLabels": ["nope"],
        },
    )
    header = HEADERS[name]
    payload = load(name)
    event = event_name(header, payload)
    if event is None:
        assert name not in NAMED
        return
    content = conn.render(event, payload, header=header)
    part = conn.review_activity(event, payload, header=header)
    review = conn.review_notice([part]) if part else None
    for message in (content, review):
        if message is not None:
            assert message["msgtype"] == "m.notice"
            assert isinstance(message["body"], str)
            assert "undefined" not in message["body"]
            assert isinstance(message["formatted_body"], str)
    # Every event we name produces something for a room with everything on, except the ones
    # whose payloads carry no news (no draft change, issue/commit/snippet comments, malformed,
    # confidential).
    silent = {
        "issue.open.1.json",
        "merge_request.merge.1.json",
        "merge_request.update.1.json",
        "merge_request.update.2.json",
        "note.create.1.json",
        "note.create.3.json",
        "note.create.4.json",
        "note.none.1.json",
        "note.none.2.json",
        "note.none.4.json",
        "note.none.5.json",
    }
    assert (content is None and review is None) is (name in silent)
