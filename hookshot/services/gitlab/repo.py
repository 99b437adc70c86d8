"""GitLab project connections: the state model, validated as hookshot 7.x validates it, and
which notices a room gets.

State: `uk.half-shot.matrix-hookshot.gitlab.repository` (or the legacy
`uk.half-shot.matrix-github.gitlab.repository`), state_key `<instance>/<path>`; content
`instance` (a name from config `gitlab.instances`) and `path`. A path may name a group: the
room then gets the events of every project below it.

Room state is read leniently (unknown `enableHooks` values kept, legacy `ignoreHooks`
converted); provisioning (`validate_new_state`) is strict, as hookshot's is for new connections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from hookshot import wire
from hookshot.core.connections import DEFAULT_PRIORITY, Connection
from hookshot.core.state_fields import command_prefix as _command_prefix
from hookshot.core.state_fields import enabled_hooks, linear_regex, only_allowed_hooks
from hookshot.core.state_fields import optional_bool as _optional_bool
from hookshot.core.state_fields import priority as _priority
from hookshot.core.state_fields import string_list as _string_list
from hookshot.errors import StateError
from hookshot.services.gitlab.ci import (
    FINISHED_STATUSES,
    STATUS_TEXT,
    render_job,
    render_pipeline,
)
from hookshot.services.gitlab.format import (
    URL_PREVIEWS_KEY,
    Content,
    ReviewActivity,
    is_confidential,
    label_titles,
    obj,
    render_merge_request,
    render_mr_review,
    render_push,
    render_release,
    render_tag_push,
    render_wiki_page,
    review_activity,
)
from hookshot.services.gitlab.issues import ISSUE_VERBS, render_issue

EVENT_TYPE: Final = wire.GITLAB_REPO
LEGACY_EVENT_TYPE: Final = wire.GITLAB_REPO_LEGACY
EVENT_TYPES: Final = wire.GITLAB_REPO_TYPES

# hookshot's `AllowedEvents` (main adds "pipeline"); also its default when enableHooks is unset.
HOOKSHOT_HOOKS: Final[tuple[str, ...]] = (
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
DEFAULT_HOOKS: Final = HOOKSHOT_HOOKS
# Ours, opt-in: `pipeline.<status>`/`job.<status>` (bare `pipeline`/`job` = finished ones),
# issues, and wiki actions (hookshot checks `wiki.<action>` but refuses it in new state).
OUR_HOOKS: Final[tuple[str, ...]] = (
    *(f"pipeline.{status}" for status in STATUS_TEXT),
    "job",
    *(f"job.{status}" for status in STATUS_TEXT),
    "issue",
    *(f"issue.{action}" for action in ISSUE_VERBS),
    "wiki.create",
    "wiki.update",
    "wiki.delete",
)
ALLOWED_HOOKS: Final = HOOKSHOT_HOOKS + OUR_HOOKS

DEFAULT_COMMAND_PREFIX: Final = "!gl"

_REGEX_KEYS = ("pushTagsRegex", "pushBranchesRegex", "pipelineRefsRegex")
_KNOWN_KEYS = frozenset(
    {
        "instance",
        "path",
        "priority",
        "enableHooks",
        "ignoreHooks",
        "commandPrefix",
        "includeCommentBody",
        "includingLabels",
        "excludingLabels",
        "showUrlPreviews",
        "threads",
        "ciReactions",
        *_REGEX_KEYS,
    }
)
_REVIEW_HOOKS = frozenset(
    {
        "merge_request.approved",
        "merge_request.unapproved",
        "merge_request.review.individual",
        "merge_request.review.comments",
    }
)
_MR_HOOKS: Mapping[str, str] = {
    "open": "merge_request.open",
    "reopen": "merge_request.reopen",
    "close": "merge_request.close",
    "merge": "merge_request.merge",
    "update": "merge_request.ready_for_review",
    # hookshot checks `merge_request.<action>` besides `merge_request.review` for these.
    "approved": "merge_request.approved",
    "unapproved": "merge_request.unapproved",
    "approval": "merge_request.review.individual",
    "unapproval": "merge_request.review.individual",
}


@dataclass(frozen=True)
class GitLabRepoState:
    """The validated content of a GitLab project state event.

    Optional fields are None when unset. `enable_hooks` is always resolved: the defaults when
    absent, legacy ignoreHooks folded in.
    """

    instance: str
    path: str
    enable_hooks: tuple[str, ...] = DEFAULT_HOOKS
    command_prefix: str | None = None
    push_tags_regex: str | None = None
    push_branches_regex: str | None = None  # ours
    pipeline_refs_regex: str | None = None  # ours
    including_labels: tuple[str, ...] | None = None
    excluding_labels: tuple[str, ...] | None = None
    include_comment_body: bool | None = None
    show_url_previews: bool | None = None  # ours for GitLab
    priority: int = DEFAULT_PRIORITY
    # Ours (quiet rooms): one thread per MR/issue, its root edited to the current state.
    threads: bool | None = None
    ci_reactions: bool | None = None  # with threads: MR pipelines react on the root
    # Keys we do not model, kept so a rewrite does not drop them (hookshot spreads its state too).
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_content(self) -> dict[str, Any]:
        """The state content we write (hookshot's field names; enableHooks always explicit)."""
        content: dict[str, Any] = dict(self.extra)
        content.update(instance=self.instance, path=self.path, enableHooks=list(self.enable_hooks))
        optional: dict[str, Any] = {
            "commandPrefix": self.command_prefix,
            "pushTagsRegex": self.push_tags_regex,
            "pushBranchesRegex": self.push_branches_regex,
            "pipelineRefsRegex": self.pipeline_refs_regex,
            "includingLabels": _list(self.including_labels),
            "excludingLabels": _list(self.excluding_labels),
            "includeCommentBody": self.include_comment_body,
            "showUrlPreviews": self.show_url_previews,
            "threads": self.threads,
            "ciReactions": self.ci_reactions,
        }
        content.update({k: v for k, v in optional.items() if v is not None})
        if self.priority != DEFAULT_PRIORITY:
            content["priority"] = self.priority
        return content


def parse_state(content: Mapping[str, Any]) -> GitLabRepoState:
    """Validate state read from a room (hookshot's rules for existing state).

    Unknown `enableHooks` values are kept and legacy `ignoreHooks` is converted; raises
    StateError naming the bad field.
    """
    if not isinstance(content, Mapping):
        raise StateError("GitLab project state must be an object")
    enable_hooks = enabled_hooks(content, convert_ignored_hooks)
    for key in _REGEX_KEYS:
        # Refused when written: a room's pattern must not be able to stall the bridge.
        linear_regex(_optional_string(content, key), key)
    return GitLabRepoState(
        instance=_required_string(content, "instance"),
        path=_required_string(content, "path"),
        enable_hooks=DEFAULT_HOOKS if enable_hooks is None else enable_hooks,
        command_prefix=_command_prefix(content),
        push_tags_regex=_optional_string(content, "pushTagsRegex"),
        push_branches_regex=_optional_string(content, "pushBranchesRegex"),
        pipeline_refs_regex=_optional_string(content, "pipelineRefsRegex"),
        including_labels=_string_list(content, "includingLabels"),
        excluding_labels=_string_list(content, "excludingLabels"),
        include_comment_body=_optional_bool(content, "includeCommentBody"),
        show_url_previews=_optional_bool(content, "showUrlPreviews"),
        threads=_optional_bool(content, "threads"),
        ci_reactions=_optional_bool(content, "ciReactions"),
        priority=_priority(content.get("priority")),
        extra={k: v for k, v in content.items() if k not in _KNOWN_KEYS},
    )


def validate_new_state(content: Mapping[str, Any]) -> GitLabRepoState:
    """Validate state for a new connection (commands, widget): refuses `ignoreHooks`, unknown
    hook names and regexes that do not compile."""
    if isinstance(content, Mapping) and content.get("ignoreHooks") is not None:
        raise StateError("'ignoreHooks' cannot be used with new connections; use 'enableHooks'")
    state = parse_state(content)
    only_allowed_hooks(state.enable_hooks, ALLOWED_HOOKS)
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
    """The enableHooks entries that turn on hook `name`, as hookshot checks them.

    Dotted parents count, except that `merge_request.review` does not cover
    `merge_request.review.individual`, `merge_request.(un)approved` sit under
    `merge_request.review`, and a bare `pipeline`/`job` covers finished statuses only.
    """
    if name in ("merge_request.approved", "merge_request.unapproved"):
        return (name, "merge_request.review", "merge_request")
    if name == "merge_request.review.individual":
        return (name, "merge_request")
    kind, _, status = name.partition(".")
    if kind in ("pipeline", "job") and status:
        return (name, kind) if status in FINISHED_STATUSES else (name,)
    parts = name.split(".")
    return tuple(".".join(parts[:end]) for end in range(len(parts), 0, -1))


def hook_for_event(event: str, payload: Mapping[str, Any]) -> str | None:
    """The hook name that governs event `event` (from `formatting.gitlab.event_name`)."""
    kind, _, rest = event.removeprefix("gitlab.").partition(".")
    if kind == "merge_request":
        return _MR_HOOKS.get(rest)
    if kind == "note":
        return "merge_request.review.comments" if rest == "created" else None
    if kind in ("push", "tag_push"):
        return kind
    if kind == "wiki_page":
        action = obj(payload.get("object_attributes")).get("action")
        return f"wiki.{action}" if isinstance(action, str) else "wiki"
    if kind == "release":
        return "release.created" if rest == "create" else None
    if kind in ("pipeline", "job", "issue") and rest:
        return f"{kind}.{rest}"
    return None


def normalize_instance_url(url: str) -> str:
    """`url` compared case-insensitively in scheme and host, without default port or "/"."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class GitLabRepo(Connection):
    """A room's connection to one GitLab project, or to every project of a group."""

    state: GitLabRepoState
    instance_url: str | None = None  # config gitlab.instances[state.instance].url

    @property
    def command_prefix(self) -> str:
        return self.state.command_prefix or DEFAULT_COMMAND_PREFIX

    @property
    def path(self) -> str:
        """Lower-cased project or group path (GitLab paths are case-insensitive)."""
        return self.state.path.strip("/").lower()

    @property
    def include_comment_body(self) -> bool:
        return self.state.include_comment_body is True

    @property
    def threads(self) -> bool:
        return self.state.threads is True

    @property
    def ci_reactions(self) -> bool:
        """MR pipelines react on the thread root; only with threads (a reaction needs a root)."""
        return self.threads and self.state.ci_reactions is True

    def match_keys(self) -> tuple[str, ...]:
        return (f"gitlab:{self.path}",)

    def matches(self, instance_url: str | None, project_path: str) -> bool:
        """Whether events of `project_path` on `instance_url` come to this room: the project
        itself, or any project below a group path. An unknown URL on either side matches any
        instance (hookshot compares paths only)."""
        if (
            instance_url
            and self.instance_url
            and normalize_instance_url(instance_url) != normalize_instance_url(self.instance_url)
        ):
            return False
        path = self.path
        project = project_path.strip("/").lower()
        return bool(path) and (project == path or project.startswith(f"{path}/"))

    def hook_enabled(self, name: str) -> bool:
        """Whether hook `name` is on, e.g. "merge_request.open", "pipeline.failed", "issue.open"."""
        enabled = self.state.enable_hooks
        return any(candidate in enabled for candidate in hook_names(name))

    def matches_labels(self, labels: Sequence[str]) -> bool:
        """hookshot's label filter: no excluded label, and an included one when any are set."""
        excluding = self.state.excluding_labels or ()
        including = self.state.including_labels or ()
        if any(label in labels for label in excluding):
            return False
        return not including or any(label in labels for label in including)

    def show_url_previews(self, default: bool = True) -> bool:
        """The room's setting, else `default`."""
        value = self.state.show_url_previews
        return default if value is None else value

    def render(
        self, event: str, payload: Mapping[str, Any], *, header: str | None = None
    ) -> Content | None:
        """The notice this room gets for a delivery, or None. Review activity (approvals, MR
        comments) is batched instead: see `review_activity` and `review_notice`."""
        hook = hook_for_event(event, payload)
        if hook is None or hook in _REVIEW_HOOKS or not self.hook_enabled(hook):
            return None
        if is_confidential(header, payload):
            return None
        kind, _, rest = event.removeprefix("gitlab.").partition(".")
        content: Content | None = None
        if kind == "merge_request" and self.matches_labels(label_titles(payload)):
            # Ours: the label filter also applies to draft changes (hookshot forgets it there).
            content = render_merge_request(rest, payload)
        elif kind == "push":
            content = render_push(payload, branches_regex=self.state.push_branches_regex)
        elif kind == "tag_push":
            content = render_tag_push(payload, tags_regex=self.state.push_tags_regex)
        elif kind == "wiki_page":
            content = render_wiki_page(payload)
        elif kind == "release":
            content = render_release(payload)
        elif kind == "pipeline":
            content = render_pipeline(payload, refs_regex=self.state.pipeline_refs_regex)
        elif kind == "job":
            content = render_job(payload, refs_regex=self.state.pipeline_refs_regex)
        elif kind == "issue" and self.matches_labels(_issue_labels(payload)):
            content = render_issue(rest, payload)
        return self._finish(content)

    def review_activity(
        self, event: str, payload: Mapping[str, Any], *, header: str | None = None
    ) -> ReviewActivity | None:
        """This room's part of an approval or MR comment, to batch by `batch_key`; None when
        the room does not want it."""
        hook = hook_for_event(event, payload)
        if hook not in _REVIEW_HOOKS or not self.hook_enabled(hook):
            return None
        if is_confidential(header, payload):
            return None  # ours: internal notes stay in GitLab
        labelled = (
            obj(payload.get("merge_request")) if event.startswith("gitlab.note.") else payload
        )
        if not self.matches_labels(label_titles(labelled)):
            return None
        return review_activity(event, payload, include_comment_body=self.include_comment_body)

    def review_notice(
        self, batch: Sequence[ReviewActivity], *, thread_event_id: str | None = None
    ) -> Content | None:
        """The notice for a batch of review activity (one user, one MR)."""
        return self._finish(render_mr_review(batch, thread_event_id=thread_event_id))

    def _finish(self, content: Content | None) -> Content | None:
        if content is not None and not self.show_url_previews():
            content[URL_PREVIEWS_KEY] = []
        return content


def from_state(
    room_id: str,
    event_type: str,
    state_key: str,
    content: Mapping[str, Any],
    instance_url: str | None = None,
) -> GitLabRepo:
    """Build the connection for a state event read from a room; `instance_url` is the URL of
    the configured instance named by the state (None matches any instance)."""
    state = parse_state(content)
    return GitLabRepo(
        room_id=room_id,
        event_type=event_type,
        state_key=state_key,
        priority=state.priority,
        state=state,
        instance_url=instance_url,
    )


def is_gitlab_repo_type(event_type: str) -> bool:
    return event_type in EVENT_TYPES


def _issue_labels(payload: Mapping[str, Any]) -> tuple[str, ...]:
    labels = label_titles(payload)
    return labels or label_titles(obj(payload.get("object_attributes")))


def _list(values: tuple[str, ...] | None) -> list[str] | None:
    return None if values is None else list(values)


def _required_string(content: Mapping[str, Any], key: str) -> str:
    value = content.get(key)
    if value is None:
        raise StateError(f"Missing '{key}'")
    if not isinstance(value, str):
        raise StateError(f"'{key}' must be a string")
    if not value:
        # hookshot's constructor refuses these: "Invalid state, missing `path` or `instance`".
        raise StateError(f"'{key}' must not be empty")
    return value


def _optional_string(content: Mapping[str, Any], key: str) -> str | None:
    value = content.get(key)
    if value is not None and not isinstance(value, str):
        raise StateError(f"'{key}' must be a string")
    return value
