"""GitLab project connections (`hookshot.services.gitlab.repo`): state validation as hookshot
7.x does it, hook names, project/group matching and which notices a room gets.

Rows marked "hookshot" follow `src/Connections/GitlabRepo.ts`, `src/HookFilter.ts` and
`tests/connections/GitlabRepoTest.ts`; "ours" rows are our additions or deliberate differences.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.paths import CORPORA

from hookshot.errors import StateError
from hookshot.services.gitlab.format import URL_PREVIEWS_KEY, event_name
from hookshot.services.gitlab.repo import (
    ALLOWED_HOOKS,
    DEFAULT_HOOKS,
    EVENT_TYPE,
    EVENT_TYPES,
    LEGACY_EVENT_TYPE,
    GitLabRepo,
    GitLabRepoState,
    convert_ignored_hooks,
    from_state,
    hook_for_event,
    hook_names,
    is_gitlab_repo_type,
    normalize_instance_url,
    parse_state,
    validate_new_state,
)

CORPUS = CORPORA / "gitlab"
BASE = {"instance": "gitlab", "path": "my-group/my-project"}


def load(name: str, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((CORPUS / name).read_text())
    payload.update(changes)
    return payload


def conn(instance_url: str | None = "https://gitlab.example.com", **content: Any) -> GitLabRepo:
    return from_state(
        "!room:example.org",
        EVENT_TYPE,
        "gitlab/my-group/my-project",
        {**BASE, **content},
        instance_url=instance_url,
    )


def test_event_types() -> None:
    assert EVENT_TYPE == "uk.half-shot.matrix-hookshot.gitlab.repository"
    assert LEGACY_EVENT_TYPE == "uk.half-shot.matrix-github.gitlab.repository"
    assert all(is_gitlab_repo_type(t) for t in EVENT_TYPES)
    assert not is_gitlab_repo_type("uk.half-shot.matrix-hookshot.github.repository")


def test_defaults() -> None:
    c = conn()
    assert c.state == GitLabRepoState(instance="gitlab", path="my-group/my-project")
    assert c.command_prefix == "!gl"
    assert c.priority == -1
    assert c.state.enable_hooks == DEFAULT_HOOKS
    assert c.include_comment_body is False
    assert c.show_url_previews() is True
    assert c.show_url_previews(default=False) is False
    assert c.key == ("!room:example.org", EVENT_TYPE, "gitlab/my-group/my-project")


def test_hookshot_default_hooks() -> None:
    # hookshot: DefaultHooks = AllowedEvents (main also lists "pipeline").
    assert DEFAULT_HOOKS == (
        "merge_request.open",
        "merge_request.reopen",
        "merge_request.close",
        "merge_request.merge",
        "merge_request.review",
        "merge_request.review.individual",
        "merge_request.ready_for_review",
        "merge_request.review.comments",
        "merge_request",
        "tag_push",
        "push",
        "wiki",
        "release",
        "release.created",
        "pipeline",
    )


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ({"path": "a/b"}, "Missing 'instance'"),
        ({"instance": "gitlab"}, "Missing 'path'"),
        ({"instance": 1, "path": "a/b"}, "'instance' must be a string"),
        ({"instance": "gitlab", "path": 123}, "'path' must be a string"),  # hookshot test
        ({"instance": "", "path": "a/b"}, "'instance' must not be empty"),
        ({**BASE, "path": ""}, "'path' must not be empty"),
        ({**BASE, "enableHooks": "push"}, "'enableHooks' must be an array of strings"),
        ({**BASE, "enableHooks": [1]}, "'enableHooks' must be an array of strings"),
        ({**BASE, "ignoreHooks": {}}, "'ignoreHooks' must be an array of strings"),
        ({**BASE, "commandPrefix": "!"}, "between 2-24"),
        ({**BASE, "commandPrefix": "!" * 25}, "between 2-24"),
        ({**BASE, "commandPrefix": 5}, "'commandPrefix' must be a string"),
        ({**BASE, "pushTagsRegex": 5}, "'pushTagsRegex' must be a string"),
        ({**BASE, "pushBranchesRegex": []}, "'pushBranchesRegex' must be a string"),
        ({**BASE, "pipelineRefsRegex": True}, "'pipelineRefsRegex' must be a string"),
        ({**BASE, "includingLabels": "bug"}, "'includingLabels' must be an array of strings"),
        ({**BASE, "excludingLabels": [None]}, "'excludingLabels' must be an array of strings"),
        ({**BASE, "includeCommentBody": "yes"}, "'includeCommentBody' must be a boolean"),
        ({**BASE, "showUrlPreviews": 0}, "'showUrlPreviews' must be a boolean"),
        ({**BASE, "threads": "yes"}, "'threads' must be a boolean"),
        ({**BASE, "ciReactions": 1}, "'ciReactions' must be a boolean"),
        ({**BASE, "priority": "high"}, "'priority' must be an integer"),
        ({**BASE, "priority": True}, "'priority' must be an integer"),
        ({**BASE, "priority": 1.5}, "'priority' must be an integer"),
    ],
)
def test_invalid_state(content: dict[str, Any], error: str) -> None:
    with pytest.raises(StateError, match=error):
        parse_state(content)


def test_state_must_be_an_object() -> None:
    with pytest.raises(StateError, match="must be an object"):
        parse_state(["not", "an", "object"])  # type: ignore[arg-type]


def test_full_state_round_trips() -> None:
    content = {
        "instance": "gitlab",
        "path": "My-Group/Project",
        "enableHooks": ["merge_request", "pipeline.failed", "issue.open"],
        "commandPrefix": "!gitlab",
        "pushTagsRegex": "^v",
        "pushBranchesRegex": "^main$",
        "pipelineRefsRegex": "^(main|release/.*)$",
        "includingLabels": ["bug"],
        "excludingLabels": ["wontfix"],
        "includeCommentBody": True,
        "showUrlPreviews": False,
        "threads": True,
        "ciReactions": True,
        "priority": 5,
        "somethingElse": {"kept": True},
    }
    state = parse_state(content)
    assert state.enable_hooks == ("merge_request", "pipeline.failed", "issue.open")
    assert state.push_branches_regex == "^main$"
    assert state.priority == 5
    assert state.extra == {"somethingElse": {"kept": True}}
    assert state.to_content() == content
    assert parse_state(state.to_content()) == state


def test_minimal_state_writes_explicit_hooks() -> None:
    assert parse_state(BASE).to_content() == {**BASE, "enableHooks": list(DEFAULT_HOOKS)}


def test_nulls_are_unset() -> None:
    # hookshot's schema marks every optional field nullable.
    state = parse_state({**BASE, "enableHooks": None, "commandPrefix": None, "priority": None})
    assert state == GitLabRepoState(instance="gitlab", path="my-group/my-project")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            {"ignoreHooks": ["merge_request"]},
            tuple(h for h in DEFAULT_HOOKS if not h.startswith("merge_request")),
            id="hookshot-ignore-parent-drops-children",
        ),
        pytest.param(
            {"ignoreHooks": ["merge_request.open", "wiki"]},
            tuple(h for h in DEFAULT_HOOKS if h not in ("merge_request.open", "wiki")),
            id="ignore-child-keeps-parent",
        ),
        pytest.param({"ignoreHooks": []}, DEFAULT_HOOKS, id="empty-ignore-gives-defaults"),
        pytest.param(
            {"ignoreHooks": ["push"], "enableHooks": ["job"]},
            ("job", *(h for h in DEFAULT_HOOKS if h != "push")),
            id="explicit-plus-defaults",
        ),
    ],
)
def test_ignore_hooks_conversion(content: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert parse_state({**BASE, **content}).enable_hooks == expected


def test_convert_ignored_hooks_keeps_order_and_dedupes() -> None:
    assert convert_ignored_hooks(["push", "x"], ["x"], ["push", "wiki"]) == ("push", "wiki")


def test_existing_state_keeps_unknown_hooks() -> None:
    # hookshot test: "will allow enabledHooks to contains invalid enums if this is old state".
    assert parse_state({**BASE, "enableHooks": ["not-real"]}).enable_hooks == ("not-real",)


def test_new_state_accepts_hookshots_complete_config() -> None:
    # hookshot test: "can validate a completes state config".
    state = validate_new_state(
        {
            "instance": "foo",
            "path": "bar/baz",
            "enableHooks": [
                "merge_request.open",
                "merge_request.reopen",
                "merge_request.close",
                "merge_request.merge",
                "merge_request.review",
                "merge_request.review.comments",
                "merge_request",
                "tag_push",
                "push",
                "wiki",
                "release",
                "release.created",
            ],
            "commandPrefix": "!gl",
            "pushTagsRegex": ".*",
            "includingLabels": ["me"],
            "excludingLabels": ["but-not-me"],
        }
    )
    assert state.including_labels == ("me",)


def test_new_state_accepts_every_allowed_hook() -> None:
    assert validate_new_state({**BASE, "enableHooks": list(ALLOWED_HOOKS)}).enable_hooks == (
        ALLOWED_HOOKS
    )


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ({"enableHooks": ["not-real"]}, "must only contain allowed values.*not-real"),
        ({"enableHooks": ["pipeline.bogus"]}, "pipeline.bogus"),
        ({"ignoreHooks": ["push"]}, "'ignoreHooks' cannot be used with new connections"),
        ({"pushTagsRegex": "("}, "'pushTagsRegex' cannot be run in linear time"),
        ({"pushBranchesRegex": "[a-"}, "'pushBranchesRegex' cannot be run in linear time"),
        ({"pipelineRefsRegex": "*"}, "'pipelineRefsRegex' cannot be run in linear time"),
        ({"pushTagsRegex": "(?=v)v1"}, "'pushTagsRegex' cannot be run in linear time"),
        ({"pushTagsRegex": r"(v)\1"}, "'pushTagsRegex' uses a backreference"),
        ({"path": 123}, "'path' must be a string"),
    ],
)
def test_invalid_new_state(content: dict[str, Any], error: str) -> None:
    with pytest.raises(StateError, match=error):
        validate_new_state({**BASE, **content})


def test_new_state_accepts_js_named_groups() -> None:
    assert validate_new_state({**BASE, "pushTagsRegex": r"^v(?<major>\d+)"}).push_tags_regex


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("push", ("push",)),
        ("merge_request.open", ("merge_request.open", "merge_request")),
        ("wiki.create", ("wiki.create", "wiki")),
        (
            "merge_request.review.comments",
            ("merge_request.review.comments", "merge_request.review", "merge_request"),
        ),
        # hookshot: shouldSkip("merge_request", "merge_request.review.individual")
        ("merge_request.review.individual", ("merge_request.review.individual", "merge_request")),
        # hookshot: shouldSkip("merge_request", "merge_request.review", "merge_request.approved")
        (
            "merge_request.approved",
            ("merge_request.approved", "merge_request.review", "merge_request"),
        ),
        ("pipeline.failed", ("pipeline.failed", "pipeline")),
        ("pipeline.running", ("pipeline.running",)),
        ("job.success", ("job.success", "job")),
        ("job.pending", ("job.pending",)),
        ("issue.update", ("issue.update", "issue")),
    ],
)
def test_hook_names(name: str, expected: tuple[str, ...]) -> None:
    assert hook_names(name) == expected


@pytest.mark.parametrize(
    ("enable_hooks", "hook", "enabled"),
    [
        (None, "merge_request.open", True),
        (None, "merge_request.review.individual", True),  # hookshot: defaults list it
        (None, "pipeline.success", True),
        (None, "pipeline.running", False),  # ours: progress is opt-in
        (None, "job.failed", False),  # ours: jobs are opt-in
        (None, "issue.open", False),  # ours: issues are opt-in
        (["merge_request"], "merge_request.close", True),
        (["merge_request.review"], "merge_request.review.individual", False),  # hookshot
        (["merge_request.review"], "merge_request.review.comments", True),
        (["merge_request.review"], "merge_request.unapproved", True),
        (["merge_request.approved"], "merge_request.approved", True),  # hookshot legacy name
        (["merge_request.review.comments"], "merge_request.review.comments", True),  # ours
        (["push"], "pipeline.success", False),  # hookshot test: wrong hook
        ([], "pipeline.failed", False),  # hookshot test: no hooks
        (["pipeline"], "pipeline.canceled", True),
        (["pipeline.running"], "pipeline.running", True),
        (["pipeline.failed"], "pipeline.success", False),
        (["job"], "job.success", True),
        (["issue"], "issue.update", True),
        (["wiki.delete"], "wiki.create", False),
        (["release"], "release.created", True),
    ],
)
def test_hook_enabled(enable_hooks: list[str] | None, hook: str, enabled: bool) -> None:
    content: dict[str, Any] = {} if enable_hooks is None else {"enableHooks": enable_hooks}
    assert conn(**content).hook_enabled(hook) is enabled


@pytest.mark.parametrize(
    ("event", "payload", "hook"),
    [
        ("gitlab.merge_request.open", {}, "merge_request.open"),
        ("gitlab.merge_request.update", {}, "merge_request.ready_for_review"),
        ("gitlab.merge_request.approved", {}, "merge_request.approved"),
        ("gitlab.merge_request.approval", {}, "merge_request.review.individual"),
        ("gitlab.merge_request.unapproval", {}, "merge_request.review.individual"),
        ("gitlab.merge_request.bogus", {}, None),
        ("gitlab.note.created", {}, "merge_request.review.comments"),
        ("gitlab.note.updated", {}, None),
        ("gitlab.push", {}, "push"),
        ("gitlab.tag_push", {}, "tag_push"),
        ("gitlab.wiki_page", {"object_attributes": {"action": "delete"}}, "wiki.delete"),
        ("gitlab.wiki_page", {}, "wiki"),
        ("gitlab.release.create", {}, "release.created"),
        ("gitlab.release.update", {}, None),
        ("gitlab.pipeline.failed", {}, "pipeline.failed"),
        ("gitlab.job.success", {}, "job.success"),
        ("gitlab.issue.close", {}, "issue.close"),
        ("gitlab.pipeline", {}, None),
        ("github.push", {}, None),
    ],
)
def test_hook_for_event(event: str, payload: dict[str, Any], hook: str | None) -> None:
    assert hook_for_event(event, payload) == hook


@pytest.mark.parametrize(
    ("path", "instance_url", "project", "matches"),
    [
        ("my-group/my-project", "https://gitlab.example.com", "my-group/my-project", True),
        ("My-Group/My-Project", "https://gitlab.example.com", "my-group/MY-project", True),
        ("my-group/my-project", "https://GitLab.Example.com:443/", "my-group/my-project", True),
        ("my-group/my-project", "https://gitlab.example.com", "my-group/my-project2", False),
        ("my-group/my-project", "https://gitlab.example.com", "my-group", False),
        ("my-group/my-project", "https://other.example.com", "my-group/my-project", False),
        ("my-group/my-project", "http://gitlab.example.com", "my-group/my-project", False),
        ("my-group/my-project", None, "my-group/my-project", True),  # hookshot: path only
        # ours: a group connection covers every project below it, at any depth
        ("my-group", "https://gitlab.example.com", "my-group/my-project", True),
        ("my-group", "https://gitlab.example.com", "my-group/sub/deep/project", True),
        ("my-group/", "https://gitlab.example.com", "My-Group/x", True),
        ("my-group", "https://gitlab.example.com", "my-group-two/project", False),
        ("my-group/sub", "https://gitlab.example.com", "my-group/project", False),
    ],
)
def test_matches(path: str, instance_url: str | None, project: str, matches: bool) -> None:
    assert conn(path=path).matches(instance_url, project) is matches


def test_matches_without_a_configured_instance_url() -> None:
    assert conn(instance_url=None).matches("https://anything.example", "my-group/my-project")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://GitLab.example.com/", "https://gitlab.example.com"),
        ("https://gitlab.example.com:443", "https://gitlab.example.com"),
        ("http://gitlab.example.com:80/gitlab/", "http://gitlab.example.com/gitlab"),
        ("https://gitlab.example.com:8443/", "https://gitlab.example.com:8443"),
    ],
)
def test_normalize_instance_url(url: str, expected: str) -> None:
    assert normalize_instance_url(url) == expected


@pytest.mark.parametrize(
    ("including", "excluding", "labels", "matches"),
    [
        (None, None, [], True),
        ([], [], ["x"], True),
        (["include-me"], None, [], False),  # hookshot test: issues with no labels
        (["include-me"], None, ["foo"], False),
        (["include-me"], None, ["include-me"], True),
        (None, ["exclude-me"], ["exclude-me"], False),
        (["a"], ["b"], ["a", "b"], False),  # exclusion wins
    ],
)
def test_matches_labels(
    including: list[str] | None, excluding: list[str] | None, labels: list[str], matches: bool
) -> None:
    content: dict[str, Any] = {}
    if including is not None:
        content["includingLabels"] = including
    if excluding is not None:
        content["excludingLabels"] = excluding
    assert conn(**content).matches_labels(labels) is matches


def render(c: GitLabRepo, name: str, payload: dict[str, Any] | None = None) -> object:
    payload = load(name) if payload is None else payload
    header = {"issue.open.1.json": "Confidential Issue Hook"}.get(name, "X")
    event = event_name(header, payload)
    assert event is not None
    return c.render(event, payload, header=header)


@pytest.mark.parametrize(
    ("content", "name", "sent"),
    [
        ({}, "merge_request.open.1.json", True),
        ({"enableHooks": ["push"]}, "merge_request.open.1.json", False),
        ({"enableHooks": ["merge_request.open"]}, "merge_request.open.1.json", True),
        ({"includingLabels": ["include-me"]}, "merge_request.open.1.json", False),  # hookshot
        ({"includingLabels": ["API"]}, "merge_request.open.1.json", True),
        ({"excludingLabels": ["API"]}, "merge_request.open.1.json", False),
        ({}, "push.none.1.json", True),
        ({"pushBranchesRegex": "^main$"}, "push.none.1.json", False),  # ours
        ({"pushBranchesRegex": "^master$"}, "push.none.1.json", True),
        ({"pushTagsRegex": "^release"}, "tag_push.none.1.json", False),  # hookshot
        ({"pushTagsRegex": "^v1"}, "tag_push.none.1.json", True),
        ({}, "wiki_page.create.1.json", True),
        ({"enableHooks": ["wiki.update"]}, "wiki_page.create.1.json", False),
        ({}, "release.create.1.json", True),
        ({}, "pipeline.success.1.json", True),  # hookshot main: "pipeline" is a default
        ({"enableHooks": ["push"]}, "pipeline.success.1.json", False),
        ({"pipelineRefsRegex": "^main$"}, "pipeline.success.1.json", False),  # ours
        ({}, "build.success.1.json", False),  # ours: jobs are opt-in
        ({"enableHooks": ["job"]}, "build.success.1.json", True),
        ({"enableHooks": ["job"]}, "build.created.1.json", False),  # progress is opt-in
        ({"enableHooks": ["job.created"]}, "build.created.1.json", True),
        ({}, "issue.open.3.json", False),  # ours: issues are opt-in
        ({"enableHooks": ["issue"]}, "issue.open.3.json", True),
        ({"enableHooks": ["issue"], "includingLabels": ["bug"]}, "issue.open.3.json", False),
        ({"enableHooks": ["issue"]}, "issue.open.1.json", False),  # ours: confidential
        ({}, "note.create.2.json", False),  # comments are batched, see review_activity
    ],
)
def test_render_applies_hooks_and_filters(content: dict[str, Any], name: str, sent: bool) -> None:
    assert (render(conn(**content), name) is not None) is sent


def test_ready_for_review_applies_the_label_filter() -> None:
    # ours: hookshot checks labels for every MR notice except this one.
    payload = load(
        "merge_request.update.2.json",
        changes={"draft": {"previous": True, "current": False}},
        labels=[{"title": "wip-bot"}],
    )
    assert render(conn(), "merge_request.update.2.json", payload) is not None
    assert render(conn(excludingLabels=["wip-bot"]), "x", payload) is None
    assert render(conn(enableHooks=["merge_request.open"]), "x", payload) is None


def test_url_previews_off_adds_an_empty_preview_list() -> None:
    content = render(conn(showUrlPreviews=False), "merge_request.open.1.json")
    assert isinstance(content, dict)
    assert content[URL_PREVIEWS_KEY] == []
    assert URL_PREVIEWS_KEY not in render(conn(), "merge_request.open.1.json")  # type: ignore[operator]


def mr_comment(**mr: Any) -> dict[str, Any]:
    payload = load("note.create.2.json")
    payload["merge_request"].update(mr)
    return payload


@pytest.mark.parametrize(
    ("content", "event", "payload", "wanted"),
    [
        ({}, "gitlab.note.created", mr_comment(), True),
        ({"enableHooks": ["push"]}, "gitlab.note.created", mr_comment(), False),
        ({"enableHooks": ["merge_request.review"]}, "gitlab.note.created", mr_comment(), True),
        # hookshot test: comments are filtered on the MR's labels
        ({"includingLabels": ["include-me"]}, "gitlab.note.created", mr_comment(labels=[]), False),
        ({"excludingLabels": ["Element"]}, "gitlab.note.created", mr_comment(), False),
        ({"includingLabels": ["Afterpod"]}, "gitlab.note.created", mr_comment(), True),
        ({}, "gitlab.note.updated", mr_comment(), False),
        ({}, "gitlab.note.created", load("note.create.3.json"), False),  # issue comment
        ({}, "gitlab.note.created", {**mr_comment(), "event_type": "confidential_note"}, False),
        ({}, "gitlab.merge_request.approved", load("merge_request.open.1.json"), True),
        (
            {"enableHooks": ["merge_request.review"]},
            "gitlab.merge_request.approval",
            load("merge_request.open.1.json"),
            False,
        ),
        (
            {"excludingLabels": ["API"]},
            "gitlab.merge_request.unapproved",
            load("merge_request.open.1.json"),
            False,
        ),
        ({}, "gitlab.merge_request.open", load("merge_request.open.1.json"), False),
    ],
)
def test_review_activity(
    content: dict[str, Any], event: str, payload: dict[str, Any], wanted: bool
) -> None:
    assert (conn(**content).review_activity(event, payload) is not None) is wanted


def test_review_activity_carries_the_comment_body_when_asked() -> None:
    plain = conn().review_activity("gitlab.note.created", mr_comment())
    with_body = conn(includeCommentBody=True).review_activity("gitlab.note.created", mr_comment())
    assert plain is not None
    assert with_body is not None
    assert plain.note is None
    assert with_body.note == "This MR needs work."
    notice = conn(includeCommentBody=True, showUrlPreviews=False).review_notice([with_body])
    assert notice is not None
    assert notice["body"] == (
        "**Administrator** commented on MR [gitlab-org/gitlab-test!1]"
        "(http://example.com/gitlab-org/gitlab-test/merge_requests/1):"
        ' "Tempora et eos debitis quae laborum et."  with one comment\n\n> This MR needs work.'
    )
    assert notice[URL_PREVIEWS_KEY] == []


def test_from_state_carries_priority_and_instance() -> None:
    c = from_state(
        "!r:x", LEGACY_EVENT_TYPE, "gl/a/b", {**BASE, "priority": 10}, "https://gl.example"
    )
    assert c.priority == 10
    assert c.event_type == LEGACY_EVENT_TYPE
    assert c.instance_url == "https://gl.example"
    assert c.path == "my-group/my-project"


def test_ci_reactions_need_threads() -> None:
    assert "threads" not in parse_state(BASE).to_content()
    assert not conn(ciReactions=True).ci_reactions  # a reaction needs a thread root
    both = conn(threads=True, ciReactions=True)
    assert both.threads and both.ci_reactions
