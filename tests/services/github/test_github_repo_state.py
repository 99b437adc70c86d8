"""GitHub repository connection state: hookshot's fields, defaults, validation and hook filter."""

from __future__ import annotations

from typing import Any

import pytest

from hookshot import wire
from hookshot.errors import StateError
from hookshot.services.github import repo as github_repo
from hookshot.services.github.repo import (
    ALLOWED_HOOKS,
    DEFAULT_HOOKS,
    GitHubRepoState,
    HotlinkIssues,
    PrDiff,
    WorkflowRunOptions,
    convert_ignored_hooks,
    from_state,
    hook_names,
    parse_state,
    validate_new_state,
)

EVENT_TYPE = "uk.half-shot.matrix-hookshot.github.repository"
LEGACY_EVENT_TYPE = "uk.half-shot.matrix-github.repository"
BASE = {"org": "Matrix-Org", "repo": "Matrix-Hookshot"}


def _state(**fields: Any) -> GitHubRepoState:
    return parse_state({**BASE, **fields})


def _conn(content: dict[str, Any], event_type: str = EVENT_TYPE) -> github_repo.GitHubRepo:
    return github_repo.from_state("!room:hs", event_type, "matrix-org/matrix-hookshot", content)


# --- defaults -------------------------------------------------------------------------------


def test_minimal_state_takes_hookshots_defaults() -> None:
    state = parse_state(BASE)
    assert state == GitHubRepoState(org="Matrix-Org", repo="Matrix-Hookshot")
    assert state.enable_hooks == DEFAULT_HOOKS
    conn = _conn(dict(BASE))
    assert conn.priority == -1
    assert conn.command_prefix == "!gh"
    assert conn.show_issue_room_link() is False
    assert conn.show_url_previews() is True
    assert conn.hotlink_prefix() == "#"
    assert state.pr_diff is None
    assert state.new_issue_labels is None
    assert state.workflow_run is None


def test_allowed_and_default_hooks() -> None:
    assert len(ALLOWED_HOOKS) == len(set(ALLOWED_HOOKS)) == 26
    assert set(DEFAULT_HOOKS) <= set(ALLOWED_HOOKS)
    # Off by default: comments, push, drafted releases, workflows.
    for hook in ("issue.comment", "push", "release", "release.drafted", "workflow.run"):
        assert hook not in DEFAULT_HOOKS


# --- valid values per field -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "attr", "expected"),
    [
        ({"enableHooks": ["push", "issue"]}, "enable_hooks", ("push", "issue")),
        ({"enableHooks": []}, "enable_hooks", ()),
        ({"enableHooks": None}, "enable_hooks", DEFAULT_HOOKS),
        ({"commandPrefix": "!x"}, "command_prefix", "!x"),
        ({"commandPrefix": "!" + "y" * 23}, "command_prefix", "!" + "y" * 23),
        ({"commandPrefix": None}, "command_prefix", None),
        ({"showIssueRoomLink": True}, "show_issue_room_link", True),
        ({"showIssueRoomLink": None}, "show_issue_room_link", None),
        ({"showUrlPreviews": False}, "show_url_previews", False),
        ({"prDiff": {"enabled": True}}, "pr_diff", PrDiff(enabled=True)),
        ({"prDiff": {"enabled": False, "maxLines": 55}}, "pr_diff", PrDiff(False, 55)),
        ({"prDiff": {"enabled": True, "maxLines": 1}}, "pr_diff", PrDiff(True, 1)),
        ({"prDiff": {"enabled": True, "maxLines": 2.5}}, "pr_diff", PrDiff(True, 2)),
        ({"prDiff": None}, "pr_diff", None),
        ({"includingLabels": ["bug", "ui"]}, "including_labels", ("bug", "ui")),
        ({"includingLabels": []}, "including_labels", ()),
        ({"excludingLabels": ["wontfix"]}, "excluding_labels", ("wontfix",)),
        ({"hotlinkIssues": True}, "hotlink_issues", True),
        ({"hotlinkIssues": False}, "hotlink_issues", False),
        ({"hotlinkIssues": {"prefix": "GH-"}}, "hotlink_issues", HotlinkIssues("GH-")),
        ({"hotlinkIssues": {"prefix": ""}}, "hotlink_issues", HotlinkIssues("")),
        ({"newIssue": {"labels": ["triage"]}}, "new_issue_labels", ("triage",)),
        ({"newIssue": {"labels": []}}, "new_issue_labels", ()),
        ({"newIssue": None}, "new_issue_labels", None),
        ({"workflowRun": {}}, "workflow_run", WorkflowRunOptions()),
        (
            {"workflowRun": {"matchingBranch": "^main$", "includingWorkflows": ["CI"]}},
            "workflow_run",
            WorkflowRunOptions(matching_branch="^main$", including_workflows=("CI",)),
        ),
        (
            {"workflowRun": {"excludingWorkflows": ["Docs"], "matchingBranch": None}},
            "workflow_run",
            WorkflowRunOptions(excluding_workflows=("Docs",)),
        ),
        ({"threads": True}, "threads", True),
        ({"ciReactions": False}, "ci_reactions", False),
        ({"priority": 10}, "priority", 10),
        ({"priority": -5}, "priority", -5),
        ({"priority": 3.0}, "priority", 3),
        ({"priority": None}, "priority", -1),
        ({"state": "open"}, "extra", {"state": "open"}),
    ],
)
def test_valid_field(fields: dict[str, Any], attr: str, expected: object) -> None:
    assert getattr(_state(**fields), attr) == expected


