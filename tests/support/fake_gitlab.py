"""A small fake of GitLab's REST API (v4) for tests.

It answers the calls the bridge makes (see `hookshot/services/gitlab/client.py`), shaped like
GitLab's answers, from in-memory data the test seeds. Every request is recorded in `requests`.

    with FakeGitLab() as gl:                   # uvicorn on a loopback port, in a thread
        alice = gl.add_user("alice")           # alice.token authenticates as her
        gl.add_project("acme/widgets", members={"alice": 40})
        ... point the bridge at gl.url (an entry of `gitlab.instances`) ...
        assert gl.requests[-1].path == "/projects/acme%2Fwidgets/issues"

Tokens are read from `PRIVATE-TOKEN` or `Authorization: Bearer`. Routing uses the raw request
path, as GitLab does, so a project path must arrive URL-encoded (`acme%2Fwidgets`); recorded
paths are raw too, without the `/api/v4` prefix. `fail()` makes the next matching request(s)
answer with an error.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from support.loopback import LoopbackFake
from support.loopback import RecordedRequest as BaseRecordedRequest

JsonDict = dict[str, Any]
API_PREFIX = "/api/v4"
# GitLab's roles.
GUEST, PLANNER, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 15, 20, 30, 40, 50
# The switches a project hook has, and what GitLab sets when a request leaves one out.
HOOK_EVENT_DEFAULTS: dict[str, bool] = {
    "push_events": True,
    "tag_push_events": False,
    "issues_events": False,
    "confidential_issues_events": False,
    "merge_requests_events": False,
    "note_events": False,
    "confidential_note_events": False,
    "job_events": False,
    "pipeline_events": False,
    "wiki_page_events": False,
    "deployment_events": False,
    "releases_events": False,
}
_INSUFFICIENT_SCOPE = {
    "error": "insufficient_scope",
    "error_description": "The request requires higher privileges than provided by the "
    "access token.",
    "scope": "api",
}


@dataclass
class RecordedRequest(BaseRecordedRequest):
    """One request as the fake saw it; `path` is raw (still encoded), without `/api/v4`."""

    @property
    def token(self) -> str | None:
        """The credential from `PRIVATE-TOKEN` or `Authorization: Bearer`."""
        if "private-token" in self.headers:
            return self.headers["private-token"]
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        return value if scheme.lower() == "bearer" and value else None


@dataclass
class FakeUser:
    username: str
    id: int
    token: str
    name: str | None = None
    scopes: tuple[str, ...] = ("api",)


@dataclass
class FakeGroup:
    path: str
    id: int
    members: dict[str, int] = field(default_factory=dict)  # username -> access level
    visibility: str = "private"


@dataclass
class FakeHook:
    id: int
    url: str
    token: str | None
    events: dict[str, bool]
    enable_ssl_verification: bool = True
    created: float = field(default_factory=time.time)


@dataclass
class FakeIssue:
    id: int
    iid: int
    title: str
    author: str
    description: str | None = None
    state: str = "opened"
    labels: list[str] = field(default_factory=list)
    confidential: bool = False
    created: float = field(default_factory=time.time)


@dataclass
class FakeNote:
    id: int
    iid: int  # the issue's
    body: str
    author: str
    created: float = field(default_factory=time.time)


@dataclass
class FakeProject:
    path_with_namespace: str
    id: int
    visibility: str = "private"
    archived: bool = False
    description: str | None = None
    default_branch: str = "main"
    members: dict[str, int] = field(default_factory=dict)  # username -> access level
    hooks: list[FakeHook] = field(default_factory=list)
    issues: dict[int, FakeIssue] = field(default_factory=dict)
    notes: list[FakeNote] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        return self.path_with_namespace.rsplit("/", 1)[0]

    @property
    def path(self) -> str:
        return self.path_with_namespace.rsplit("/", 1)[1]


@dataclass
class _Failure:
    method: str
    path: str
    status: int
    body: Any
    headers: dict[str, str]
    times: int | None


class _Answer(Exception):
    """Ends a handler with an HTTP answer (errors, mostly)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _error(status: int, message: Any = None, **fields: Any) -> _Answer:
    """GitLab's error shapes: {"message": ...} or Grape's {"error": ...}."""
    body: JsonDict = dict(fields) if fields else {"message": message}
    return _Answer(JSONResponse(body, status_code=status))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _flag(value: Any) -> bool:
    """A boolean as JSON or a form/query string ("true", "1")."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _split_labels(value: Any) -> list[str]:
    """GitLab splits a label string on commas, and every item of a label array too."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        names.extend(part.strip() for part in str(item).split(",") if part.strip())
    return names


