"""GitLab's REST API (v4) for the bridge, on httpx.

A `GitLabClient` is one user's token on one instance (`gitlab.instances`). It makes the calls
matrix-hookshot makes (src/Gitlab/Client.ts) and nothing else:

    GET  /user                                   `gitlab personaltoken` checks a token
    GET  /projects/:id                           provisioning reads the project (id, access)
    GET  /projects/:id/members/all/:user_id      hookshot's access check (Developer to bridge)
    GET  /projects/:id/hooks                     is our webhook already there?
    POST /projects/:id/hooks                     add it (needs Maintainer)
    GET  /projects  (or /groups/:id/projects)    the widget's project picker
    POST /projects/:id/issues                    `create` / `create-confidential`
    GET  /projects/:id/issues/:iid               `gitlab open issue`
    PUT  /projects/:id/issues/:iid               `close` (state_event=close)
    POST /projects/:id/issues/:iid/notes         a Matrix reply becomes an issue comment

`:id` is a numeric id or the URL-encoded path (`group%2Fproject`). Every failure comes out as
a `GitLabError` whose message is meant for the user.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from types import MappingProxyType, TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from hookshot.errors import CommandError
from hookshot.services.gitlab.config import GitLabConfig

T = TypeVar("T")

USER_AGENT: Final = "hookshot-python"
API_PREFIX: Final = "/api/v4"
DEFAULT_TIMEOUT: Final = 15.0
# Hook lists are paged by GitLab (20 by default); a cap keeps a runaway Link chain finite.
_PAGE_SIZE: Final = 100
_MAX_PAGES: Final = 20
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class AccessLevel(IntEnum):
    """GitLab's role values; hookshot bridges from Developer and adds hooks from Maintainer."""

    NO_ACCESS = 0
    MINIMAL_ACCESS = 5
    GUEST = 10
    PLANNER = 15  # GitLab 17.7+
    REPORTER = 20
    DEVELOPER = 30
    MAINTAINER = 40
    OWNER = 50


# What hookshot asks for when it creates a project hook (GitlabRepo.ts provisionConnection).
HOOKSHOT_HOOK_EVENTS: Final[Mapping[str, bool]] = MappingProxyType(
    {
        "issues_events": True,
        "merge_requests_events": True,
        "push_events": True,
        "releases_events": True,
        "tag_push_events": True,
        "wiki_page_events": True,
    }
)
# Hookshot's set plus what this bridge also renders: MR review comments (note events, which
# hookshot's own hook never subscribes to) and pipelines/jobs. Confidential events stay off.
BRIDGE_HOOK_EVENTS: Final[Mapping[str, bool]] = MappingProxyType(
    {**HOOKSHOT_HOOK_EVENTS, "note_events": True, "pipeline_events": True, "job_events": True}
)
# The event switches GitLab's project hook API takes; GitLab silently ignores any other key,
# so a typo would quietly subscribe to nothing.
HOOK_EVENT_FIELDS: Final = frozenset(
    {
        "push_events",
        "tag_push_events",
        "issues_events",
        "confidential_issues_events",
        "merge_requests_events",
        "note_events",
        "confidential_note_events",
        "job_events",
        "pipeline_events",
        "wiki_page_events",
        "deployment_events",
        "releases_events",
        "feature_flag_events",
        "emoji_events",
        "resource_access_token_events",
        "member_events",
        "project_events",
        "milestone_events",
        "vulnerability_events",
    }
)


# --- errors -----------------------------------------------------------------------------------