# --- invalid values: one message per field and form -----------------------------------------


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ({}, "Missing 'org'"),
        ({"repo": "r"}, "Missing 'org'"),
        ({"org": "o"}, "Missing 'repo'"),
        ({"org": 1, "repo": "r"}, "'org' must be a string"),
        ({"org": "o", "repo": False}, "'repo' must be a string"),
        ({**BASE, "enableHooks": "issue"}, "'enableHooks' must be an array of strings"),
        ({**BASE, "enableHooks": ["issue", 3]}, "'enableHooks' must be an array of strings"),
        ({**BASE, "ignoreHooks": {"issue": True}}, "'ignoreHooks' must be an array of strings"),
        ({**BASE, "commandPrefix": 5}, "'commandPrefix' must be a string"),
        ({**BASE, "commandPrefix": ""}, "'commandPrefix' must be between 2-24 characters"),
        ({**BASE, "commandPrefix": "!"}, "'commandPrefix' must be between 2-24 characters"),
        ({**BASE, "commandPrefix": "!" * 25}, "'commandPrefix' must be between 2-24 characters"),
        ({**BASE, "showIssueRoomLink": "yes"}, "'showIssueRoomLink' must be a boolean"),
        ({**BASE, "showUrlPreviews": 1}, "'showUrlPreviews' must be a boolean"),
        ({**BASE, "prDiff": True}, "'prDiff' must be an object"),
        ({**BASE, "prDiff": {}}, "Missing 'prDiff.enabled'"),
        ({**BASE, "prDiff": {"maxLines": 5}}, "Missing 'prDiff.enabled'"),
        ({**BASE, "prDiff": {"enabled": None}}, "'prDiff.enabled' must be a boolean"),
        ({**BASE, "prDiff": {"enabled": "true"}}, "'prDiff.enabled' must be a boolean"),
        (
            {**BASE, "prDiff": {"enabled": True, "maxLines": 0}},
            "'prDiff.maxLines' must be a number of at least 1",
        ),
        (
            {**BASE, "prDiff": {"enabled": True, "maxLines": "30"}},
            "'prDiff.maxLines' must be a number of at least 1",
        ),
        (
            {**BASE, "prDiff": {"enabled": True, "maxLines": None}},
            "'prDiff.maxLines' must be a number of at least 1",
        ),
        (
            {**BASE, "prDiff": {"enabled": True, "maxLines": True}},
            "'prDiff.maxLines' must be a number of at least 1",
        ),
        ({**BASE, "includingLabels": "bug"}, "'includingLabels' must be an array of strings"),
        ({**BASE, "excludingLabels": [None]}, "'excludingLabels' must be an array of strings"),
        ({**BASE, "hotlinkIssues": None}, "'hotlinkIssues' must be a boolean or an object"),
        ({**BASE, "hotlinkIssues": "#"}, "'hotlinkIssues' must be a boolean or an object"),
        ({**BASE, "hotlinkIssues": {}}, "Missing 'hotlinkIssues.prefix'"),
        ({**BASE, "hotlinkIssues": {"prefix": 1}}, "'hotlinkIssues.prefix' must be a string"),
        ({**BASE, "newIssue": []}, "'newIssue' must be an object"),
        ({**BASE, "newIssue": {}}, "Missing 'newIssue.labels'"),
        ({**BASE, "newIssue": {"labels": None}}, "'newIssue.labels' must be an array of strings"),
        ({**BASE, "newIssue": {"labels": "a,b"}}, "'newIssue.labels' must be an array of strings"),
        ({**BASE, "workflowRun": "main"}, "'workflowRun' must be an object"),
        (
            {**BASE, "workflowRun": {"matchingBranch": 1}},
            "'workflowRun.matchingBranch' must be a string",
        ),
        (
            {**BASE, "workflowRun": {"includingWorkflows": "CI"}},
            "'workflowRun.includingWorkflows' must be an array of strings",
        ),
        (
            {**BASE, "workflowRun": {"excludingWorkflows": [1]}},
            "'workflowRun.excludingWorkflows' must be an array of strings",
        ),
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