Handler = Callable[["_Call"], Awaitable[Response]]


@dataclass
class _Call:
    """A routed request: who sent it, its parameters and its decoded path arguments."""

    request: Request
    record: RecordedRequest
    base: str  # scheme://host:port of the request
    args: list[str]
    params: JsonDict
    user: FakeUser | None


class FakeGitLab(LoopbackFake):
    """In-memory GitLab: seed it, run it (context manager), read `requests`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._lock = threading.RLock()
        self._ids = itertools.count(100)
        self.reset()
        self.server_name = "fake-gitlab"
        self.url = ""
        self.app = Starlette(
            routes=[
                Route(
                    "/{rest:path}",
                    self._endpoint,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                )
            ]
        )
        self._table: list[tuple[str, tuple[str, ...], Handler]] = [
            ("GET", ("user",), self._get_user),
            ("GET", ("projects",), self._list_projects),
            ("GET", ("groups", "*", "projects"), self._list_group_projects),
            ("GET", ("projects", "*"), self._get_project),
            ("GET", ("projects", "*", "members", "all", "*"), self._get_member),
            ("GET", ("projects", "*", "hooks"), self._list_hooks),
            ("POST", ("projects", "*", "hooks"), self._add_hook),
            ("POST", ("projects", "*", "issues"), self._create_issue),
            ("GET", ("projects", "*", "issues", "*"), self._get_issue),
            ("PUT", ("projects", "*", "issues", "*"), self._edit_issue),
            ("POST", ("projects", "*", "issues", "*", "notes"), self._create_note),
        ]

    def reset(self) -> None:
        """Forget all data, requests and injected failures (the server keeps running)."""
        with self._lock:
            self.requests: list[RecordedRequest] = []
            self.users: dict[str, FakeUser] = {}
            self.groups: dict[str, FakeGroup] = {}
            self.projects: dict[str, FakeProject] = {}
            self._tokens: dict[str, str] = {}
            self._revoked: set[str] = set()
            self._failures: list[_Failure] = []

    # --- running ------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    # --- seeding ------------------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        token: str | None = None,
        name: str | None = None,
        scopes: Iterable[str] = ("api",),
    ) -> FakeUser:
        """A user whose `token` (generated unless given) has `scopes` ("api", "read_api",
        "read_user")."""
        with self._lock:
            user = FakeUser(
                username,
                next(self._ids),
                token or f"glpat-{secrets.token_hex(10)}",
                name,
                tuple(scopes),
            )
            self.users[username.lower()] = user
            self._tokens[user.token] = username.lower()
            return user

    def revoke(self, token: str) -> None:
        """The token stops working, answered as GitLab answers a revoked token."""
        with self._lock:
            self._revoked.add(token)

    def add_group(
        self, path: str, *, members: Mapping[str, int] | None = None, visibility: str = "private"
    ) -> FakeGroup:
        """A group; its members' roles count on every project below it (subgroups too)."""
        with self._lock:
            group = FakeGroup(
                path,
                next(self._ids),
                {k.lower(): v for k, v in (members or {}).items()},
                visibility,
            )
            self.groups[path.lower()] = group
            return group

    def add_project(
        self,
        path: str,
        *,
        members: Mapping[str, int] | None = None,
        visibility: str = "private",
        archived: bool = False,
        description: str | None = None,
        default_branch: str = "main",
    ) -> FakeProject:
        """A project; `members` maps usernames to their direct role (10..50). The user whose
        namespace it is owns it."""
        with self._lock:
            project = FakeProject(
                path,
                next(self._ids),
                visibility=visibility,
                archived=archived,
                description=description,
                default_branch=default_branch,
                members={k.lower(): v for k, v in (members or {}).items()},
            )
            self.projects[path.lower()] = project
            return project

    def add_hook(
        self, path: str, url: str, *, token: str | None = None, **events: bool
    ) -> FakeHook:
        with self._lock:
            hook = FakeHook(next(self._ids), url, token, {**HOOK_EVENT_DEFAULTS, **events})
            self.projects[path.lower()].hooks.append(hook)
            return hook

    def add_issue(
        self,
        path: str,
        title: str,
        *,
        author: str,
        description: str | None = None,
        state: str = "opened",
        labels: Iterable[str] = (),
        confidential: bool = False,
    ) -> FakeIssue:
        with self._lock:
            project = self.projects[path.lower()]
            issue = FakeIssue(
                next(self._ids),
                max(project.issues, default=0) + 1,
                title,
                author,
                description,
                state,
                list(labels),
                confidential,
            )
            project.issues[issue.iid] = issue
            return issue

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        """Answer the next `times` (None: all) `method path` requests with this error;
        `path` is without `/api/v4`, encoded (`/projects/a%2Fb`) or not (`/projects/a/b`)."""
        with self._lock:
            self._failures.append(
                _Failure(
                    method.upper(),
                    path,
                    status,
                    body if body is not None else {"message": f"{status} Server Error"},
                    dict(headers or {}),
                    times,
                )
            )

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    # --- plumbing -----------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        body = await request.body()
        # GitLab routes on the raw path, so `a%2Fb` is one segment and `a/b` is two.
        raw = request.scope.get("raw_path") or request.url.path.encode()
        path = raw.decode("latin-1").split("?", 1)[0]
        record = RecordedRequest(
            request.method,
            path.removeprefix(API_PREFIX) if path.startswith(API_PREFIX + "/") else path,
            dict(request.query_params),
            {k.lower(): v for k, v in request.headers.items()},
            body,
        )
        with self._lock:
            self.requests.append(record)
            failure = self._take_failure(record)
            if failure is not None:
                return JSONResponse(
                    failure.body, status_code=failure.status, headers=failure.headers
                )
            try:
                return await self._route(request, record, path)
            except _Answer as answer:
                return answer.response

    def _take_failure(self, record: RecordedRequest) -> _Failure | None:
        for failure in self._failures:
            if failure.method == record.method and failure.path in (
                record.path,
                unquote(record.path),
            ):
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    async def _route(self, request: Request, record: RecordedRequest, path: str) -> Response:
        if not path.startswith(API_PREFIX + "/"):
            raise _error(404, error="404 Not Found")
        segments = [unquote(s) for s in path.removeprefix(API_PREFIX + "/").split("/")]
        for method, pattern, handler in self._table:
            if len(pattern) != len(segments) or any(
                p != "*" and p != s for p, s in zip(pattern, segments, strict=True)
            ):
                continue
            if method != request.method:
                continue
            args = [s for p, s in zip(pattern, segments, strict=True) if p == "*"]
            call = _Call(
                request,
                record,
                f"{request.url.scheme}://{request.url.netloc}",
                args,
                self._params(record),
                self._caller(record),
            )
            if request.method != "GET" and call.user is not None and "api" not in call.user.scopes:
                raise _Answer(JSONResponse(_INSUFFICIENT_SCOPE, status_code=403))
            return await handler(call)
        raise _error(404, error="404 Not Found")

    @staticmethod
    def _params(record: RecordedRequest) -> JsonDict:
        """Query, form and JSON parameters merged, as GitLab's Grape API merges them."""
        params: JsonDict = dict(record.query)
        kind = record.headers.get("content-type", "")
        if "json" in kind and record.body:
            try:
                data = record.json()
            except ValueError:
                raise _error(400, error="The request body is not valid JSON") from None
            if isinstance(data, dict):
                params.update(data)
        elif "form" in kind:
            params.update(record.form())
        return params

    def _caller(self, record: RecordedRequest) -> FakeUser | None:
        token = record.token
        has_auth = "private-token" in record.headers or "authorization" in record.headers
        if token is None:
            if has_auth:
                raise _error(401, "401 Unauthorized")
            return None
        if token in self._revoked:
            raise _error(
                401,
                error="invalid_token",
                error_description="Token was revoked. You have to re-authorize from the user.",
            )
        username = self._tokens.get(token)
        if username is None:
            raise _error(401, "401 Unauthorized")
        return self.users[username]

    # --- roles --------------------------------------------------------------------------------

    def _access(self, user: FakeUser | None, project: FakeProject) -> tuple[int, int]:
        """The user's (direct, group) roles on the project."""
        if user is None:
            return 0, 0
        name = user.username.lower()
        direct = project.members.get(name, 0)
        if project.namespace.lower() == name:
            direct = max(direct, OWNER)
        group = 0
        for g in self.groups.values():
            ns = project.namespace.lower()
            if ns == g.path.lower() or ns.startswith(g.path.lower() + "/"):
                group = max(group, g.members.get(name, 0))
        return direct, group

    def _level(self, user: FakeUser | None, project: FakeProject) -> int:
        return max(self._access(user, project))

    def _visible(self, user: FakeUser | None, project: FakeProject) -> bool:
        if project.visibility == "public":
            return True
        if project.visibility == "internal" and user is not None:
            return True
        return self._level(user, project) > 0

    def _project(self, call: _Call, ref: str) -> FakeProject:
        """By numeric id or full path (any case, as GitLab finds paths); 404 if not visible."""
        found: FakeProject | None
        if ref.isdigit():
            found = next((p for p in self.projects.values() if p.id == int(ref)), None)
        else:
            found = self.projects.get(ref.lower())
        if found is None or not self._visible(call.user, found):
            raise _error(404, "404 Project Not Found")
        return found

    @staticmethod
    def _signed_in(call: _Call) -> FakeUser:
        if call.user is None:
            raise _error(401, "401 Unauthorized")
        return call.user

    def _require(self, call: _Call, project: FakeProject, level: int) -> FakeUser:
        user = self._signed_in(call)
        if self._level(user, project) < level:
            raise _error(403, "403 Forbidden")
        return user

    def _may_contribute(self, user: FakeUser, project: FakeProject) -> bool:
        """Open issues and comment: any signed-in user on a public or internal project."""
        return project.visibility != "private" or self._level(user, project) >= GUEST

    def _issue(self, call: _Call, project: FakeProject, iid: str) -> FakeIssue:
        issue = project.issues.get(int(iid)) if iid.isdigit() else None
        if issue is None:
            raise _error(404, "404 Not found")
        if issue.confidential:
            user = call.user
            author = user is not None and user.username.lower() == issue.author.lower()
            if not author and self._level(user, project) < REPORTER:
                raise _error(404, "404 Not found")
        return issue

    # --- JSON shapes --------------------------------------------------------------------------

    def _user_json(self, base: str, username: str) -> JsonDict:
        user = self.users.get(username.lower())
        return {
            "id": user.id if user else 1,
            "username": user.username if user else username,
            "name": (user.name if user else None) or username,
            "state": "active",
            "avatar_url": f"{base}/uploads/-/system/user/avatar/{username}.png",
            "web_url": f"{base}/{username}",
        }

    def _namespace_json(self, project: FakeProject) -> JsonDict:
        group = self.groups.get(project.namespace.lower())
        return {
            "id": group.id if group else 1,
            "name": project.namespace.rsplit("/", 1)[-1],
            "path": project.namespace.rsplit("/", 1)[-1],
            "kind": "group" if group else "user",
            "full_path": project.namespace,
        }

    def _project_json(
        self, base: str, project: FakeProject, user: FakeUser | None, *, simple: bool = False
    ) -> JsonDict:
        data: JsonDict = {
            "id": project.id,
            "description": project.description,
            "name": project.path,
            "name_with_namespace": project.path_with_namespace.replace("/", " / "),
            "path": project.path,
            "path_with_namespace": project.path_with_namespace,
            "created_at": _iso(0),
            "default_branch": project.default_branch,
            "web_url": f"{base}/{project.path_with_namespace}",
            "avatar_url": None,
            "namespace": self._namespace_json(project),
        }
        if simple:
            return data
        direct, group = self._access(user, project)
        data.update(
            visibility=project.visibility,
            archived=project.archived,
            permissions={
                "project_access": (
                    {"access_level": direct, "notification_level": 3} if direct else None
                ),
                "group_access": {"access_level": group, "notification_level": 3} if group else None,
            },
        )
        return data

    @staticmethod
    def _hook_json(project: FakeProject, hook: FakeHook) -> JsonDict:
        return {
            "id": hook.id,
            "url": hook.url,
            "project_id": project.id,
            "created_at": _iso(hook.created),
            "enable_ssl_verification": hook.enable_ssl_verification,
            "push_events_branch_filter": None,
            **hook.events,
        }

    def _issue_json(self, base: str, project: FakeProject, issue: FakeIssue) -> JsonDict:
        full = project.path_with_namespace
        return {
            "id": issue.id,
            "iid": issue.iid,
            "project_id": project.id,
            "title": issue.title,
            "description": issue.description,
            "state": issue.state,
            "created_at": _iso(issue.created),
            "updated_at": _iso(issue.created),
            "closed_at": None if issue.state == "opened" else _iso(time.time()),
            "labels": list(issue.labels),
            "author": self._user_json(base, issue.author),
            "confidential": issue.confidential,
            "web_url": f"{base}/{full}/-/issues/{issue.iid}",
            "references": {
                "short": f"#{issue.iid}",
                "relative": f"#{issue.iid}",
                "full": f"{full}#{issue.iid}",
            },
        }

    def _note_json(self, base: str, issue: FakeIssue, note: FakeNote) -> JsonDict:
        return {
            "id": note.id,
            "type": None,
            "body": note.body,
            "author": self._user_json(base, note.author),
            "created_at": _iso(note.created),
            "updated_at": _iso(note.created),
            "system": False,
            "noteable_id": issue.id,
            "noteable_type": "Issue",
            "noteable_iid": issue.iid,
            "resolvable": False,
            "confidential": False,
            "internal": False,
        }

    # --- handlers -----------------------------------------------------------------------------

    async def _get_user(self, call: _Call) -> Response:
        user = self._signed_in(call)
        data = self._user_json(call.base, user.username)
        data.update(email=f"{user.username}@example.test", two_factor_enabled=False)
        return JSONResponse(data)

    async def _list_projects(self, call: _Call) -> Response:
        return self._project_page(call, list(self.projects.values()), "/projects")

    async def _list_group_projects(self, call: _Call) -> Response:
        ref = call.args[0]
        group = (
            next((g for g in self.groups.values() if g.id == int(ref)), None)
            if ref.isdigit()
            else self.groups.get(ref.lower())
        )
        if group is None:
            raise _error(404, "404 Group Not Found")
        # Without include_subgroups GitLab lists the group's own projects only.
        own = [p for p in self.projects.values() if p.namespace.lower() == group.path.lower()]
        if group.visibility == "private" and not any(self._visible(call.user, p) for p in own):
            name = call.user.username.lower() if call.user else ""
            if name not in group.members:
                raise _error(404, "404 Group Not Found")
        return self._project_page(call, own, f"/groups/{ref}/projects")

    def _project_page(self, call: _Call, projects: list[FakeProject], path: str) -> Response:
        """GitLab's project listing with keyset pagination by id (and `id_after`)."""
        params = call.params
        found = [p for p in projects if self._visible(call.user, p)]
        if "min_access_level" in params:
            floor = int(params["min_access_level"])
            found = [p for p in found if self._level(call.user, p) >= floor]
        if "archived" in params:
            found = [p for p in found if p.archived == _flag(params["archived"])]
        if params.get("search"):
            term = str(params["search"]).lower()
            found = [p for p in found if term in p.path_with_namespace.lower()]
        if "id_after" in params:
            found = [p for p in found if p.id > int(params["id_after"])]
        found.sort(key=lambda p: p.id, reverse=params.get("sort") == "desc")
        per_page = max(1, min(100, int(params.get("per_page", 20))))
        chunk = found[:per_page]
        simple = _flag(params.get("simple", False))
        items = [self._project_json(call.base, p, call.user, simple=simple) for p in chunk]
        headers: dict[str, str] = {}
        if len(found) > per_page and params.get("pagination") == "keyset":
            query = {k: str(v) for k, v in call.record.query.items()}
            query["id_after"] = str(chunk[-1].id)
            headers["link"] = f'<{call.base}{API_PREFIX}{path}?{urlencode(query)}>; rel="next"'
        return JSONResponse(items, headers=headers)

    async def _get_project(self, call: _Call) -> Response:
        project = self._project(call, call.args[0])
        return JSONResponse(self._project_json(call.base, project, call.user))

    async def _get_member(self, call: _Call) -> Response:
        project = self._project(call, call.args[0])
        self._signed_in(call)
        uid = call.args[1]
        member = next((u for u in self.users.values() if str(u.id) == uid), None)
        level = self._level(member, project) if member is not None else 0
        if member is None or level == 0:
            raise _error(404, "404 Not found")
        data = self._user_json(call.base, member.username)
        data.update(access_level=level, expires_at=None, membership_state="active")
        return JSONResponse(data)

    async def _list_hooks(self, call: _Call) -> Response:
        project = self._project(call, call.args[0])
        self._require(call, project, MAINTAINER)
        params = call.params
        per_page = max(1, min(100, int(params.get("per_page", 20))))
        page = max(1, int(params.get("page", 1)))
        hooks = project.hooks[(page - 1) * per_page : page * per_page]
        total_pages = max(1, -(-len(project.hooks) // per_page))
        headers = {
            "x-page": str(page),
            "x-per-page": str(per_page),
            "x-total": str(len(project.hooks)),
            "x-total-pages": str(total_pages),
            "x-next-page": str(page + 1) if page < total_pages else "",
        }
        if page < total_pages:
            query = {**{k: str(v) for k, v in call.record.query.items()}, "page": str(page + 1)}
            url = f"{call.base}{API_PREFIX}{call.record.path}?{urlencode(query)}"
            headers["link"] = f'<{url}>; rel="next"'
        return JSONResponse([self._hook_json(project, h) for h in hooks], headers=headers)

    async def _add_hook(self, call: _Call) -> Response:
        project = self._project(call, call.args[0])
        self._require(call, project, MAINTAINER)
        params = call.params
        url = params.get("url")
        if not url:
            raise _error(400, error="url is missing")
        if not str(url).startswith(("http://", "https://")):
            raise _error(422, {"url": ["is blocked: Only allowed schemes are http, https"]})
        events = {
            key: _flag(params[key]) if key in params else default
            for key, default in HOOK_EVENT_DEFAULTS.items()
        }
        hook = FakeHook(
            next(self._ids),
            str(url),
            str(params["token"]) if params.get("token") else None,
            events,
            _flag(params.get("enable_ssl_verification", True)),
        )
        project.hooks.append(hook)
        return JSONResponse(self._hook_json(project, hook), status_code=201)

    async def _create_issue(self, call: _Call) -> Response:
        project = self._project(call, call.args[0])
        user = self._signed_in(call)
        if not self._may_contribute(user, project):
            raise _error(403, "403 Forbidden")
        params = call.params
        if "title" not in params:
            raise _error(400, error="title is missing")
        title = str(params["title"]).strip()
        if not title:
            raise _error(400, {"title": ["can't be blank"]})
        issue = FakeIssue(
            next(self._ids),
            max(project.issues, default=0) + 1,
            title,
            user.username,
            str(params["description"]) if params.get("description") is not None else None,
            labels=_split_labels(params["labels"]) if params.get("labels") else [],
            confidential=_flag(params.get("confidential", False)),
        )
        project.issues[issue.iid] = issue
        return JSONResponse(self._issue_json(call.base, project, issue), status_code=201)

    async def _get_issue(self, call: _Call) -> Response:
        project = self._project(call, call.args[0])
        issue = self._issue(call, project, call.args[1])
        return JSONResponse(self._issue_json(call.base, project, issue))

    async def _edit_issue(self, call: _Call) -> Response:
        project = self._project(call, call.args[0])
        issue = self._issue(call, project, call.args[1])
        user = self._signed_in(call)
        is_author = user.username.lower() == issue.author.lower()
        if not is_author and self._level(user, project) < PLANNER:
            raise _error(403, "403 Forbidden")
        params = call.params
        event = params.get("state_event")
        if event is not None and event not in ("close", "reopen"):
            raise _error(400, error="state_event does not have a valid value")
        if event == "close":
            issue.state = "closed"
        elif event == "reopen":
            issue.state = "opened"
        if params.get("title"):
            issue.title = str(params["title"])
        if "description" in params:
            issue.description = params["description"]
        if "labels" in params:
            issue.labels = _split_labels(params["labels"]) if params["labels"] else []
        return JSONResponse(self._issue_json(call.base, project, issue))

    async def _create_note(self, call: _Call) -> Response:
        project = self._project(call, call.args[0])
        issue = self._issue(call, project, call.args[1])
        user = self._signed_in(call)
        if not self._may_contribute(user, project):
            raise _error(403, "403 Forbidden")
        if "body" not in call.params:
            raise _error(400, error="body is missing")
        body = str(call.params["body"])
        if not body.strip():
            raise _error(400, {"note": ["can't be blank"]})
        note = FakeNote(next(self._ids), issue.iid, body, user.username)
        project.notes.append(note)
        return JSONResponse(self._note_json(call.base, issue, note), status_code=201)
