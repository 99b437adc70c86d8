"""Forgejo/Gitea repository connections: the state model and the filters.

State (ours): `org.hookshot-python.forgejo.repository`, state_key `<instance>/<owner>/<repo>`
(lower-cased), content:

    {"instance": "codeberg", "owner": "forgejo", "repo": "forgejo",
     "enableHooks": [...], "includingLabels": [...], "excludingLabels": [...],
     "branches": ["main", "release/*"], "commandPrefix": "!forgejo", "priority": 0,
     "threads": true, "ciReactions": true}

`enableHooks` names are the GitHub connection's where both have the event (`issue.created`,
`pull_request.merged`, `workflow.run.failure`, ...); `branches` are shell-style globs matched
against the branch of a push, a created/deleted ref, a pull request's base and a workflow
run's branch (globs, not regexes: room admins cannot write a pattern that runs for hours).
`threads` puts each pull request's and issue's notices into its own thread, `ciReactions`
(only with threads) makes CI results react on the thread's root (docs/quiet-rooms.md).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hookshot.core.connections import DEFAULT_PRIORITY, Connection
from hookshot.core.state_fields import command_prefix as _command_prefix
from hookshot.core.state_fields import dotted_hook_names, only_allowed_hooks
from hookshot.core.state_fields import optional_bool as _optional_bool
from hookshot.core.state_fields import priority as _priority
from hookshot.core.state_fields import required_string as _required_string
from hookshot.core.state_fields import string_list as _string_list
from hookshot.errors import StateError

ALLOWED_HOOKS: tuple[str, ...] = (
    "push",
    "ref",
    "ref.created",
    "ref.deleted",
    "issue",
    "issue.created",
    "issue.changed",
    "issue.edited",
    "issue.labeled",
    "issue.comment",
    "issue.comment.created",
    "pull_request",
    "pull_request.opened",
    "pull_request.closed",
    "pull_request.merged",
    "pull_request.reopened",
    "pull_request.edited",
    "pull_request.labeled",
    "pull_request.reviewed",
    "pull_request.synchronized",
    "release",
    "release.published",
    "workflow",
    "workflow.run",
    "workflow.run.success",
    "workflow.run.failure",
    "workflow.run.recover",
    "workflow.run.cancelled",
    "workflow.run.skipped",
)

# Without `enableHooks`: what the GitHub connection sends by default, plus comments and
# failed runs; pushes, branch/tag changes and synchronize are opt-in (they are the noisy ones).
DEFAULT_HOOKS: tuple[str, ...] = (
    "issue.created",
    "issue.changed",
    "issue.edited",
    "issue.labeled",
    "issue.comment.created",
    "pull_request.opened",
    "pull_request.closed",
    "pull_request.merged",
    "pull_request.reopened",
    "pull_request.reviewed",
    "release.published",
    "workflow.run.failure",
    "workflow.run.recover",
)

DEFAULT_COMMAND_PREFIX = "!forgejo"
# Globs longer than this are refused: a branch filter is a few names, not a program.
MAX_GLOB = 200
MAX_BRANCHES = 50

_KNOWN_KEYS = frozenset(
    {
        "instance",
        "owner",
        "repo",
        "enableHooks",
        "includingLabels",
        "excludingLabels",
        "branches",
        "commandPrefix",
        "priority",
        "threads",
        "ciReactions",
    }
)


@dataclass(frozen=True)
class ForgejoRepoState:
    instance: str
    owner: str
    repo: str
    enable_hooks: tuple[str, ...] = DEFAULT_HOOKS
    including_labels: tuple[str, ...] | None = None
    excluding_labels: tuple[str, ...] | None = None
    branches: tuple[str, ...] | None = None
    command_prefix: str | None = None
    priority: int = DEFAULT_PRIORITY
    # Ours (quiet rooms): one thread per PR/issue, its root edited to the current state.
    threads: bool | None = None
    ci_reactions: bool | None = None  # with threads: CI results react on the root
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_content(self) -> dict[str, Any]:
        content: dict[str, Any] = dict(self.extra)
        content.update(
            instance=self.instance,
            owner=self.owner,
            repo=self.repo,
            enableHooks=list(self.enable_hooks),
        )
        for key, value in (
            ("includingLabels", self.including_labels),
            ("excludingLabels", self.excluding_labels),
            ("branches", self.branches),
        ):
            if value is not None:
                content[key] = list(value)
        if self.command_prefix is not None:
            content["commandPrefix"] = self.command_prefix
        if self.priority != DEFAULT_PRIORITY:
            content["priority"] = self.priority
        if self.threads is not None:
            content["threads"] = self.threads
        if self.ci_reactions is not None:
            content["ciReactions"] = self.ci_reactions
        return content


def state_key(instance: str, owner: str, repo: str) -> str:
    return f"{instance}/{owner}/{repo}".lower()


def parse_state(content: Mapping[str, Any]) -> ForgejoRepoState:
    """Validate state read from a room; raises StateError naming the bad field."""
    if not isinstance(content, Mapping):
        raise StateError("Forgejo repository state must be an object")
    hooks = _string_list(content, "enableHooks")
    branches = _string_list(content, "branches")
    if branches is not None:
        if len(branches) > MAX_BRANCHES:
            raise StateError(f"'branches' may hold at most {MAX_BRANCHES} patterns")
        if any(len(glob) > MAX_GLOB for glob in branches):
            raise StateError(f"'branches' patterns may be at most {MAX_GLOB} characters")
    state = ForgejoRepoState(
        instance=_required_string(content, "instance"),
        owner=_required_string(content, "owner"),
        repo=_required_string(content, "repo"),
        enable_hooks=DEFAULT_HOOKS if hooks is None else hooks,
        including_labels=_string_list(content, "includingLabels"),
        excluding_labels=_string_list(content, "excludingLabels"),
        branches=branches,
        command_prefix=_command_prefix(content),
        priority=_priority(content.get("priority")),
        threads=_optional_bool(content, "threads"),
        ci_reactions=_optional_bool(content, "ciReactions"),
        extra={k: v for k, v in content.items() if k not in _KNOWN_KEYS},
    )
    for key, value in (("instance", state.instance), ("owner", state.owner), ("repo", state.repo)):
        if not value.strip():
            raise StateError(f"'{key}' must not be empty")
    return state


def validate_new_state(content: Mapping[str, Any]) -> ForgejoRepoState:
    """For a new connection (commands, widget): hook names must be known ones."""
    state = parse_state(content)
    only_allowed_hooks(state.enable_hooks, ALLOWED_HOOKS)
    return state


def hook_names(name: str) -> tuple[str, ...]:
    """The enableHooks entries that turn on `name`: itself and its dotted parents, except that
    comments are not under `issue` (as for GitHub connections)."""
    return dotted_hook_names(name, ("issue.comment",))


def branch_of(ref: str) -> str:
    """`refs/heads/main` -> `main`; a short name stays as it is."""
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


@dataclass(frozen=True)
class ForgejoRepo(Connection):
    """A room's connection to one repository on one Forgejo or Gitea instance."""

    state: ForgejoRepoState
    instance_url: str = ""  # the instance's base URL from config, no trailing slash

    @property
    def command_prefix(self) -> str:
        return self.state.command_prefix or DEFAULT_COMMAND_PREFIX

    @property
    def full_name(self) -> str:
        return f"{self.state.owner}/{self.state.repo}".lower()

    @property
    def web_url(self) -> str:
        return f"{self.instance_url}/{self.state.owner}/{self.state.repo}"

    @property
    def threads(self) -> bool:
        return self.state.threads is True

    @property
    def ci_reactions(self) -> bool:
        """CI results react on the thread root; only with threads (a reaction needs a root)."""
        return self.threads and self.state.ci_reactions is True

    def match_keys(self) -> tuple[str, ...]:
        return (f"forgejo:{self.full_name}",)

    def matches(self, repo_html_url: str) -> bool:
        """Whether a delivery's `repository.html_url` is this repository on this instance."""
        return repo_html_url.rstrip("/").lower() == self.web_url.lower()

    def hook_enabled(self, name: str) -> bool:
        return any(candidate in self.state.enable_hooks for candidate in hook_names(name))

    def branch_wanted(self, branch: str | None) -> bool:
        """No `branches` means every branch; an event without a branch always passes."""
        globs = self.state.branches
        if globs is None or branch is None:
            return True
        return any(fnmatch.fnmatchcase(branch, glob) for glob in globs)

    def labels_wanted(self, labels: Sequence[str]) -> bool:
        """hookshot's label filters: any of `includingLabels`, none of `excludingLabels`."""
        including, excluding = self.state.including_labels, self.state.excluding_labels
        if including is not None and not any(label in including for label in labels):
            return False
        return not (excluding is not None and any(label in excluding for label in labels))


def from_state(
    room_id: str,
    event_type: str,
    state_key: str,
    content: Mapping[str, Any],
    *,
    instance_url: str = "",
) -> ForgejoRepo:
    state = parse_state(content)
    return ForgejoRepo(
        room_id=room_id,
        event_type=event_type,
        state_key=state_key,
        priority=state.priority,
        state=state,
        instance_url=instance_url.rstrip("/"),
    )