def test_non_object_content_is_refused() -> None:
    with pytest.raises(StateError, match="must be an object"):
        parse_state(["org", "repo"])  # type: ignore[arg-type]


def test_empty_org_is_hookshot_valid_existing_state() -> None:
    assert parse_state({"org": "", "repo": "r"}).org == ""


# --- new state (provisioning) is stricter ---------------------------------------------------


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ({**BASE, "ignoreHooks": ["issue"]}, "'ignoreHooks' cannot be used with new connections"),
        ({**BASE, "ignoreHooks": []}, "'ignoreHooks' cannot be used with new connections"),
        ({**BASE, "enableHooks": ["issue", "nope", "pr"]}, "Found invalid values: nope, pr"),
        ({"org": "", "repo": "r"}, "'org' must not be empty"),
        ({"org": "o", "repo": " "}, "'repo' must not be empty"),
        ({**BASE, "workflowRun": {"matchingBranch": "(main"}}, "cannot be run in linear time"),
        ({**BASE, "commandPrefix": "!"}, "'commandPrefix' must be between 2-24"),
    ],
)
def test_validate_new_state_refuses(content: dict[str, Any], error: str) -> None:
    with pytest.raises(StateError, match=error):
        validate_new_state(content)


def test_validate_new_state_fills_default_hooks_and_accepts_every_allowed_hook() -> None:
    assert validate_new_state(BASE).to_content()["enableHooks"] == list(DEFAULT_HOOKS)
    every = {**BASE, "enableHooks": list(ALLOWED_HOOKS)}
    assert validate_new_state(every).enable_hooks == ALLOWED_HOOKS


def test_existing_state_keeps_unknown_hooks() -> None:
    # hookshot only checks hook names for new connections.
    assert _state(enableHooks=["not-real", "push"]).enable_hooks == ("not-real", "push")