class GitLabError(CommandError):
    """GitLab refused or failed a call. `message` is for the user; `status` is GitLab's HTTP
    status, or None when GitLab could not be reached."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class GitLabUnauthorized(GitLabError):
    """401: the token is wrong, expired or revoked."""


class GitLabForbidden(GitLabError):
    """403: the user's role (or the token's scope) does not allow this."""


class GitLabNotFound(GitLabError):
    """404: the thing does not exist, or this user cannot see it (GitLab does not say)."""


class GitLabRateLimited(GitLabError):
    """429; `retry_at` is when GitLab said to come back, if it did."""

    def __init__(self, status: int, message: str, retry_at: datetime | None) -> None:
        super().__init__(status, message)
        self.retry_at = retry_at


class GitLabUnavailable(GitLabError):
    """GitLab is down, overloaded or unreachable (5xx, network, timeout): worth a retry."""


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _reason(data: Any) -> str:
    """GitLab's explanation, flattened: `message` may be a string, a list or a field map
    ({"title": ["can't be blank"]}); `error` (+ `error_description`) is Grape's and OAuth's."""
    if not isinstance(data, dict):
        return ""
    message = data.get("message")
    if isinstance(message, str) and message.strip():
        return message.strip()
    if isinstance(message, list):
        return "; ".join(str(item) for item in message if item)
    if isinstance(message, dict):
        parts: list[str] = []
        for key, value in message.items():
            problems = value if isinstance(value, list) else [value]
            parts.extend(f"{key} {problem}" for problem in problems if problem)
        return "; ".join(parts)
    error = data.get("error_description") or data.get("error")
    return str(error).strip() if error else ""


def _is_bare_status(reason: str, status: int) -> bool:
    """GitLab's "403 Forbidden"-style reasons say nothing the status does not."""
    return not reason or re.fullmatch(rf"{status}( [A-Za-z ]+)?", reason) is not None


def _retry_at(headers: httpx.Headers) -> datetime | None:
    after = headers.get("retry-after", "")
    if after.isdigit():
        return datetime.now(UTC) + timedelta(seconds=int(after))
    reset = headers.get("ratelimit-reset", "")
    if reset.isdigit():
        return datetime.fromtimestamp(int(reset), UTC)
    return None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# --- results ----------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _username(value: Any) -> str | None:
    return _text(value.get("username")) if isinstance(value, dict) else None


def access_level_of(permissions: Any) -> int:
    """The caller's role from a project's `permissions` block: the higher of its direct
    (`project_access`) and group (`group_access`) access; 0 when it has neither."""
    if not isinstance(permissions, dict):
        return AccessLevel.NO_ACCESS
    levels = [AccessLevel.NO_ACCESS.value]
    for key in ("project_access", "group_access"):
        entry = permissions.get(key)
        level = _int(entry.get("access_level")) if isinstance(entry, dict) else None
        if level is not None:
            levels.append(level)
    return max(levels)


@dataclass(frozen=True, slots=True)
class GitLabUser:
    id: int
    username: str
    name: str | None
    web_url: str | None
    avatar_url: str | None
    state: str | None


@dataclass(frozen=True, slots=True)
class GitLabProject:
    id: int
    name: str
    path: str
    path_with_namespace: str
    web_url: str
    description: str | None
    visibility: str | None
    avatar_url: str | None
    default_branch: str | None
    archived: bool
    # From `permissions`; None when GitLab sent none (simple listings).
    access_level: int | None

    @property
    def may_bridge(self) -> bool:
        """Hookshot's rule: Developer or above may connect the project to a room."""
        return (self.access_level or 0) >= AccessLevel.DEVELOPER

    @property
    def may_add_hook(self) -> bool:
        """Hookshot's rule (and GitLab's): Maintainer or above may add a webhook."""
        return (self.access_level or 0) >= AccessLevel.MAINTAINER


@dataclass(frozen=True, slots=True)
class GitLabHook:
    id: int
    url: str
    project_id: int | None
    enable_ssl_verification: bool
    events: Mapping[str, bool] = field(default_factory=dict)  # the `*_events` switches
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GitLabIssue:
    id: int
    iid: int
    project_id: int | None
    title: str
    description: str | None
    state: str  # "opened" or "closed"
    web_url: str
    confidential: bool
    labels: tuple[str, ...]
    author: str | None
    reference: str | None  # e.g. "group/project#3"


@dataclass(frozen=True, slots=True)
class GitLabNote:
    id: int
    body: str
    author: str | None
    created_at: datetime | None


def _user(data: Mapping[str, Any]) -> GitLabUser:
    return GitLabUser(
        id=int(data["id"]),
        username=str(data["username"]),
        name=_text(data.get("name")),
        web_url=_text(data.get("web_url")),
        avatar_url=_text(data.get("avatar_url")),
        state=_text(data.get("state")),
    )


def _project(data: Mapping[str, Any]) -> GitLabProject:
    full = str(data["path_with_namespace"])
    permissions = data.get("permissions")
    return GitLabProject(
        id=int(data["id"]),
        name=str(data.get("name") or full.rsplit("/", 1)[-1]),
        path=str(data.get("path") or full.rsplit("/", 1)[-1]),
        path_with_namespace=full,
        web_url=str(data.get("web_url") or ""),
        description=_text(data.get("description")),
        visibility=_text(data.get("visibility")),
        avatar_url=_text(data.get("avatar_url")),
        default_branch=_text(data.get("default_branch")),
        archived=data.get("archived") is True,
        access_level=access_level_of(permissions) if "permissions" in data else None,
    )


