"""A small fake of GitHub's REST API (and its OAuth pages) for tests.

It answers the calls the bridge makes, shaped like GitHub's answers closely enough for
PyGithub, from in-memory data the test seeds. Every request is recorded in `requests`.

    with FakeGitHub() as gh:                  # uvicorn on a loopback port, in a thread
        alice = gh.add_user("alice")          # alice.token authenticates as her
        gh.add_repo("acme/widgets", collaborators={"alice": "admin"})
        ... point the bridge at gh.url (as `github.enterpriseUrl`) or gh.api_url ...
        assert gh.requests[-1].path == "/repos/acme/widgets/issues"

The API is served both at the root and under `/api/v3` (GitHub Enterprise's layout, which
the bridge derives from `enterpriseUrl`); OAuth is at `/login/oauth/*` (code exchange and
`grant_type=refresh_token`, as GitHub documents them: a refresh retires the old token pair)
and `DELETE /applications/{client_id}/token|grant` (app-authenticated revocation). `fail()`
makes the next matching request(s) answer with an error.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from support.loopback import LoopbackFake, RecordedRequest

JsonDict = dict[str, Any]
API_PREFIX = "/api/v3"
DOCS = "https://docs.github.com/rest"
# Roles from least to most, as GitHub orders them; "write" is GitHub's name for push.
ROLES = ("read", "triage", "write", "maintain", "admin")


@dataclass
class FakeUser:
    login: str
    id: int
    token: str
    name: str | None = None


@dataclass
class FakeIssue:
    number: int
    title: str
    user: str
    body: str | None = None
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    is_pr: bool = False
    diff: str = ""
    created: float = field(default_factory=time.time)
    reactions: list[tuple[str, str]] = field(default_factory=list)  # (login, content)


@dataclass
class FakeComment:
    id: int
    issue: int
    body: str
    user: str
    created: float = field(default_factory=time.time)


@dataclass
class FakeWorkflow:
    id: int
    name: str
    path: str
    inputs: dict[str, bool] = field(default_factory=dict)  # input name -> required
    state: str = "active"


@dataclass
class FakeRepo:
    owner: str
    name: str
    id: int
    private: bool = False
    default_branch: str = "main"
    description: str | None = None
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role
    branches: set[str] = field(default_factory=set)
    issues: dict[int, FakeIssue] = field(default_factory=dict)
    comments: dict[int, FakeComment] = field(default_factory=dict)
    workflows: list[FakeWorkflow] = field(default_factory=list)
    dispatches: list[JsonDict] = field(default_factory=list)
    reviews: list[JsonDict] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class FakeApp:
    id: int
    slug: str
    public_key: Any


@dataclass
class FakeInstallation:
    id: int
    app_id: int
    account: str
    repos: set[str] | None  # lower-case full names; None = all of the account's


@dataclass
class FakeOAuthApp:
    client_id: str
    client_secret: str
    redirect_uri: str | None = None
    expiring: bool = False
    expires_in: int = 28800  # GitHub's 8 hours; tests shorten it to see a refresh


@dataclass
class _Grant:
    """What a code, refresh token or OAuth access token stands for."""

    client_id: str
    login: str
    expires_in: int | None = None  # per login; None = the app's own


@dataclass
class _Failure:
    method: str
    path: str
    status: int
    body: Any
    headers: dict[str, str]
    times: int | None


@dataclass
class _Caller:
    kind: str  # "anonymous", "user", "installation", "app"
    user: FakeUser | None = None
    installation: FakeInstallation | None = None
    app: FakeApp | None = None


class _Answer(Exception):
    """Ends a handler with an HTTP answer (errors, mostly)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _error(status: int, message: str, **extra: Any) -> _Answer:
    return _Answer(
        JSONResponse({"message": message, "documentation_url": DOCS, **extra}, status_code=status)
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeGitHub(LoopbackFake):
    """In-memory GitHub: seed it, run it (context manager), read `requests`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._lock = threading.RLock()
        self._ids = itertools.count(1000)
        self.reset()
        self.server_name = "fake-github"
        self.url = ""
        self.app = Starlette(routes=self._routes())

    def reset(self) -> None:
        """Forget all data, requests and injected failures (the server keeps running)."""
        with self._lock:
            self._reset()

    def _reset(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.users: dict[str, FakeUser] = {}
        self.repos: dict[str, FakeRepo] = {}
        self.apps: dict[int, FakeApp] = {}
        self.installations: dict[int, FakeInstallation] = {}
        self.oauth_apps: dict[str, FakeOAuthApp] = {}
        # Installation tokens and their expiry; tests may shorten `installation_token_ttl`.
        self.installation_tokens: dict[str, tuple[int, float]] = {}
        self.installation_token_ttl = timedelta(hours=1)
        self._user_tokens: dict[str, str] = {}
        self._oauth_codes: dict[str, _Grant] = {}
        self._refresh_tokens: dict[str, tuple[_Grant, str]] = {}  # -> (grant, its access token)
        self._oauth_tokens: dict[str, _Grant] = {}  # access tokens minted through OAuth
        self._token_expiry: dict[str, float] = {}
        self._failures: list[_Failure] = []

    # --- running ------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The REST base as the bridge derives it from `enterpriseUrl` = `url`."""
        return self.url + API_PREFIX

    # --- seeding ------------------------------------------------------------------------------

    def add_user(
        self, login: str, *, token: str | None = None, name: str | None = None
    ) -> FakeUser:
        with self._lock:
            user = FakeUser(login, next(self._ids), token or f"ghp_{secrets.token_hex(12)}", name)
            self.users[login.lower()] = user
            self._user_tokens[user.token] = login.lower()
            return user

    def add_repo(
        self,
        full_name: str,
        *,
        private: bool = False,
        default_branch: str = "main",
        branches: Iterable[str] = (),
        collaborators: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> FakeRepo:
        owner, name = full_name.split("/")
        with self._lock:
            repo = FakeRepo(
                owner,
                name,
                next(self._ids),
                private=private,
                default_branch=default_branch,
                description=description,
                collaborators={k.lower(): v for k, v in (collaborators or {}).items()},
                branches={default_branch, *branches},
            )
            self.repos[full_name.lower()] = repo
            return repo

    def add_issue(
        self,
        full_name: str,
        title: str,
        *,
        user: str,
        body: str | None = None,
        state: str = "open",
        labels: Iterable[str] = (),
        pull_request: bool = False,
        diff: str = "",
    ) -> FakeIssue:
        with self._lock:
            repo = self.repos[full_name.lower()]
            issue = FakeIssue(
                self._next_number(repo),
                title,
                user,
                body,
                state,
                list(labels),
                is_pr=pull_request,
                diff=diff,
            )
            repo.issues[issue.number] = issue
            return issue

    def add_comment(self, full_name: str, number: int, body: str, *, user: str) -> FakeComment:
        with self._lock:
            repo = self.repos[full_name.lower()]
            comment = FakeComment(next(self._ids), number, body, user)
            repo.comments[comment.id] = comment
            return comment

    def add_workflow(
        self, full_name: str, name: str, path: str, *, inputs: Mapping[str, bool] | None = None
    ) -> FakeWorkflow:
        """A workflow; `inputs` maps each workflow_dispatch input to whether it is required."""
        with self._lock:
            workflow = FakeWorkflow(next(self._ids), name, path, dict(inputs or {}))
            self.repos[full_name.lower()].workflows.append(workflow)
            return workflow

    def add_app(
        self, app_id: int, private_key_pem: str | bytes, *, slug: str = "hookshot"
    ) -> FakeApp:
        """A GitHub App whose JWTs are checked against the public half of `private_key_pem`."""
        pem = private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem
        key = serialization.load_pem_private_key(pem, password=None)
        with self._lock:
            app = FakeApp(app_id, slug, key.public_key())
            self.apps[app_id] = app
            return app

    def install_app(
        self, app_id: int, account: str, repos: Iterable[str] | None = None
    ) -> FakeInstallation:
        """Install the app on an account, for some repositories or (None) all of them."""
        with self._lock:
            selected = {r.lower() for r in repos} if repos is not None else None
            inst = FakeInstallation(next(self._ids), app_id, account, selected)
            self.installations[inst.id] = inst
            return inst

    def add_oauth_app(
        self,
        client_id: str,
        client_secret: str,
        *,
        redirect_uri: str | None = None,
        expiring: bool = False,
    ) -> FakeOAuthApp:
        """An OAuth client; `expiring` makes its user tokens expire and carry refresh tokens."""
        with self._lock:
            app = FakeOAuthApp(client_id, client_secret, redirect_uri, expiring)
            self.oauth_apps[client_id] = app
            return app

    def oauth_code(self, client_id: str, login: str, *, expires_in: int | None = None) -> str:
        """A code as GitHub hands to the OAuth callback after `login` approved `client_id`;
        `expires_in` overrides an expiring app's token lifetime for this login."""
        with self._lock:
            code = secrets.token_hex(10)
            self._oauth_codes[code] = _Grant(client_id, login.lower(), expires_in)
            return code

    def token_works(self, token: str) -> bool:
        """Whether GitHub would accept `token` now (not revoked, retired or expired)."""
        with self._lock:
            expiry = self._token_expiry.get(token)
            return token in self._user_tokens and (expiry is None or expiry > time.time())

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
        """Answer the next `times` (None: all) `method path` requests with this error."""
        with self._lock:
            self._failures.append(
                _Failure(
                    method.upper(),
                    path,
                    status,
                    body if body is not None else {"message": "Server Error"},
                    dict(headers or {}),
                    times,
                )
            )

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def _next_number(self, repo: FakeRepo) -> int:
        return max(repo.issues, default=0) + 1

    # --- plumbing -----------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        api: list[tuple[str, str, Callable[..., Awaitable[Response]]]] = [
            ("GET", "/user", self._get_user),
            ("GET", "/user/repos", self._list_user_repos),
            ("GET", "/repos/{owner}/{repo}", self._get_repo),
            (
                "GET",
                "/repos/{owner}/{repo}/collaborators/{login}/permission",
                self._get_permission,
            ),
            ("GET", "/repos/{owner}/{repo}/issues", self._list_issues),
            ("POST", "/repos/{owner}/{repo}/issues", self._create_issue),
            ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}", self._get_comment),
            ("GET", "/repos/{owner}/{repo}/issues/{number:int}", self._get_issue),
            ("PATCH", "/repos/{owner}/{repo}/issues/{number:int}", self._edit_issue),
            ("POST", "/repos/{owner}/{repo}/issues/{number:int}/assignees", self._assign),
            ("POST", "/repos/{owner}/{repo}/issues/{number:int}/reactions", self._react),
            ("GET", "/repos/{owner}/{repo}/issues/{number:int}/comments", self._list_comments),
            ("POST", "/repos/{owner}/{repo}/issues/{number:int}/comments", self._create_comment),
            ("GET", "/repos/{owner}/{repo}/pulls/{number:int}", self._get_pull),
            ("POST", "/repos/{owner}/{repo}/pulls/{number:int}/reviews", self._create_review),
            ("GET", "/repos/{owner}/{repo}/actions/workflows", self._list_workflows),
            ("GET", "/repos/{owner}/{repo}/actions/workflows/{workflow}", self._get_workflow),
            (
                "POST",
                "/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches",
                self._dispatch,
            ),
            ("GET", "/repos/{owner}/{repo}/installation", self._repo_installation),
            ("GET", "/orgs/{owner}/installation", self._owner_installation),
            ("GET", "/users/{owner}/installation", self._owner_installation),
            ("GET", "/app", self._get_app),
            ("GET", "/app/installations", self._list_installations),
            ("POST", "/app/installations/{installation_id:int}/access_tokens", self._mint_token),
            ("GET", "/installation/repositories", self._installation_repos),
            ("DELETE", "/applications/{client_id}/token", self._revoke),
            ("DELETE", "/applications/{client_id}/grant", self._revoke),
        ]
        routes: list[Route] = []
        for prefix in ("", API_PREFIX):
            for method, path, handler in api:
                routes.append(Route(prefix + path, self._wrap(handler, prefix), methods=[method]))
        routes.append(
            Route(
                "/login/oauth/access_token",
                self._wrap(self._oauth_token, ""),
                methods=["POST"],
            )
        )
        routes.append(
            Route("/login/oauth/authorize", self._wrap(self._oauth_authorize, ""), methods=["GET"])
        )
        # Anything else is recorded and answered like GitHub's 404, so a gap shows in `requests`.
        routes.append(
            Route(
                "/{rest:path}",
                self._wrap(self._unknown, ""),
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            )
        )
        return routes

    async def _unknown(self, request: Request, record: RecordedRequest, base: str) -> Response:
        raise _error(404, "Not Found")

    def _wrap(
        self, handler: Callable[..., Awaitable[Response]], prefix: str
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            path = request.url.path
            if path.startswith(API_PREFIX + "/"):
                path = path.removeprefix(API_PREFIX)
            record = RecordedRequest(
                request.method,
                path,
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
                    response = await handler(request, record, self._base(request, prefix))
                except _Answer as answer:
                    response = answer.response
            response.headers.setdefault("x-ratelimit-limit", "5000")
            response.headers.setdefault("x-ratelimit-remaining", "4999")
            response.headers.setdefault("x-ratelimit-reset", str(int(time.time()) + 3600))
            return response

        return endpoint

    def _take_failure(self, record: RecordedRequest) -> _Failure | None:
        for failure in self._failures:
            if failure.method == record.method and failure.path == record.path:
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _base(request: Request, prefix: str) -> str:
        return f"{request.url.scheme}://{request.url.netloc}{prefix}"

    # --- identity -----------------------------------------------------------------------------

    def _caller(self, record: RecordedRequest) -> _Caller:
        header = record.headers.get("authorization")
        if not header:
            return _Caller("anonymous")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token:
            raise _error(401, "Bad credentials")
        if token.count(".") == 2:
            return _Caller("app", app=self._app_for_jwt(token))
        login = self._user_tokens.get(token)
        if login is not None and self._token_expiry.get(token, float("inf")) <= time.time():
            raise _error(401, "Bad credentials")
        if login is not None:
            return _Caller("user", user=self.users[login])
        grant = self.installation_tokens.get(token)
        if grant is not None:
            installation_id, expires = grant
            if expires < time.time():
                raise _error(401, "Bad credentials")
            return _Caller("installation", installation=self.installations[installation_id])
        raise _error(401, "Bad credentials")

    def _app_for_jwt(self, token: str) -> FakeApp:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            app = self.apps[int(claims["iss"])]
            jwt.decode(token, app.public_key, algorithms=["RS256"], leeway=60)
        except (jwt.PyJWTError, KeyError, ValueError):
            raise _error(401, "A JSON web token could not be decoded") from None
        return app

    def _require_app(self, record: RecordedRequest) -> FakeApp:
        caller = self._caller(record)
        if caller.app is None:
            raise _error(401, "A JSON web token could not be decoded")
        return caller.app

    def _role(self, caller: _Caller, repo: FakeRepo) -> str | None:
        """The caller's role on the repository, None when it cannot even see it."""
        if caller.user is not None:
            login = caller.user.login.lower()
            if login == repo.owner.lower():
                return "admin"
            if login in repo.collaborators:
                return repo.collaborators[login]
        if caller.installation is not None and self._covers(caller.installation, repo):
            return "write"
        if not repo.private and caller.kind != "app":
            return "read"
        return None

    @staticmethod
    def _covers(inst: FakeInstallation, repo: FakeRepo) -> bool:
        if inst.account.lower() != repo.owner.lower():
            return False
        return inst.repos is None or repo.full_name.lower() in inst.repos

    def _repo(self, request: Request, record: RecordedRequest) -> tuple[FakeRepo, _Caller, str]:
        caller = self._caller(record)
        key = f"{request.path_params['owner']}/{request.path_params['repo']}".lower()
        repo = self.repos.get(key)
        role = self._role(caller, repo) if repo is not None else None
        if repo is None or role is None:
            raise _error(404, "Not Found")
        return repo, caller, role

    @staticmethod
    def _at_least(role: str, wanted: str) -> bool:
        return ROLES.index(role) >= ROLES.index(wanted)

    @staticmethod
    def _signed_in(caller: _Caller) -> None:
        if caller.kind == "anonymous":
            raise _error(401, "Requires authentication")

    @staticmethod
    def _acting_login(caller: _Caller) -> str:
        if caller.user is not None:
            return caller.user.login
        return "hookshot[bot]"

    # --- JSON shapes --------------------------------------------------------------------------

    def _user_json(self, base: str, login: str) -> JsonDict:
        user = self.users.get(login.lower())
        uid = user.id if user else abs(hash(login)) % 10**6
        web = base.removesuffix(API_PREFIX)
        return {
            "login": user.login if user else login,
            "id": uid,
            "type": "User" if not login.endswith("[bot]") else "Bot",
            "url": f"{base}/users/{login}",
            "html_url": f"{web}/{login}",
            "avatar_url": f"{web}/avatars/{login}.png",
        }

    def _repo_json(self, base: str, repo: FakeRepo, caller: _Caller, role: str) -> JsonDict:
        web = base.removesuffix(API_PREFIX)
        data: JsonDict = {
            "id": repo.id,
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self._user_json(base, repo.owner),
            "private": repo.private,
            "description": repo.description,
            "default_branch": repo.default_branch,
            "url": f"{base}/repos/{repo.full_name}",
            "html_url": f"{web}/{repo.full_name}",
        }
        if caller.user is not None:
            data["permissions"] = {
                "admin": self._at_least(role, "admin"),
                "maintain": self._at_least(role, "maintain"),
                "push": self._at_least(role, "write"),
                "triage": self._at_least(role, "triage"),
                "pull": True,
            }
        return data

    def _issue_json(self, base: str, repo: FakeRepo, issue: FakeIssue) -> JsonDict:
        web = base.removesuffix(API_PREFIX)
        kind = "pull" if issue.is_pr else "issues"
        data: JsonDict = {
            "id": repo.id * 1000 + issue.number,
            "number": issue.number,
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "user": self._user_json(base, issue.user),
            "labels": [{"name": name, "color": "ededed"} for name in issue.labels],
            "assignees": [self._user_json(base, a) for a in issue.assignees],
            "assignee": self._user_json(base, issue.assignees[0]) if issue.assignees else None,
            "url": f"{base}/repos/{repo.full_name}/issues/{issue.number}",
            "html_url": f"{web}/{repo.full_name}/{kind}/{issue.number}",
            "comments": sum(1 for c in repo.comments.values() if c.issue == issue.number),
            "created_at": _iso(issue.created),
        }
        if issue.is_pr:
            data["pull_request"] = {
                "url": f"{base}/repos/{repo.full_name}/pulls/{issue.number}",
                "html_url": f"{web}/{repo.full_name}/pull/{issue.number}",
                "diff_url": f"{web}/{repo.full_name}/pull/{issue.number}.diff",
                "patch_url": f"{web}/{repo.full_name}/pull/{issue.number}.patch",
            }
        return data

    def _comment_json(self, base: str, repo: FakeRepo, comment: FakeComment) -> JsonDict:
        web = base.removesuffix(API_PREFIX)
        return {
            "id": comment.id,
            "body": comment.body,
            "user": self._user_json(base, comment.user),
            "url": f"{base}/repos/{repo.full_name}/issues/comments/{comment.id}",
            "html_url": f"{web}/{repo.full_name}/issues/{comment.issue}#issuecomment-{comment.id}",
            "issue_url": f"{base}/repos/{repo.full_name}/issues/{comment.issue}",
            "created_at": _iso(comment.created),
            "updated_at": _iso(comment.created),
        }

    def _workflow_json(self, base: str, repo: FakeRepo, wf: FakeWorkflow) -> JsonDict:
        web = base.removesuffix(API_PREFIX)
        return {
            "id": wf.id,
            "name": wf.name,
            "path": wf.path,
            "state": wf.state,
            "url": f"{base}/repos/{repo.full_name}/actions/workflows/{wf.id}",
            "html_url": f"{web}/{repo.full_name}/blob/{repo.default_branch}/{wf.path}",
        }

    def _installation_json(self, base: str, inst: FakeInstallation) -> JsonDict:
        return {
            "id": inst.id,
            "app_id": inst.app_id,
            "account": self._user_json(base, inst.account),
            "repository_selection": "all" if inst.repos is None else "selected",
            "access_tokens_url": f"{base}/app/installations/{inst.id}/access_tokens",
            "suspended_at": None,
        }

    def _page(
        self, request: Request, base: str, path: str, items: list[JsonDict]
    ) -> tuple[list[JsonDict], dict[str, str]]:
        """GitHub-style pagination: `page`/`per_page` and a Link header."""
        per_page = max(1, min(100, int(request.query_params.get("per_page", "30"))))
        page = max(1, int(request.query_params.get("page", "1")))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        params = {k: v for k, v in request.query_params.items() if k != "page"}
        if page < last:
            links.append(f'<{base}{path}?{urlencode({**params, "page": page + 1})}>; rel="next"')
            links.append(f'<{base}{path}?{urlencode({**params, "page": last})}>; rel="last"')
        return chunk, ({"link": ", ".join(links)} if links else {})

    # --- handlers: the caller -----------------------------------------------------------------

    async def _get_user(self, request: Request, record: RecordedRequest, base: str) -> Response:
        caller = self._caller(record)
        if caller.user is None:
            if caller.kind == "anonymous":
                raise _error(401, "Requires authentication")
            raise _error(403, "Resource not accessible by integration")
        data = self._user_json(base, caller.user.login)
        data["name"] = caller.user.name
        return JSONResponse(data)

    async def _list_user_repos(
        self, request: Request, record: RecordedRequest, base: str
    ) -> Response:
        caller = self._caller(record)
        if caller.user is None:
            raise _error(401, "Requires authentication")
        login = caller.user.login.lower()
        mine = [
            r
            for r in sorted(self.repos.values(), key=lambda r: r.full_name.lower())
            if r.owner.lower() == login or login in r.collaborators
        ]
        items = [self._repo_json(base, r, caller, self._role(caller, r) or "read") for r in mine]
        chunk, headers = self._page(request, base, "/user/repos", items)
        return JSONResponse(chunk, headers=headers)

    # --- handlers: repositories ---------------------------------------------------------------

    async def _get_repo(self, request: Request, record: RecordedRequest, base: str) -> Response:
        repo, caller, role = self._repo(request, record)
        return JSONResponse(self._repo_json(base, repo, caller, role))

    async def _get_permission(
        self, request: Request, record: RecordedRequest, base: str
    ) -> Response:
        repo, _, _ = self._repo(request, record)
        login = request.path_params["login"].lower()
        if login not in self.users:
            raise _error(404, "Not Found")
        role = self._role(_Caller("user", user=self.users[login]), repo)
        permission = {"read": "read", "triage": "read", "write": "write", "maintain": "write"}
        level = "none" if role is None else permission.get(role, role)
        return JSONResponse(
            {"permission": level, "role_name": role or "none", "user": self._user_json(base, login)}
        )

    # --- handlers: issues ---------------------------------------------------------------------

    async def _list_issues(self, request: Request, record: RecordedRequest, base: str) -> Response:
        repo, _, _ = self._repo(request, record)
        state = request.query_params.get("state", "open")
        issues = [i for i in repo.issues.values() if state == "all" or i.state == state]
        issues.sort(key=lambda i: i.number, reverse=request.query_params.get("direction") != "asc")
        items = [self._issue_json(base, repo, i) for i in issues]
        chunk, headers = self._page(request, base, f"/repos/{repo.full_name}/issues", items)
        return JSONResponse(chunk, headers=headers)

    async def _create_issue(self, request: Request, record: RecordedRequest, base: str) -> Response:
        repo, caller, role = self._repo(request, record)
        self._signed_in(caller)
        data = record.json() or {}
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise _error(
                422,
                "Validation Failed",
                errors=[{"resource": "Issue", "code": "missing_field", "field": "title"}],
            )
        # Like GitHub, labels and assignees from someone who cannot triage are dropped.
        may_triage = self._at_least(role, "triage")
        issue = FakeIssue(
            self._next_number(repo),
            title,
            self._acting_login(caller),
            data.get("body"),
            labels=list(data.get("labels") or []) if may_triage else [],
            assignees=self._assignable(repo, data.get("assignees") or []) if may_triage else [],
        )
        repo.issues[issue.number] = issue
        return JSONResponse(self._issue_json(base, repo, issue), status_code=201)

    def _issue(self, repo: FakeRepo, request: Request) -> FakeIssue:
        issue = repo.issues.get(request.path_params["number"])
        if issue is None:
            raise _error(404, "Not Found")
        return issue

    async def _get_issue(self, request: Request, record: RecordedRequest, base: str) -> Response:
        repo, _, _ = self._repo(request, record)
        return JSONResponse(self._issue_json(base, repo, self._issue(repo, request)))

    async def _edit_issue(self, request: Request, record: RecordedRequest, base: str) -> Response:
        repo, caller, role = self._repo(request, record)
        self._signed_in(caller)
        issue = self._issue(repo, request)
        if not self._at_least(role, "triage") and self._acting_login(caller) != issue.user:
            raise _error(403, "Must have admin rights to Repository.")
        data = record.json() or {}
        if data.get("state") in ("open", "closed"):
            issue.state = data["state"]
        if isinstance(data.get("title"), str):
            issue.title = data["title"]
        if "body" in data:
            issue.body = data["body"]
        return JSONResponse(self._issue_json(base, repo, issue))

    def _assignable(self, repo: FakeRepo, logins: Iterable[Any]) -> list[str]:
        allowed = {repo.owner.lower(), *repo.collaborators}
        return [str(login) for login in logins if str(login).lower() in allowed]

    async def _assign(self, request: Request, record: RecordedRequest, base: str) -> Response:
        repo, caller, role = self._repo(request, record)
        self._signed_in(caller)
        issue = self._issue(repo, request)
        wanted = (record.json() or {}).get("assignees") or []
        # GitHub answers 201 and silently skips what it will not assign.
        if self._at_least(role, "triage"):
            for login in self._assignable(repo, wanted):
                if login not in issue.assignees:
                    issue.assignees.append(login)
        return JSONResponse(self._issue_json(base, repo, issue), status_code=201)

    async def _react(self, request: Request, record: RecordedRequest, base: str) -> Response:
        repo, caller, _ = self._repo(request, record)
        self._signed_in(caller)
        issue = self._issue(repo, request)
        content = (record.json() or {}).get("content")
        if content not in ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"):
            return JSONResponse({"message": "Validation Failed"}, status_code=422)
        login = caller.user.login if caller.user else caller.kind
        issue.reactions.append((login, str(content)))
        return JSONResponse(
            {"id": next(self._ids), "content": content, "user": {"login": login}},
            status_code=201,
        )

    async def _list_comments(
        self, request: Request, record: RecordedRequest, base: str
    ) -> Response:
        repo, _, _ = self._repo(request, record)
        issue = self._issue(repo, request)
        since = request.query_params.get("since")
        floor = datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp() if since else 0
        found = [
            self._comment_json(base, repo, c)
            for c in sorted(repo.comments.values(), key=lambda c: c.id)
            if c.issue == issue.number and c.created >= floor
        ]
        path = f"/repos/{repo.full_name}/issues/{issue.number}/comments"
        chunk, headers = self._page(request, base, path, found)
        return JSONResponse(chunk, headers=headers)

    async def _create_comment(
        self, request: Request, record: RecordedRequest, base: str
    ) -> Response:
        repo, caller, _ = self._repo(request, record)
        self._signed_in(caller)
        issue = self._issue(repo, request)
        body = (record.json() or {}).get("body")
        if not isinstance(body, str) or not body:
            raise _error(
                422,
                "Validation Failed",
                errors=[{"resource": "IssueComment", "code": "missing_field", "field": "body"}],
            )
        comment = FakeComment(next(self._ids), issue.number, body, self._acting_login(caller))
        repo.comments[comment.id] = comment
        return JSONResponse(self._comment_json(base, repo, comment), status_code=201)

    async def _get_comment(self, request: Request, record: RecordedRequest, base: str) -> Response:
        repo, _, _ = self._repo(request, record)
        comment = repo.comments.get(request.path_params["comment_id"])
        if comment is None:
            raise _error(404, "Not Found")
        return JSONResponse(self._comment_json(base, repo, comment))

    # --- handlers: pull requests --------------------------------------------------------------

    def _pull(self, repo: FakeRepo, request: Request) -> FakeIssue:
        issue = repo.issues.get(request.path_params["number"])
        if issue is None or not issue.is_pr:
            raise _error(404, "Not Found")
        return issue

    async def _get_pull(self, request: Request, record: RecordedRequest, base: str) -> Response:
        repo, _, _ = self._repo(request, record)
        pull = self._pull(repo, request)
        if "diff" in record.headers.get("accept", ""):
            return PlainTextResponse(pull.diff, media_type="application/vnd.github.v3.diff")
        data = self._issue_json(base, repo, pull)
        data.pop("pull_request", None)
        web = base.removesuffix(API_PREFIX)
        data.update(
            url=f"{base}/repos/{repo.full_name}/pulls/{pull.number}",
            diff_url=f"{web}/{repo.full_name}/pull/{pull.number}.diff",
            merged=False,
            draft=False,
            head={"ref": "feature", "sha": "0" * 40},
            base={"ref": repo.default_branch, "sha": "1" * 40},
        )
        return JSONResponse(data)

    async def _create_review(
        self, request: Request, record: RecordedRequest, base: str
    ) -> Response:
        repo, caller, _ = self._repo(request, record)
        self._signed_in(caller)
        pull = self._pull(repo, request)
        data = record.json() or {}
        event = data.get("event", "PENDING")
        body = data.get("body") or ""
        author = self._acting_login(caller)
        if event in ("APPROVE", "REQUEST_CHANGES") and author.lower() == pull.user.lower():
            verb = "approve" if event == "APPROVE" else "request changes on"
            raise _error(
                422, "Unprocessable Entity", errors=[f"Can not {verb} your own pull request"]
            )
        if event in ("REQUEST_CHANGES", "COMMENT") and not body:
            raise _error(
                422,
                "Unprocessable Entity",
                errors=[f"Review Body is required when using {event} event"],
            )
        state = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}.get(
            event, "COMMENTED" if event == "COMMENT" else "PENDING"
        )
        review_id = next(self._ids)
        web = base.removesuffix(API_PREFIX)
        review = {
            "id": review_id,
            "state": state,
            "body": body,
            "user": self._user_json(base, author),
            "html_url": f"{web}/{repo.full_name}/pull/{pull.number}#pullrequestreview-{review_id}",
            "pull_request_url": f"{base}/repos/{repo.full_name}/pulls/{pull.number}",
        }
        repo.reviews.append({"number": pull.number, **review})
        return JSONResponse(review)

    # --- handlers: actions --------------------------------------------------------------------

    def _workflow(self, repo: FakeRepo, key: str) -> FakeWorkflow:
        for wf in repo.workflows:
            if str(wf.id) == key or wf.path.rsplit("/", 1)[-1] == key:
                return wf
        raise _error(404, "Not Found")

    async def _list_workflows(
        self, request: Request, record: RecordedRequest, base: str
    ) -> Response:
        repo, _, _ = self._repo(request, record)
        items = [self._workflow_json(base, repo, wf) for wf in repo.workflows]
        path = f"/repos/{repo.full_name}/actions/workflows"
        chunk, headers = self._page(request, base, path, items)
        return JSONResponse({"total_count": len(items), "workflows": chunk}, headers=headers)

    async def _get_workflow(self, request: Request, record: RecordedRequest, base: str) -> Response:
        repo, _, _ = self._repo(request, record)
        wf = self._workflow(repo, request.path_params["workflow"])
        return JSONResponse(self._workflow_json(base, repo, wf))

    async def _dispatch(self, request: Request, record: RecordedRequest, base: str) -> Response:
        repo, caller, role = self._repo(request, record)
        self._signed_in(caller)
        wf = self._workflow(repo, request.path_params["workflow"])
        if not self._at_least(role, "write"):
            raise _error(403, "Must have admin rights to Repository.")
        data = record.json() or {}
        ref = str(data.get("ref") or "")
        if ref.removeprefix("refs/heads/") not in repo.branches:
            raise _error(422, f"No ref found for: {ref}")
        inputs = data.get("inputs") or {}
        unexpected = sorted(set(inputs) - set(wf.inputs))
        if unexpected:
            raise _error(422, f"Unexpected inputs provided: {json.dumps(unexpected)}")
        for name, required in wf.inputs.items():
            if required and name not in inputs:
                raise _error(422, f"Required input '{name}' not provided")
        repo.dispatches.append({"workflow": wf.id, "ref": ref, "inputs": inputs})
        return Response(status_code=204)

    # --- handlers: apps -----------------------------------------------------------------------

    def _installation_for(self, app: FakeApp, owner: str, repo: FakeRepo | None) -> JsonDict:
        for inst in self.installations.values():
            if inst.app_id != app.id or inst.account.lower() != owner.lower():
                continue
            if repo is None or self._covers(inst, repo):
                return {"id": inst.id, "installation": inst}
        raise _error(404, "Not Found")

    async def _repo_installation(
        self, request: Request, record: RecordedRequest, base: str
    ) -> Response:
        app = self._require_app(record)
        owner = request.path_params["owner"]
        repo = self.repos.get(f"{owner}/{request.path_params['repo']}".lower())
        if repo is None:
            raise _error(404, "Not Found")
        found = self._installation_for(app, owner, repo)
        return JSONResponse(self._installation_json(base, found["installation"]))

    async def _owner_installation(
        self, request: Request, record: RecordedRequest, base: str
    ) -> Response:
        app = self._require_app(record)
        found = self._installation_for(app, request.path_params["owner"], None)
        return JSONResponse(self._installation_json(base, found["installation"]))

    async def _get_app(self, request: Request, record: RecordedRequest, base: str) -> Response:
        app = self._require_app(record)
        web = base.removesuffix(API_PREFIX)
        return JSONResponse(
            {
                "id": app.id,
                "slug": app.slug,
                "name": app.slug,
                "owner": self._user_json(base, "hookshot-owner"),
                "html_url": f"{web}/apps/{app.slug}",
                "created_at": _iso(0),
                "updated_at": _iso(0),
            }
        )

    async def _list_installations(
        self, request: Request, record: RecordedRequest, base: str
    ) -> Response:
        app = self._require_app(record)
        items = [
            self._installation_json(base, inst)
            for inst in self.installations.values()
            if inst.app_id == app.id
        ]
        chunk, headers = self._page(request, base, "/app/installations", items)
        return JSONResponse(chunk, headers=headers)

    async def _mint_token(self, request: Request, record: RecordedRequest, base: str) -> Response:
        app = self._require_app(record)
        inst = self.installations.get(request.path_params["installation_id"])
        if inst is None or inst.app_id != app.id:
            raise _error(404, "Not Found")
        token = f"ghs_{secrets.token_hex(16)}"
        expires = time.time() + self.installation_token_ttl.total_seconds()
        self.installation_tokens[token] = (inst.id, expires)
        return JSONResponse(
            {
                "token": token,
                "expires_at": _iso(expires),
                "permissions": {"issues": "write", "pull_requests": "write", "actions": "write"},
                "repository_selection": "all" if inst.repos is None else "selected",
            },
            status_code=201,
        )

    async def _installation_repos(
        self, request: Request, record: RecordedRequest, base: str
    ) -> Response:
        caller = self._caller(record)
        if caller.installation is None:
            raise _error(403, "This endpoint requires an installation token")
        inst = caller.installation
        repos = [r for r in self.repos.values() if self._covers(inst, r)]
        items = [self._repo_json(base, r, caller, "write") for r in repos]
        chunk, headers = self._page(request, base, "/installation/repositories", items)
        return JSONResponse({"total_count": len(items), "repositories": chunk}, headers=headers)

    # --- handlers: OAuth ----------------------------------------------------------------------

    async def _oauth_authorize(
        self, request: Request, record: RecordedRequest, base: str
    ) -> Response:
        """The consent page, approved at once as `login` (a query parameter the fake adds;
        so is `expires_in`, which makes this login's tokens expire after that many seconds)."""
        params = request.query_params
        app = self.oauth_apps.get(params.get("client_id", ""))
        login = params.get("login", "")
        if app is None or login.lower() not in self.users:
            return PlainTextResponse("Unknown client_id or login", status_code=404)
        redirect = params.get("redirect_uri") or app.redirect_uri or ""
        lifetime = params.get("expires_in")
        code = self.oauth_code(app.client_id, login, expires_in=int(lifetime) if lifetime else None)
        query = urlencode({"code": code, "state": params.get("state", "")})
        return RedirectResponse(f"{redirect}{'&' if '?' in redirect else '?'}{query}", 302)

    async def _oauth_token(self, request: Request, record: RecordedRequest, base: str) -> Response:
        # GitHub takes the parameters in the query string (as hookshot sends them) or the body.
        params = {**record.query, **record.form()}
        wants_json = "json" in record.headers.get("accept", "")
        app = self.oauth_apps.get(params.get("client_id", ""))
        if app is None or app.client_secret != params.get("client_secret"):
            return _oauth_answer(
                wants_json,
                error="incorrect_client_credentials",
                error_description="The client_id and/or client_secret passed are incorrect.",
            )
        if params.get("grant_type") == "refresh_token":
            found = self._refresh_tokens.pop(params.get("refresh_token", ""), None)
            if found is None or found[0].client_id != app.client_id:
                return _oauth_answer(
                    wants_json,
                    error="bad_refresh_token",
                    error_description="The refresh token passed is incorrect or expired.",
                )
            grant, old_token = found
            # GitHub: once a refresh token is used, it and the old access token stop working.
            self._forget_token(old_token)
        else:
            code_grant = self._oauth_codes.pop(params.get("code", ""), None)
            if code_grant is None or code_grant.client_id != app.client_id:
                return _oauth_answer(
                    wants_json,
                    error="bad_verification_code",
                    error_description="The code passed is incorrect or expired.",
                )
            redirect = params.get("redirect_uri")
            if app.redirect_uri and redirect and redirect != app.redirect_uri:
                return _oauth_answer(
                    wants_json,
                    error="redirect_uri_mismatch",
                    error_description="The redirect_uri MUST match the registered callback URL.",
                )
            grant = code_grant
        expiring = app.expiring or grant.expires_in is not None
        token = f"{'ghu' if expiring else 'gho'}_{secrets.token_hex(16)}"
        self._user_tokens[token] = grant.login
        self._oauth_tokens[token] = grant
        answer: dict[str, str | int] = {"access_token": token, "token_type": "bearer", "scope": ""}
        if expiring:
            lifetime = grant.expires_in if grant.expires_in is not None else app.expires_in
            refresh = f"ghr_{secrets.token_hex(16)}"
            self._refresh_tokens[refresh] = (grant, token)
            self._token_expiry[token] = time.time() + lifetime
            answer.update(
                expires_in=lifetime, refresh_token=refresh, refresh_token_expires_in=15811200
            )
        return _oauth_answer(wants_json, **answer)

    def _forget_token(self, token: str) -> None:
        self._user_tokens.pop(token, None)
        self._oauth_tokens.pop(token, None)
        self._token_expiry.pop(token, None)

    async def _revoke(self, request: Request, record: RecordedRequest, base: str) -> Response:
        """DELETE /applications/{client_id}/token (that token) or /grant (every token of that
        user for the app): Basic auth with the app's client id and secret, body
        `{"access_token"}`; 204 when done."""
        client_id = request.path_params["client_id"]
        app = self.oauth_apps.get(client_id)
        scheme, _, encoded = record.headers.get("authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            user = password = ""
        if (
            app is None
            or scheme.lower() != "basic"
            or (user, password)
            != (
                app.client_id,
                app.client_secret,
            )
        ):
            raise _error(404, "Not Found")
        try:
            body = json.loads(record.body or b"{}")
        except ValueError:
            raise _error(400, "Problems parsing JSON") from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise _error(422, "Validation Failed", errors=[{"field": "access_token"}])
        grant = self._oauth_tokens.get(token)
        if grant is None or grant.client_id != client_id:
            raise _error(404, "Not Found")
        if record.path.endswith("/grant"):
            who = (grant.client_id, grant.login)
            retired = [t for t, g in self._oauth_tokens.items() if (g.client_id, g.login) == who]
            self._refresh_tokens = {
                r: v for r, v in self._refresh_tokens.items() if (v[0].client_id, v[0].login) != who
            }
        else:
            retired = [token]
        for old in retired:
            self._forget_token(old)
        return Response(status_code=204)


def _oauth_answer(wants_json: bool, **fields: str | int) -> Response:
    """GitHub answers 200 even for errors; JSON when asked, form-encoded otherwise."""
    if wants_json:
        return JSONResponse(fields)
    return PlainTextResponse(
        urlencode({k: str(v) for k, v in fields.items()}),
        media_type="application/x-www-form-urlencoded",
    )