# --- legacy ignoreHooks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # A root removes itself and its children; everything else of the defaults stays.
        (
            {"ignoreHooks": ["issue"]},
            tuple(h for h in DEFAULT_HOOKS if not h.startswith("issue")),
        ),
        # Explicit hooks come first, then the defaults, without duplicates.
        (
            {"ignoreHooks": ["issue"], "enableHooks": ["issue", "pull_request", "release"]},
            (
                "pull_request",
                "release",
                "pull_request.closed",
                "pull_request.merged",
                "pull_request.opened",
                "pull_request.ready_for_review",
                "pull_request.reviewed",
                "release.created",
            ),
        ),
        # A child goes, its parent stays (so hookshot still delivers it; kept for compatibility).
        (
            {"ignoreHooks": ["pull_request.merged"]},
            tuple(h for h in DEFAULT_HOOKS if h != "pull_request.merged"),
        ),
        # hookshot tests the array for truthiness: [] still merges in the defaults.
        ({"ignoreHooks": [], "enableHooks": ["push"]}, ("push", *DEFAULT_HOOKS)),
        # null is absent: enableHooks stands as written.
        ({"ignoreHooks": None, "enableHooks": ["push"]}, ("push",)),
        ({"ignoreHooks": ["release", "pull_request", "issue"]}, ()),
    ],
)
def test_ignore_hooks_conversion(fields: dict[str, Any], expected: tuple[str, ...]) -> None:
    state = _state(**fields)
    assert state.enable_hooks == expected
    content = state.to_content()
    assert "ignoreHooks" not in content
    assert content["enableHooks"] == list(expected)


def test_convert_ignored_hooks_prefix_is_dotted() -> None:
    # "issue" must not swallow a hypothetical "issues.x": only dotted children go.
    assert convert_ignored_hooks(["issues.x"], ["issue"], ["issue"]) == ("issues.x",)


def test_ignore_hooks_conversion_disables_events() -> None:
    conn = _conn({**BASE, "ignoreHooks": ["pull_request", "release"]})
    assert conn.hook_enabled("issue.created")
    assert not conn.hook_enabled("pull_request.opened")
    assert not conn.hook_enabled("release.created")


# --- matching -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("org", "repo", "expected"),
    [
        ("matrix-org", "matrix-hookshot", True),
        ("MATRIX-ORG", "matrix-HOOKSHOT", True),
        ("Matrix-Org", "Matrix-Hookshot", True),
        ("matrix-org", "matrix-hookshot-2", False),
        ("matrix", "org/matrix-hookshot", False),
        ("other", "matrix-hookshot", False),
    ],
)
def test_matches_case_insensitively(org: str, repo: str, expected: bool) -> None:
    conn = _conn(dict(BASE))
    assert conn.full_name == "matrix-org/matrix-hookshot"
    assert conn.matches(org, repo) is expected


# --- hook hierarchy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "names"),
    [
        ("push", ("push",)),
        ("issue.created", ("issue.created", "issue")),
        ("issue.comment.created", ("issue.comment.created", "issue.comment")),
        ("pull_request.merged", ("pull_request.merged", "pull_request")),
        ("release.drafted", ("release.drafted", "release")),
        ("workflow.run.failure", ("workflow.run.failure", "workflow.run", "workflow")),
    ],
)
def test_hook_names(name: str, names: tuple[str, ...]) -> None:
    assert hook_names(name) == names