def _hook(data: Mapping[str, Any]) -> GitLabHook:
    return GitLabHook(
        id=int(data["id"]),
        url=str(data.get("url") or ""),
        project_id=_int(data.get("project_id")),
        enable_ssl_verification=data.get("enable_ssl_verification") is not False,
        events={
            key: value
            for key, value in data.items()
            if key.endswith("_events") and isinstance(value, bool)
        },
        created_at=_time(data.get("created_at")),
    )


def _issue(data: Mapping[str, Any]) -> GitLabIssue:
    refs = data.get("references")
    labels = data.get("labels")
    return GitLabIssue(
        id=int(data["id"]),
        iid=int(data["iid"]),
        project_id=_int(data.get("project_id")),
        title=str(data.get("title") or ""),
        description=_text(data.get("description")),
        state=str(data.get("state") or ""),
        web_url=str(data.get("web_url") or ""),
        confidential=data.get("confidential") is True,
        labels=tuple(str(x) for x in labels) if isinstance(labels, list) else (),
        author=_username(data.get("author")),
        reference=_text(refs.get("full")) if isinstance(refs, dict) else None,
    )


def _note(data: Mapping[str, Any]) -> GitLabNote:
    return GitLabNote(
        id=int(data["id"]),
        body=str(data.get("body") or ""),
        author=_username(data.get("author")),
        created_at=_time(data.get("created_at")),
    )


def _parse(parse: Callable[[Mapping[str, Any]], T], data: Mapping[str, Any]) -> T:
    """A result from GitLab's answer; one lacking what every GitLab sends is not GitLab's."""
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError) as err:
        raise GitLabError(200, "GitLab's answer was missing fields it always sends.") from err


def project_ref(project: str | int) -> str:
    """`project` as it goes in a URL: a numeric id, or the path URL-encoded (`a%2Fb`)."""
    if isinstance(project, int) and not isinstance(project, bool):
        if project <= 0:
            raise GitLabError(None, f"{project} is not a GitLab project id.")
        return str(project)
    path = str(project).strip().strip("/")
    if path.isdigit():
        return path
    if "/" not in path or "//" in path or _CONTROL.search(path):
        raise GitLabError(None, f'"{project}" is not a GitLab project path like "group/project".')
    return quote(path, safe="")


def _iid(iid: int) -> int:
    if isinstance(iid, bool) or not isinstance(iid, int) or iid <= 0:
        raise GitLabError(None, f"{iid!r} is not an issue number.")
    return iid


# --- the client -------------------------------------------------------------------------------


