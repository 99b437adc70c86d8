"""GitHub repository connections: the state model, validated as hookshot 7.x validates it.

State: `uk.half-shot.matrix-hookshot.github.repository` (or the legacy
`uk.half-shot.matrix-github.repository`); hookshot writes state_key = "org/repo" (older versions
wrote the repository URL), so matching always uses `org`/`repo` from the content.

Room state is read leniently (unknown `enableHooks` values kept, legacy `ignoreHooks` converted);
provisioning (`validate_new_state`) is strict, as hookshot's is for new connections.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hookshot import wire
from hookshot.core.connections import DEFAULT_PRIORITY, Connection, connection_id
from hookshot.core.digest import FIELD as DIGEST_FIELD
from hookshot.core.digest import DigestSetting, DigestTag, digest_tag, parse_digest, read_digest
from hookshot.core.state_fields import command_prefix as _command_prefix
from hookshot.core.state_fields import dotted_hook_names, enabled_hooks, linear_regex
from hookshot.core.state_fields import is_number as _is_number
from hookshot.core.state_fields import only_allowed_hooks as _only_allowed_hooks
from hookshot.core.state_fields import optional_bool as _optional_bool
from hookshot.core.state_fields import priority as _priority
from hookshot.core.state_fields import required_string as _required_string
from hookshot.core.state_fields import string_list as _string_list
from hookshot.errors import StateError

# Every hook name hookshot accepts in `enableHooks` for a new connection.
ALLOWED_HOOKS: tuple[str, ...] = (
    "issue",
    "issue.changed",
    "issue.created",
    "issue.edited",
    "issue.labeled",
    "issue.comment",
    "issue.comment.created",
    "pull_request",
    "pull_request.closed",
    "pull_request.merged",
    "pull_request.opened",
    "pull_request.ready_for_review",
    "pull_request.reviewed",
    "push",
    "release",
    "release.created",
    "release.drafted",
    "workflow",
    "workflow.run",
    "workflow.run.success",
    "workflow.run.failure",
    "workflow.run.neutral",
    "workflow.run.cancelled",
    "workflow.run.timed_out",
    "workflow.run.action_required",
    "workflow.run.stale",
)

# hookshot's enableHooks when the state has none (also the base that ignoreHooks subtracts from).
DEFAULT_HOOKS: tuple[str, ...] = (
    "issue.changed",
    "issue.created",
    "issue.edited",
    "issue.labeled",
    "issue",
    "pull_request.closed",
    "pull_request.merged",
    "pull_request.opened",
    "pull_request.ready_for_review",
    "pull_request.reviewed",
    "pull_request",
    "release.created",
)

DEFAULT_COMMAND_PREFIX = "!gh"
DEFAULT_HOTLINK_PREFIX = "#"
DEFAULT_PR_DIFF_MAX_LINES = 30  # hookshot's fallback when prDiff.maxLines is unset

# Subtrees that their dotted parent does not cover: hookshot checks comments against
# "issue.comment.created"/"issue.comment" only, so "issue" (a default) never enables them.
_DETACHED_SUBTREES = ("issue.comment",)

_KNOWN_KEYS = frozenset(
    {
        "org",
        "repo",
        "priority",
        "enableHooks",
        "ignoreHooks",
        "commandPrefix",
        "showIssueRoomLink",
        "showUrlPreviews",
        "prDiff",
        "includingLabels",
        "excludingLabels",
        "hotlinkIssues",
        "newIssue",
        "workflowRun",
        "threads",
        "ciReactions",
        DIGEST_FIELD,
    }
)


@dataclass(frozen=True)
class PrDiff:
    """`prDiff`: post a diff with new PRs of at most `max_lines` lines."""

    enabled: bool
    max_lines: int | None = None

    @property
    def effective_max_lines(self) -> int:
        return self.max_lines or DEFAULT_PR_DIFF_MAX_LINES

    def to_content(self) -> dict[str, Any]:
        content: dict[str, Any] = {"enabled": self.enabled}
        if self.max_lines is not None:
            content["maxLines"] = self.max_lines
        return content


@dataclass(frozen=True)
class HotlinkIssues:
    """`hotlinkIssues` in its object form: link `<prefix><number>` mentions."""

    prefix: str


@dataclass(frozen=True)
class WorkflowRunOptions:
    """`workflowRun`: filters for workflow run results."""

    matching_branch: str | None = None  # a regex searched in the head branch
    including_workflows: tuple[str, ...] | None = None
    excluding_workflows: tuple[str, ...] | None = None

    def to_content(self) -> dict[str, Any]:
        content: dict[str, Any] = {}
        if self.matching_branch is not None:
            content["matchingBranch"] = self.matching_branch
        if self.including_workflows is not None:
            content["includingWorkflows"] = list(self.including_workflows)
        if self.excluding_workflows is not None:
            content["excludingWorkflows"] = list(self.excluding_workflows)
        return content


@dataclass(frozen=True)
class GitHubRepoState:
    """The validated content of a GitHub repository state event.

    Optional fields are None when the content leaves them unset, so room/config defaults apply.
    `enable_hooks` is always resolved: the defaults when absent, legacy ignoreHooks folded in.
    """

    org: str
    repo: str
    enable_hooks: tuple[str, ...] = DEFAULT_HOOKS
    command_prefix: str | None = None
    show_issue_room_link: bool | None = None
    show_url_previews: bool | None = None
    pr_diff: PrDiff | None = None
    including_labels: tuple[str, ...] | None = None
    excluding_labels: tuple[str, ...] | None = None
    hotlink_issues: bool | HotlinkIssues | None = None
    new_issue_labels: tuple[str, ...] | None = None
    workflow_run: WorkflowRunOptions | None = None
    # Ours (quiet rooms): one thread per PR/issue, its root edited to the current state.
    threads: bool | None = None
    ci_reactions: bool | None = None  # with threads: CI results react on the root
    # Ours: a backlog over the threshold is sent as one digest (core/digest.py); None: off.
    digest: DigestSetting | None = None
    priority: int = DEFAULT_PRIORITY
    # Keys we do not model, kept so a rewrite does not drop them (hookshot spreads its state too).
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_content(self) -> dict[str, Any]:
        """The state content we write (hookshot's field names; enableHooks always explicit)."""
        content: dict[str, Any] = dict(self.extra)
        content.update(org=self.org, repo=self.repo, enableHooks=list(self.enable_hooks))
        if self.command_prefix is not None:
            content["commandPrefix"] = self.command_prefix
        if self.show_issue_room_link is not None:
            content["showIssueRoomLink"] = self.show_issue_room_link
        if self.show_url_previews is not None:
            content["showUrlPreviews"] = self.show_url_previews
        if self.pr_diff is not None:
            content["prDiff"] = self.pr_diff.to_content()
        if self.including_labels is not None:
            content["includingLabels"] = list(self.including_labels)
        if self.excluding_labels is not None:
            content["excludingLabels"] = list(self.excluding_labels)
        if isinstance(self.hotlink_issues, HotlinkIssues):
            content["hotlinkIssues"] = {"prefix": self.hotlink_issues.prefix}
        elif self.hotlink_issues is not None:
            content["hotlinkIssues"] = self.hotlink_issues
        if self.new_issue_labels is not None:
            content["newIssue"] = {"labels": list(self.new_issue_labels)}
        if self.workflow_run is not None:
            content["workflowRun"] = self.workflow_run.to_content()
        if self.threads is not None:
            content["threads"] = self.threads
        if self.ci_reactions is not None:
            content["ciReactions"] = self.ci_reactions
        if self.digest is not None:
            content[DIGEST_FIELD] = self.digest.to_content()
        if self.priority != DEFAULT_PRIORITY:
            content["priority"] = self.priority
        return content


def parse_state(content: Mapping[str, Any]) -> GitHubRepoState:
    """Validate state read from a room (hookshot's rules for existing state).

    Unknown `enableHooks` values are kept and legacy `ignoreHooks` is converted; raises
    StateError naming the bad field.
    """
    if not isinstance(content, Mapping):
        raise StateError("GitHub repository state must be an object")
    enable_hooks = enabled_hooks(content, convert_ignored_hooks)
    return GitHubRepoState(
        org=_required_string(content, "org"),
        repo=_required_string(content, "repo"),
        enable_hooks=DEFAULT_HOOKS if enable_hooks is None else enable_hooks,
        command_prefix=_command_prefix(content),
        show_issue_room_link=_optional_bool(content, "showIssueRoomLink"),
        show_url_previews=_optional_bool(content, "showUrlPreviews"),
        pr_diff=_pr_diff(content.get("prDiff")),
        including_labels=_string_list(content, "includingLabels"),
        excluding_labels=_string_list(content, "excludingLabels"),
        hotlink_issues=_hotlink_issues(content),
        new_issue_labels=_new_issue_labels(content.get("newIssue")),
        workflow_run=_workflow_run(content.get("workflowRun")),
        threads=_optional_bool(content, "threads"),
        ci_reactions=_optional_bool(content, "ciReactions"),
        digest=read_digest(content.get(DIGEST_FIELD), "GitHub repository connection"),
        priority=_priority(content.get("priority")),
        extra={k: v for k, v in content.items() if k not in _KNOWN_KEYS},
    )


def validate_new_state(content: Mapping[str, Any]) -> GitHubRepoState:
    """Validate state for a new connection (commands, widget): refuses `ignoreHooks`, unknown
    hook names and empty org/repo (parse_state refuses a `workflowRun.matchingBranch` that
    RE2 cannot run)."""
    if isinstance(content, Mapping) and content.get("ignoreHooks") is not None:
        raise StateError("'ignoreHooks' cannot be used with new connections; use 'enableHooks'")
    state = parse_state(content)
    try:
        parse_digest(content.get(DIGEST_FIELD))  # room state only logs a bad one
    except ValueError as err:
        raise StateError(str(err)) from None
    _only_allowed_hooks(state.enable_hooks, ALLOWED_HOOKS)
    for key, value in (("org", state.org), ("repo", state.repo)):
        if not value.strip():
            raise StateError(f"'{key}' must not be empty")
    return state


def convert_ignored_hooks(
    enabled: Sequence[str], ignored: Sequence[str], defaults: Sequence[str] = DEFAULT_HOOKS
) -> tuple[str, ...]:
    """hookshot's legacy conversion: explicit + default hooks, minus each ignored hook and its
    dotted children (parents stay, exactly as hookshot leaves them)."""
    result = list(dict.fromkeys([*enabled, *defaults]))
    for hook in ignored:
        result = [h for h in result if h != hook and not h.startswith(f"{hook}.")]
    return tuple(result)


def hook_names(name: str) -> tuple[str, ...]:
    """The enableHooks entries that turn on event `name`: itself and its dotted parents, except
    that `issue.comment*` is not under `issue` (as in hookshot)."""
    return dotted_hook_names(name, _DETACHED_SUBTREES)


def _pr_diff(value: object) -> PrDiff | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise StateError("'prDiff' must be an object")
    if "enabled" not in value:
        raise StateError("Missing 'prDiff.enabled'")
    enabled = value["enabled"]
    if not isinstance(enabled, bool):
        raise StateError("'prDiff.enabled' must be a boolean")
    max_lines = None
    if "maxLines" in value:
        raw = value["maxLines"]
        if not _is_number(raw) or not math.isfinite(raw) or raw < 1:
            raise StateError("'prDiff.maxLines' must be a number of at least 1")
        # hookshot compares a line count against it, so flooring keeps the same effect.
        max_lines = math.floor(raw)
    return PrDiff(enabled=enabled, max_lines=max_lines)


def _hotlink_issues(content: Mapping[str, Any]) -> bool | HotlinkIssues | None:
    if "hotlinkIssues" not in content:
        return None
    value = content["hotlinkIssues"]
    if isinstance(value, bool):
        return value
    if isinstance(value, Mapping):
        if "prefix" not in value:
            raise StateError("Missing 'hotlinkIssues.prefix'")
        if not isinstance(value["prefix"], str):
            raise StateError("'hotlinkIssues.prefix' must be a string")
        return HotlinkIssues(prefix=value["prefix"])
    # hookshot's schema (oneOf object|boolean) refuses null here too.
    raise StateError("'hotlinkIssues' must be a boolean or an object with a 'prefix'")


def _new_issue_labels(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise StateError("'newIssue' must be an object")
    if "labels" not in value:
        raise StateError("Missing 'newIssue.labels'")
    labels = _string_list(value, "labels", "newIssue.labels")
    if labels is None:
        raise StateError("'newIssue.labels' must be an array of strings")
    return labels


def _workflow_run(value: object) -> WorkflowRunOptions | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise StateError("'workflowRun' must be an object")
    branch = value.get("matchingBranch")
    if branch is not None and not isinstance(branch, str):
        raise StateError("'workflowRun.matchingBranch' must be a string")
    linear_regex(branch, "workflowRun.matchingBranch")
    return WorkflowRunOptions(
        matching_branch=branch,
        including_workflows=_string_list(
            value, "includingWorkflows", "workflowRun.includingWorkflows"
        ),
        excluding_workflows=_string_list(
            value, "excludingWorkflows", "workflowRun.excludingWorkflows"
        ),
    )


@dataclass(frozen=True)
class GitHubRepo(Connection):
    """A room's connection to one GitHub repository."""

    state: GitHubRepoState

    @property
    def command_prefix(self) -> str:
        return self.state.command_prefix or DEFAULT_COMMAND_PREFIX

    @property
    def full_name(self) -> str:
        """Lower-cased "org/repo", the key webhooks are matched on."""
        return f"{self.state.org}/{self.state.repo}".lower()

    def matches(self, org: str, repo: str) -> bool:
        """GitHub names are case-insensitive, and so is hookshot's matching."""
        return f"{org}/{repo}".lower() == self.full_name

    def match_keys(self) -> tuple[str, ...]:
        return (f"github:{self.full_name}",)

    def hook_enabled(self, name: str) -> bool:
        """Whether event `name` is enabled, e.g. "pull_request.opened" or "workflow.run.failure".

        Callers name a merged PR "pull_request.merged" (hookshot files merges under "closed").
        """
        enabled = self.state.enable_hooks
        return any(candidate in enabled for candidate in hook_names(name))

    @property
    def threads(self) -> bool:
        return self.state.threads is True

    @property
    def digest_tag(self) -> DigestTag | None:
        """What its messages carry while its digest is on (see core/digest.py)."""
        group = connection_id(self.room_id, wire.GITHUB_REPO, self.state_key)
        return digest_tag(group, f"{self.state.org}/{self.state.repo}", self.state.digest)

    @property
    def ci_reactions(self) -> bool:
        """CI results react on the thread root; only with threads (a reaction needs a root)."""
        return self.threads and self.state.ci_reactions is True

    def show_issue_room_link(self, default: bool = False) -> bool:
        """The room's setting, else `default` (config `github.defaultOptions`)."""
        value = self.state.show_issue_room_link
        return default if value is None else value

    def show_url_previews(self, default: bool = True) -> bool:
        """The room's setting, else `default` (config `messaging.allowUrlPreviews`)."""
        value = self.state.show_url_previews
        return default if value is None else value

    def hotlink_prefix(self, default: bool | HotlinkIssues | None = None) -> str | None:
        """The issue-mention prefix, or None when hotlinking is off; the room's setting wins over
        `default` (config `github.defaultOptions.hotlinkIssues`), and unset means "#"."""
        value = self.state.hotlink_issues
        if value is None:
            value = default
        if value is False:
            return None
        if isinstance(value, HotlinkIssues):
            return value.prefix
        return DEFAULT_HOTLINK_PREFIX


def from_state(
    room_id: str, event_type: str, state_key: str, content: Mapping[str, Any]
) -> GitHubRepo:
    """Build the connection for a state event read from a room."""
    state = parse_state(content)
    return GitHubRepo(
        room_id=room_id,
        event_type=event_type,
        state_key=state_key,
        priority=state.priority,
        state=state,
    )