@pytest.mark.parametrize(
    ("enabled", "event", "expected"),
    [
        (["pull_request"], "pull_request.opened", True),
        (["pull_request"], "pull_request.merged", True),
        (["pull_request.opened"], "pull_request.opened", True),
        (["pull_request.opened"], "pull_request.closed", False),
        (["pull_request.opened"], "pull_request", False),
        (["issue"], "issue.created", True),
        (["issue"], "issue.labeled", True),
        # hookshot consults only "issue.comment.created"/"issue.comment" for comments.
        (["issue"], "issue.comment.created", False),
        (["issue.comment"], "issue.comment.created", True),
        (["issue.comment.created"], "issue.comment.created", True),
        # We honour pull_request.merged; hookshot files merges under closed.
        (["pull_request.merged"], "pull_request.merged", True),
        (["pull_request.closed"], "pull_request.merged", False),
        (["pull_request.merged"], "pull_request.closed", False),
        (["release"], "release.created", True),
        (["release.created"], "release.drafted", False),
        (["workflow"], "workflow.run.success", True),
        (["workflow.run"], "workflow.run.skipped", True),
        (["workflow.run.failure"], "workflow.run.failure", True),
        (["workflow.run.failure"], "workflow.run.success", False),
        (["push"], "push", True),
        ([], "push", False),
        ([], "issue.created", False),
        (["Issue"], "issue.created", False),  # names are case-sensitive, as in hookshot
    ],
)
def test_hook_enabled(enabled: list[str], event: str, expected: bool) -> None:
    assert _conn({**BASE, "enableHooks": enabled}).hook_enabled(event) is expected


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("issue.created", True),
        ("issue.changed", True),
        ("issue.edited", True),
        ("issue.labeled", True),
        ("issue.comment.created", False),
        ("pull_request.opened", True),
        ("pull_request.closed", True),
        ("pull_request.merged", True),
        ("pull_request.ready_for_review", True),
        ("pull_request.reviewed", True),
        ("release.created", True),
        ("release.drafted", False),
        ("push", False),
        ("workflow.run.success", False),
    ],
)
def test_default_hooks_enable(event: str, expected: bool) -> None:
    assert _conn(dict(BASE)).hook_enabled(event) is expected


# --- per-connection settings with config defaults -------------------------------------------


@pytest.mark.parametrize(
    ("hotlink", "default", "expected"),
    [
        (None, None, "#"),
        (None, True, "#"),
        (None, False, None),
        (None, HotlinkIssues("GH-"), "GH-"),
        (True, False, "#"),
        (False, HotlinkIssues("GH-"), None),  # the room wins (hookshot lets the config win)
        (HotlinkIssues("!"), HotlinkIssues("GH-"), "!"),
    ],
)
def test_hotlink_prefix(
    hotlink: bool | HotlinkIssues | None,
    default: bool | HotlinkIssues | None,
    expected: str | None,
) -> None:
    state = GitHubRepoState(org="o", repo="r", hotlink_issues=hotlink)
    conn = github_repo.GitHubRepo("!r", EVENT_TYPE, "o/r", -1, state)
    assert conn.hotlink_prefix(default) == expected


def test_room_settings_override_config_defaults() -> None:
    unset = _conn(dict(BASE))
    assert unset.show_issue_room_link(default=True) is True
    assert unset.show_url_previews(default=False) is False
    set_ = _conn({**BASE, "showIssueRoomLink": False, "showUrlPreviews": True})
    assert set_.show_issue_room_link(default=True) is False
    assert set_.show_url_previews(default=False) is True


def test_pr_diff_max_lines_default() -> None:
    assert PrDiff(enabled=True).effective_max_lines == 30
    assert PrDiff(enabled=True, max_lines=5).effective_max_lines == 5


def test_command_prefix_and_priority() -> None:
    conn = _conn({**BASE, "commandPrefix": "!repo", "priority": 7})
    assert conn.command_prefix == "!repo"
    assert conn.priority == 7
    assert conn.key == ("!room:hs", EVENT_TYPE, "matrix-org/matrix-hookshot")


# --- round trip and hookshot-written contents -----------------------------------------------

FULL = {
    "org": "Matrix-Org",
    "repo": "Matrix-Hookshot",
    "enableHooks": ["issue", "pull_request", "release", "workflow.run.failure"],
    "commandPrefix": "!hs",
    "showIssueRoomLink": True,
    "showUrlPreviews": False,
    "prDiff": {"enabled": True, "maxLines": 55},
    "includingLabels": ["bug", "feature"],
    "excludingLabels": ["wontfix"],
    "hotlinkIssues": {"prefix": "GH-"},
    "newIssue": {"labels": ["triage"]},
    "workflowRun": {
        "matchingBranch": "^(main|release/.*)$",
        "includingWorkflows": ["CI"],
        "excludingWorkflows": ["Docs"],
    },
    "priority": 4,
    "someFutureKey": {"kept": True},
}