class GitLabClient:
    """GitLab as one user (their personal, project or OAuth token) on one instance."""

    def __init__(
        self,
        instance_url: str,
        token: str,
        *,
        name: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.api_url = self.instance_url + API_PREFIX
        # How messages name the instance: its config name when known, else its URL.
        self.instance = name or self.instance_url
        self._token_ok = bool(token) and not _CONTROL.search(token)
        # Bearer, as hookshot sends: it carries personal, project, group and OAuth tokens alike
        # (PRIVATE-TOKEN refuses OAuth tokens).
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self._token_ok:
            headers["Authorization"] = f"Bearer {token}"
        # Redirects are answered as errors: following one would turn a POST into a GET.
        self._http = httpx.AsyncClient(
            base_url=self.api_url + "/",
            headers=headers,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
        )

    @classmethod
    def for_instance(
        cls,
        config: GitLabConfig,
        name: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> GitLabClient:
        """A client for the instance configured under `name` in `gitlab.instances`."""
        url = config.instances.get(name)
        if url is None:
            known = ", ".join(sorted(config.instances)) or "none"
            raise GitLabError(
                None, f'The bridge knows no GitLab instance "{name}" (it knows: {known}).'
            )
        return cls(url, token, name=name, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> GitLabClient:
        return self

    async def __aexit__(
        self, exc: type[BaseException] | None, val: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- plumbing ---------------------------------------------------------------------------

    def _unauthorized(self) -> GitLabUnauthorized:
        return GitLabUnauthorized(
            401,
            f"Your GitLab token for {self.instance} is not valid; "
            "set a new one with `gitlab personaltoken`.",
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        not_found: str,
        forbidden: str | None = None,
        no_project: str | None = None,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """One request; any answer but 2xx becomes the matching `GitLabError`."""
        if not self._token_ok:
            raise self._unauthorized()
        try:
            response = await self._http.request(
                method, path.lstrip("/"), params=dict(params) if params else None, json=json
            )
        except httpx.TimeoutException as err:
            raise GitLabUnavailable(
                None, f"GitLab at {self.instance} did not answer in time; try again later."
            ) from err
        except httpx.HTTPError as err:
            raise GitLabUnavailable(
                None, f"Could not reach GitLab at {self.instance_url}."
            ) from err
        if response.is_success:
            return response
        raise self._error(response, not_found=not_found, forbidden=forbidden, no_project=no_project)

    def _error(
        self,
        response: httpx.Response,
        *,
        not_found: str,
        forbidden: str | None,
        no_project: str | None,
    ) -> GitLabError:
        """Turn GitLab's answer into one whose message a user can act on."""
        status = response.status_code
        data = _body(response)
        reason = _reason(data)
        if status == 401:
            return self._unauthorized()
        if status == 403:
            if isinstance(data, dict) and data.get("error") == "insufficient_scope":
                return GitLabForbidden(
                    403,
                    f"Your GitLab token for {self.instance} lacks the `api` scope this needs; "
                    "create one with that scope and set it again.",
                )
            if forbidden is not None:
                return GitLabForbidden(403, forbidden)
            if _is_bare_status(reason, 403):
                return GitLabForbidden(403, "GitLab does not allow you to do that.")
            return GitLabForbidden(403, _sentence(f"GitLab refused: {reason}"))
        if status == 404:
            # Below a project GitLab says which is missing: "404 Project Not Found".
            if no_project is not None and "project" in reason.lower():
                return GitLabNotFound(404, no_project)
            return GitLabNotFound(404, not_found)
        if status == 429:
            retry_at = _retry_at(response.headers)
            when = f"after {retry_at:%H:%M} UTC" if retry_at else "later"
            return GitLabRateLimited(
                429, f"GitLab's rate limit was reached; try again {when}.", retry_at
            )
        if status >= 500:
            return GitLabUnavailable(
                status, f"GitLab at {self.instance} is having trouble ({status}); try again later."
            )
        if 300 <= status < 400:
            where = response.headers.get("location", "elsewhere")
            return GitLabError(
                status,
                f"GitLab at {self.instance_url} redirected to {where}; "
                "check the instance URL in gitlab.instances.",
            )
        if status in (400, 409, 422):
            detail = reason if not _is_bare_status(reason, status) else "the request was refused"
            return GitLabError(status, _sentence(f"GitLab could not do that: {detail}"))
        return GitLabError(status, _sentence(f"GitLab answered {status}: {reason or 'no reason'}"))

    def _json(self, response: httpx.Response) -> Any:
        """The JSON of a successful answer; anything else means the URL is not GitLab's API."""
        data = _body(response)
        if data is None:
            raise GitLabError(
                response.status_code,
                f"{self.instance_url} did not answer like GitLab's API; "
                "check the instance URL in gitlab.instances.",
            )
        return data

    async def _object(
        self,
        method: str,
        path: str,
        *,
        not_found: str,
        forbidden: str | None = None,
        no_project: str | None = None,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any]:
        response = await self._send(
            method,
            path,
            not_found=not_found,
            forbidden=forbidden,
            no_project=no_project,
            params=params,
            json=json,
        )
        data = self._json(response)
        if not isinstance(data, dict):
            raise GitLabError(response.status_code, "GitLab's answer was not the expected object.")
        return data

    async def _list(
        self,
        path: str,
        *,
        not_found: str,
        forbidden: str | None = None,
        params: Mapping[str, str | int] | None = None,
        all_pages: bool = False,
    ) -> list[Mapping[str, Any]]:
        """A list answer; with `all_pages`, follow GitLab's `Link: rel="next"` to the end."""
        response = await self._send(
            "GET", path, not_found=not_found, forbidden=forbidden, params=params
        )
        items: list[Mapping[str, Any]] = []
        for page in range(_MAX_PAGES):
            data = self._json(response)
            if not isinstance(data, list):
                raise GitLabError(
                    response.status_code, "GitLab's answer was not the expected list."
                )
            items.extend(item for item in data if isinstance(item, dict))
            next_path = self._next_page(response) if all_pages else None
            if next_path is None or page + 1 == _MAX_PAGES:
                break
            response = await self._send("GET", next_path, not_found=not_found, forbidden=forbidden)
        return items

    def _next_page(self, response: httpx.Response) -> str | None:
        """The next page from GitLab's `Link: rel="next"`, as a path under our API base: the
        token only ever goes to the configured instance, even behind a proxy that rewrites
        the scheme or host GitLab puts in its links."""
        link = response.links.get("next")
        url = urlsplit(link.get("url") or "") if link else None
        base = urlsplit(self.api_url).path
        if url is None or not url.path.startswith(base + "/"):
            return None
        # The link carries every parameter, the page cursor included.
        rest = url.path.removeprefix(base)
        return f"{rest}?{url.query}" if url.query else rest

    def _no_project(self, project: str | int) -> str:
        return f"No such project {project} on {self.instance}, or no access to it."

    # --- the user ---------------------------------------------------------------------------

    async def get_user(self) -> GitLabUser:
        """Who the token belongs to (how `gitlab personaltoken` checks a token)."""
        data = await self._object("GET", "/user", not_found="GitLab does not know this token.")
        return _parse(_user, data)

    # --- projects ---------------------------------------------------------------------------

    async def get_project(self, project: str | int) -> GitLabProject:
        """The project, with the user's role on it in `access_level`."""
        ref = project_ref(project)
        data = await self._object("GET", f"/projects/{ref}", not_found=self._no_project(project))
        return _parse(_project, data)

    async def get_access_level(self, project: str | int, user_id: int | None = None) -> int:
        """The user's role on the project from its member list, counting inherited and
        invited-group membership (hookshot 7's check); 0 when GitLab has no such member."""
        ref = project_ref(project)
        if user_id is None:
            user_id = (await self.get_user()).id
        try:
            data = await self._object(
                "GET",
                f"/projects/{ref}/members/all/{int(user_id)}",
                not_found=self._no_project(project),
            )
        except GitLabNotFound:
            return AccessLevel.NO_ACCESS
        level = _int(data.get("access_level"))
        if level is None:
            raise GitLabError(200, "GitLab's member answer carried no access level.")
        return level

    async def list_projects(
        self,
        min_access_level: int = AccessLevel.DEVELOPER,
        *,
        group: str | int | None = None,
        search: str | None = None,
        id_after: int | None = None,
        per_page: int = 10,
    ) -> list[GitLabProject]:
        """One page of the user's unarchived projects where they have at least
        `min_access_level`, by id (hookshot's widget query); pass the last id as `id_after`
        for the next page. `group` limits it to one group's projects."""
        path = f"/groups/{group_ref(group)}/projects" if group is not None else "/projects"
        params: dict[str, str | int] = {
            "archived": "false",
            "min_access_level": int(min_access_level),
            "simple": "true",
            "pagination": "keyset",
            "per_page": max(1, min(per_page, 100)),
            "order_by": "id",
            "sort": "asc",
        }
        if id_after is not None:
            params["id_after"] = id_after
        if search:
            params["search"] = search
        not_found = (
            f"No such group {group} on {self.instance}, or no access to it."
            if group is not None
            else f"GitLab at {self.instance} could not list your projects."
        )
        return [
            _parse(_project, item)
            for item in await self._list(path, not_found=not_found, params=params)
        ]

    # --- hooks ------------------------------------------------------------------------------

    async def list_project_hooks(self, project: str | int) -> list[GitLabHook]:
        """Every webhook on the project (all pages). Needs Maintainer."""
        ref = project_ref(project)
        items = await self._list(
            f"/projects/{ref}/hooks",
            not_found=self._no_project(project),
            forbidden=f"You need the Maintainer role on {project} to see its webhooks.",
            params={"per_page": _PAGE_SIZE},
            all_pages=True,
        )
        return [_parse(_hook, item) for item in items]

    async def add_project_hook(
        self,
        project: str | int,
        url: str,
        token: str,
        events: Mapping[str, bool],
        *,
        enable_ssl_verification: bool = True,
    ) -> GitLabHook:
        """Add a webhook sending `events` (e.g. `HOOKSHOT_HOOK_EVENTS`) to `url`, signed with
        `token` (GitLab's X-Gitlab-Token). Needs Maintainer."""
        unknown = sorted(set(events) - HOOK_EVENT_FIELDS)
        if unknown:
            raise ValueError(f"not GitLab hook events: {', '.join(unknown)}")
        ref = project_ref(project)
        body: dict[str, Any] = {
            "url": url,
            "token": token,
            "enable_ssl_verification": enable_ssl_verification,
            **{key: bool(value) for key, value in events.items()},
        }
        data = await self._object(
            "POST",
            f"/projects/{ref}/hooks",
            not_found=self._no_project(project),
            forbidden=f"You need the Maintainer role on {project} to add a webhook.",
            json=body,
        )
        return _parse(_hook, data)

    async def ensure_project_hook(
        self,
        project: str | int,
        url: str,
        token: str,
        events: Mapping[str, bool],
        *,
        enable_ssl_verification: bool = True,
    ) -> tuple[GitLabHook, bool]:
        """Hookshot's provisioning step: add the webhook unless one with exactly this URL is
        already there. Returns the hook and whether it was created."""
        for hook in await self.list_project_hooks(project):
            if hook.url == url:
                return hook, False
        hook = await self.add_project_hook(
            project, url, token, events, enable_ssl_verification=enable_ssl_verification
        )
        return hook, True

    # --- issues -----------------------------------------------------------------------------

    def _no_issue(self, project: str | int, iid: int) -> str:
        return f"No such issue #{iid} in {project} on {self.instance}, or no access to it."

    async def create_issue(
        self,
        project: str | int,
        title: str,
        description: str | None = None,
        labels: Iterable[str] | None = None,
        confidential: bool = False,
    ) -> GitLabIssue:
        """Open an issue (hookshot's `create`; `create-confidential` sets `confidential`)."""
        ref = project_ref(project)
        body: dict[str, Any] = {"title": title}
        if description is not None:
            body["description"] = description
        names = [name.strip() for name in labels or () if name.strip()]
        if names:
            # GitLab's documented form; it also splits arrays on commas, so nothing is lost.
            body["labels"] = ",".join(names)
        if confidential:
            body["confidential"] = True
        data = await self._object(
            "POST",
            f"/projects/{ref}/issues",
            not_found=self._no_project(project),
            forbidden=f"GitLab does not let you create issues in {project}.",
            json=body,
        )
        return _parse(_issue, data)

    async def get_issue(self, project: str | int, iid: int) -> GitLabIssue:
        ref = project_ref(project)
        data = await self._object(
            "GET",
            f"/projects/{ref}/issues/{_iid(iid)}",
            not_found=self._no_issue(project, iid),
            no_project=self._no_project(project),
        )
        return _parse(_issue, data)

    async def close_issue(self, project: str | int, iid: int) -> GitLabIssue:
        """Close an issue (hookshot's `close`); closing a closed issue is not an error."""
        ref = project_ref(project)
        data = await self._object(
            "PUT",
            f"/projects/{ref}/issues/{_iid(iid)}",
            not_found=self._no_issue(project, iid),
            no_project=self._no_project(project),
            forbidden=f"GitLab does not let you close issue #{iid} in {project}.",
            json={"state_event": "close"},
        )
        return _parse(_issue, data)

    async def add_issue_note(self, project: str | int, iid: int, body: str) -> GitLabNote:
        """Comment on an issue. The body goes in JSON, not the query string hookshot uses,
        so long comments are not cut by URL limits."""
        ref = project_ref(project)
        data = await self._object(
            "POST",
            f"/projects/{ref}/issues/{_iid(iid)}/notes",
            not_found=self._no_issue(project, iid),
            no_project=self._no_project(project),
            forbidden=f"GitLab does not let you comment on issue #{iid} in {project}.",
            json={"body": body},
        )
        return _parse(_note, data)


def group_ref(group: str | int) -> str:
    """A group as it goes in a URL: a numeric id or its URL-encoded full path."""
    if isinstance(group, int) and not isinstance(group, bool):
        return str(group)
    path = str(group).strip().strip("/")
    if not path or "//" in path or _CONTROL.search(path):
        raise GitLabError(None, f'"{group}" is not a GitLab group path like "group/subgroup".')
    return quote(path, safe="")