def test_round_trip_is_exact() -> None:
    state = parse_state(FULL)
    assert state.to_content() == FULL
    assert parse_state(state.to_content()) == state
    assert validate_new_state(FULL) == state


@pytest.mark.parametrize("hotlink", [True, False, {"prefix": "#"}])
def test_round_trip_hotlink_forms(hotlink: object) -> None:
    content = {**BASE, "enableHooks": list(DEFAULT_HOOKS), "hotlinkIssues": hotlink}
    assert parse_state(content).to_content() == content


def test_round_trip_fills_enable_hooks_like_hookshot_rewrites() -> None:
    assert parse_state(BASE).to_content() == {**BASE, "enableHooks": list(DEFAULT_HOOKS)}


# Contents as hookshot writes them (provisioning, room creation, matrix-github) or documents them.
HOOKSHOT_CONTENTS: list[tuple[str, dict[str, Any]]] = [
    # `!hookshot github repo https://github.com/my/project`: lower-cased names, explicit defaults.
    (EVENT_TYPE, {"org": "my", "repo": "project", "enableHooks": list(DEFAULT_HOOKS)}),
    # A room created by joining #github_org_repo: an extra `state` key hookshot never reads.
    (EVENT_TYPE, {"org": "matrix-org", "repo": "matrix-hookshot", "state": "open"}),
    # Widget / provisioning API with every documented option.
    (EVENT_TYPE, {key: value for key, value in FULL.items() if key != "someFutureKey"}),
    # matrix-github era state under the legacy type.
    (
        LEGACY_EVENT_TYPE,
        {
            "org": "half-shot",
            "repo": "matrix-github",
            "ignoreHooks": ["issue"],
            "commandPrefix": "!gh",
        },
    ),
    # Opting into workflow results for one branch, with the documented option forms.
    (
        EVENT_TYPE,
        {
            "org": "my",
            "repo": "project",
            "enableHooks": ["workflow.run.success", "workflow.run.failure"],
            "workflowRun": {"matchingBranch": "main"},
        },
    ),
]


@pytest.mark.parametrize(("event_type", "content"), HOOKSHOT_CONTENTS)
def test_hookshot_written_contents_parse(event_type: str, content: dict[str, Any]) -> None:
    conn = _conn(content, event_type)
    assert conn.event_type == event_type
    assert conn.full_name == f"{content['org']}/{content['repo']}".lower()
    written = conn.state.to_content()
    # Everything hookshot wrote survives a rewrite, except the legacy key it converts.
    for key, value in content.items():
        if key != "ignoreHooks":
            assert written[key] == value


def test_threads_round_trip_and_ci_reactions_need_threads() -> None:
    state = parse_state({**BASE, "threads": True, "ciReactions": True})
    assert state.to_content()["threads"] is True and state.to_content()["ciReactions"] is True
    assert "threads" not in parse_state(BASE).to_content()
    conn = from_state("!r:x", "t", "o/r", {**BASE, "ciReactions": True})
    assert not conn.threads and not conn.ci_reactions  # a reaction needs a thread root


def test_digest_field() -> None:
    base = {"org": "Org", "repo": "App"}
    state = github_repo.parse_state({**base, "digest": {"threshold": 25}})
    assert state.digest is not None and state.digest.threshold == 25
    assert state.to_content()["digest"] == {"threshold": 25}
    assert "digest" not in state.extra
    lenient = github_repo.parse_state({**base, "digest": {"threshold": "lots"}})
    assert lenient.digest is not None and lenient.digest.threshold is None
    with pytest.raises(StateError, match=r"'digest\.threshold' must be a whole number"):
        github_repo.validate_new_state({**base, "digest": {"threshold": "lots"}})
    conn = github_repo.from_state("!r", wire.GITHUB_REPO, "org/app", {**base, "digest": True})
    assert conn.digest_tag is not None and conn.digest_tag.label == "Org/App"
    plain = github_repo.from_state("!r", wire.GITHUB_REPO, "org/app", base)
    assert plain.digest_tag is None
