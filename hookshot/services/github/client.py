"""GitHub's REST API for the bridge, through PyGithub, off the event loop.

PyGithub is synchronous (requests), so each call runs in a worker thread with
`asyncio.to_thread`. A `GitHubClient` is one identity: a user's token, or one installation
of the bridge's GitHub App (`GitHubApp.client_for_repo`). Every failure comes out as a
`GitHubError` whose message is meant for the user.

Base URLs follow hookshot: github.com's API is https://api.github.com and its OAuth pages are
on https://github.com; with `github.enterpriseUrl` the API is `<origin>/api/v3` and the OAuth
pages are `<enterpriseUrl>/login/oauth/…`. Tests point both at a fake server. The OAuth calls
(`github login`, refresh, revoke) are in `oauth_api.py`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives import serialization

from hookshot.errors import CommandError, ConfigError
from hookshot.ops.redaction import register_secret
from hookshot.services.github.config import GitHubConfig

# PyGithub (~19 MiB and 0.4 s to import) loads on first use: a bridge without GitHub never
# pays for it. Functions import what they need; the names below are for annotations only.
if TYPE_CHECKING:
    from github import Auth, Github, GithubException
    from github.Issue import Issue
    from github.IssueComment import IssueComment
    from github.Repository import Repository

T = TypeVar("T")

GITHUB_CLOUD_API: Final = "https://api.github.com"
GITHUB_CLOUD_WEB: Final = "https://github.com"
USER_AGENT: Final = "hookshot-python"
DIFF_MEDIA_TYPE: Final = "application/vnd.github.v3.diff"
ReviewEvent = Literal["APPROVE", "REQUEST_CHANGES", "COMMENT"]
REVIEW_EVENTS: Final[tuple[str, ...]] = ("APPROVE", "REQUEST_CHANGES", "COMMENT")
DEFAULT_TIMEOUT: Final = 15
# Installation tokens live an hour; renew a little early so a call never carries a stale one.
_TOKEN_RENEW_MARGIN: Final = timedelta(minutes=5)
_WORKFLOW_FILE_SUFFIXES: Final = (".yml", ".yaml")


# --- errors -----------------------------------------------------------------------------------


class GitHubError(CommandError):
    """GitHub refused or failed a call. `message` is for the user; `status` is GitHub's HTTP
    status, or None when GitHub could not be reached."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class GitHubNotFound(GitHubError):
    """404: the thing does not exist, or this identity cannot see it (GitHub does not say)."""


class GitHubUnauthorized(GitHubError):
    """401: the token (or the app's key) is not valid any more."""


class GitHubRateLimited(GitHubError):
    """GitHub's rate limit was hit; `retry_at` is when it lifts, if GitHub said."""

    def __init__(self, status: int, message: str, retry_at: datetime | None) -> None:
        super().__init__(status, message)
        self.retry_at = retry_at


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _details(text: str, data: Mapping[str, Any]) -> str:
    """GitHub's message plus its `errors` list (422s carry the useful part there)."""
    reasons: list[str] = []
    errors = data.get("errors")
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, str):
            reasons.append(item)
        elif isinstance(item, dict):
            why = item.get("message") or " ".join(
                str(item[k]).replace("_", " ") for k in ("field", "code") if item.get(k)
            )
            if why:
                reasons.append(str(why))
    if reasons:
        return f"{text or 'Validation failed'}: {'; '.join(reasons)}"
    return text or "no reason given"


def _retry_at(headers: Mapping[str, str]) -> datetime | None:
    after = headers.get("retry-after", "")
    if after.isdigit():
        return datetime.now(UTC) + timedelta(seconds=int(after))
    reset = headers.get("x-ratelimit-reset", "")
    if reset.isdigit():
        return datetime.fromtimestamp(int(reset), UTC)
    return None


def _github_error(err: GithubException, *, not_found: str, as_app: bool) -> GitHubError:
    """Turn PyGithub's exception into one whose message a user can act on."""
    from github.GithubException import RateLimitExceededException

    status = err.status
    data: Mapping[str, Any] = err.data if isinstance(err.data, dict) else {}
    text = str(data.get("message") or err.message or "").strip()
    headers = {k.lower(): str(v) for k, v in (err.headers or {}).items()}
    limited = status == 403 and headers.get("x-ratelimit-remaining") == "0"
    if isinstance(err, RateLimitExceededException) or status == 429 or limited:
        retry_at = _retry_at(headers)
        when = f"after {retry_at:%H:%M} UTC" if retry_at else "later"
        return GitHubRateLimited(
            status, f"GitHub's rate limit was reached; try again {when}.", retry_at
        )
    if status == 401:
        if as_app:
            return GitHubUnauthorized(
                401, "GitHub refused the bridge's GitHub App credentials (github.auth)."
            )
        return GitHubUnauthorized(
            401,
            "Your GitHub token is not valid; log in again with `github login` "
            "or `github setpersonaltoken`.",
        )
    if status == 404:
        return GitHubNotFound(404, not_found)
    if status == 403:
        return GitHubError(403, _sentence(f"GitHub refused: {text or 'forbidden'}"))
    if status in (400, 406, 409, 410, 422):
        return GitHubError(status, _sentence(f"GitHub could not do that: {_details(text, data)}"))
    if status >= 500:
        return GitHubError(status, f"GitHub is having trouble ({status}); try again later.")
    return GitHubError(status, _sentence(f"GitHub answered {status}: {text or 'no reason'}"))


# --- base URLs --------------------------------------------------------------------------------


def api_url_for(enterprise_url: str | None = None) -> str:
    """The REST API base for `github.enterpriseUrl` (hookshot puts it at the origin's /api/v3)."""
    if not enterprise_url:
        return GITHUB_CLOUD_API
    parts = urlsplit(enterprise_url)
    if parts.hostname == "api.github.com":
        return enterprise_url.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, "/api/v3", "", ""))


def web_url_for(enterprise_url: str | None = None) -> str:
    """The base of the OAuth pages (`…/login/oauth/…`) for `github.enterpriseUrl`."""
    if not enterprise_url or urlsplit(enterprise_url).hostname == "api.github.com":
        return GITHUB_CLOUD_WEB
    return enterprise_url.rstrip("/")


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepoPermissions:
    """What the calling user may do on a repository (GitHub's `permissions` object)."""

    admin: bool = False
    maintain: bool = False
    push: bool = False
    triage: bool = False
    pull: bool = False


@dataclass(frozen=True, slots=True)
class RepoInfo:
    id: int
    full_name: str
    html_url: str
    private: bool
    default_branch: str
    description: str | None
    # None when the caller is an app installation: GitHub only reports a user's permissions.
    permissions: RepoPermissions | None

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass(frozen=True, slots=True)
class IssueInfo:
    number: int
    title: str
    state: str
    html_url: str
    is_pr: bool
    user: str | None
    body: str | None
    labels: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CommentInfo:
    id: int
    body: str
    html_url: str
    user: str | None
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    login: str
    name: str | None
    html_url: str
    avatar_url: str | None


@dataclass(frozen=True, slots=True)
class ReviewInfo:
    id: int
    state: str
    html_url: str
    body: str | None


@dataclass(frozen=True, slots=True)
class WorkflowInfo:
    id: int
    name: str
    path: str
    state: str


@dataclass(frozen=True, slots=True)
class InstallationInfo:
    id: int
    account: str | None
    repository_selection: str | None


@dataclass(frozen=True, slots=True)
class AppInfo:
    id: int
    slug: str | None
    name: str
    html_url: str


def _repo_info(repo: Repository) -> RepoInfo:
    perms = repo.permissions
    return RepoInfo(
        id=repo.id,
        full_name=repo.full_name,
        html_url=repo.html_url,
        private=bool(repo.private),
        default_branch=repo.default_branch,
        description=repo.description,
        permissions=(
            RepoPermissions(
                admin=bool(perms.admin),
                maintain=bool(perms.maintain),
                push=bool(perms.push),
                triage=bool(perms.triage),
                pull=bool(perms.pull),
            )
            if perms is not None
            else None
        ),
    )


def _issue_info(issue: Issue) -> IssueInfo:
    return IssueInfo(
        number=issue.number,
        title=issue.title,
        state=issue.state,
        html_url=issue.html_url,
        is_pr=issue.pull_request is not None,
        user=issue.user.login if issue.user is not None else None,
        body=issue.body,
        labels=tuple(label.name for label in issue.labels or ()),
        assignees=tuple(user.login for user in issue.assignees or ()),
    )


def _comment_info(comment: IssueComment) -> CommentInfo:
    return CommentInfo(
        id=comment.id,
        body=comment.body or "",
        html_url=comment.html_url,
        user=comment.user.login if comment.user is not None else None,
        created_at=comment.created_at,
    )


def _repo_name(full_name: str) -> str:
    owner, _, name = full_name.strip().partition("/")
    if not owner or not name or "/" in name:
        raise GitHubError(None, f'"{full_name}" is not a repository name like "owner/repo".')
    return f"{owner}/{name}"


# --- a client for one identity ----------------------------------------------------------------


class GitHubClient:
    """GitHub as one identity (a user's token or an app installation). Close it when done."""

    def __init__(
        self,
        auth: Auth.Auth,
        *,
        api_url: str = GITHUB_CLOUD_API,
        as_app: bool = False,
        timeout: int = DEFAULT_TIMEOUT,
    ) -> None:
        from github import Github

        self.api_url = api_url.rstrip("/")
        self.as_app = as_app
        # lazy: objects are built without a GET until a missing attribute is read, so a write
        # is one request. No throttling or retries: these calls answer a waiting user.
        self._gh = Github(
            auth=auth,
            base_url=self.api_url,
            timeout=timeout,
            user_agent=USER_AGENT,
            per_page=100,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )
        # PyGithub objects are not thread-safe; one call at a time per identity.
        self._lock = threading.Lock()

    @classmethod
    def for_token(
        cls, token: str, *, api_url: str = GITHUB_CLOUD_API, timeout: int = DEFAULT_TIMEOUT
    ) -> GitHubClient:
        """A client acting as the user whose (OAuth or personal) token this is."""
        from github import Auth

        return cls(Auth.Token(token), api_url=api_url, timeout=timeout)

    def close(self) -> None:
        self._gh.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(
        self, exc: type[BaseException] | None, val: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> GitHubClient:
        return self

    async def __aexit__(
        self, exc: type[BaseException] | None, val: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def _run(self, call: Callable[[Github], T], *, not_found: str) -> T:
        from github import GithubException

        def locked() -> T:
            with self._lock:
                return call(self._gh)

        try:
            return await asyncio.to_thread(locked)
        except GithubException as err:
            raise _github_error(err, not_found=not_found, as_app=self.as_app) from err
        except OSError as err:  # requests' errors are OSErrors
            raise GitHubError(None, f"Could not reach GitHub at {self.api_url}.") from err

    # --- repositories -----------------------------------------------------------------------

    async def get_repo(self, full_name: str) -> RepoInfo:
        """The repository, with the caller's permissions on it when the caller is a user."""
        name = _repo_name(full_name)

        def call(gh: Github) -> RepoInfo:
            repo = gh.get_repo(name)
            repo.complete()
            return _repo_info(repo)

        return await self._run(call, not_found=f"No such repository {name} or no access to it.")

    async def get_permission_level(self, full_name: str, login: str) -> str:
        """`login`'s role on the repository: "admin", "write", "read" or "none"."""
        name = _repo_name(full_name)
        return await self._run(
            lambda gh: gh.get_repo(name).get_collaborator_permission(login),
            not_found=f"No such repository {name} or no access to it.",
        )

    async def list_user_repos(self, limit: int = 100) -> list[RepoInfo]:
        """Repositories the user can see (owner, collaborator, organisation member)."""

        def call(gh: Github) -> list[RepoInfo]:
            found: list[RepoInfo] = []
            for repo in gh.get_user().get_repos():
                if len(found) >= limit:
                    break
                found.append(_repo_info(repo))
            return found

        return await self._run(call, not_found="GitHub could not list your repositories.")

    # --- issues -----------------------------------------------------------------------------

    async def create_issue(
        self, full_name: str, title: str, body: str | None = None, labels: Sequence[str] = ()
    ) -> IssueInfo:
        name = _repo_name(full_name)

        def call(gh: Github) -> IssueInfo:
            repo = gh.get_repo(name)
            if body is not None:
                return _issue_info(repo.create_issue(title=title, body=body, labels=list(labels)))
            return _issue_info(repo.create_issue(title=title, labels=list(labels)))

        return await self._run(call, not_found=f"No such repository {name} or no access to it.")

    async def get_issue_or_pr(self, full_name: str, number: int) -> IssueInfo:
        """An issue or pull request by number (`is_pr` tells which)."""
        name = _repo_name(full_name)

        def call(gh: Github) -> IssueInfo:
            issue = gh.get_repo(name).get_issue(number)
            issue.complete()
            return _issue_info(issue)

        return await self._run(call, not_found=_no_issue(name, number))

    async def latest_issue_number(self, full_name: str) -> int | None:
        """The newest open issue or PR's number (hookshot's `assign` default), None if none."""
        name = _repo_name(full_name)

        def call(gh: Github) -> int | None:
            _, data = gh.requester.requestJsonAndCheck(
                "GET",
                f"/repos/{name}/issues",
                parameters={"sort": "created", "direction": "desc", "per_page": 1},
            )
            if isinstance(data, list) and data and isinstance(data[0], dict):
                number = data[0].get("number")
                return number if isinstance(number, int) else None
            return None

        return await self._run(call, not_found=f"No such repository {name} or no access to it.")

    async def add_assignees(self, full_name: str, number: int, logins: Sequence[str]) -> IssueInfo:
        """Assign users; GitHub silently skips logins it cannot assign, so compare the
        returned `assignees` with what was asked."""
        name = _repo_name(full_name)

        def call(gh: Github) -> IssueInfo:
            issue = gh.get_repo(name).get_issue(number)
            issue.add_to_assignees(*logins)
            return _issue_info(issue)

        return await self._run(call, not_found=_no_issue(name, number))

    async def add_issue_reaction(self, full_name: str, number: int, content: str) -> None:
        """React to an issue or PR (`+1`, `-1`, `laugh`, `hooray`, `confused`, `heart`,
        `rocket`, `eyes`)."""
        name = _repo_name(full_name)

        def call(gh: Github) -> None:
            gh.get_repo(name).get_issue(number).create_reaction(content)

        await self._run(call, not_found=_no_issue(name, number))

    async def close_issue(
        self, full_name: str, number: int, comment: str | None = None
    ) -> IssueInfo:
        """Close an issue or PR, first commenting when `comment` is given (as hookshot does)."""
        name = _repo_name(full_name)

        def call(gh: Github) -> IssueInfo:
            issue = gh.get_repo(name).get_issue(number)
            if comment:
                issue.create_comment(comment)
            issue.edit(state="closed")
            return _issue_info(issue)

        return await self._run(call, not_found=_no_issue(name, number))

    async def create_comment(self, full_name: str, number: int, body: str) -> CommentInfo:
        name = _repo_name(full_name)
        return await self._run(
            lambda gh: _comment_info(gh.get_repo(name).get_issue(number).create_comment(body)),
            not_found=_no_issue(name, number),
        )

    async def get_comment(self, full_name: str, comment_id: int) -> CommentInfo:
        """An issue or PR comment by its id."""
        name = _repo_name(full_name)

        from github.IssueComment import IssueComment

        def call(gh: Github) -> CommentInfo:
            comment = IssueComment(gh.requester, url=f"/repos/{name}/issues/comments/{comment_id}")
            comment.complete()
            return _comment_info(comment)

        return await self._run(call, not_found=f"No such comment {comment_id} in {name}.")

    async def list_issue_comments(
        self, full_name: str, number: int, since: datetime | None = None
    ) -> list[CommentInfo]:
        """Comments on an issue or PR, oldest first, optionally only those since `since`."""
        name = _repo_name(full_name)

        def call(gh: Github) -> list[CommentInfo]:
            issue = gh.get_repo(name).get_issue(number)
            found = issue.get_comments(since=since) if since else issue.get_comments()
            return [_comment_info(c) for c in found]

        return await self._run(call, not_found=_no_issue(name, number))

    # --- pull requests ----------------------------------------------------------------------

    async def get_pr_diff(self, full_name: str, number: int) -> str:
        """The pull request's unified diff."""
        name = _repo_name(full_name)

        def call(gh: Github) -> str:
            status, headers, body = gh.requester.requestJson(
                "GET", f"/repos/{name}/pulls/{number}", headers={"Accept": DIFF_MEDIA_TYPE}
            )
            if status >= 400:
                raise gh.requester.createException(status, headers, _json_or_empty(body))
            return body

        return await self._run(call, not_found=f"No such pull request #{number} in {name}.")

    async def create_review(
        self, full_name: str, number: int, event: ReviewEvent, body: str = ""
    ) -> ReviewInfo:
        """Approve, request changes on, or comment on a pull request."""
        if event not in REVIEW_EVENTS:
            raise GitHubError(None, f"A review is one of {', '.join(REVIEW_EVENTS)}.")
        name = _repo_name(full_name)

        def call(gh: Github) -> ReviewInfo:
            pull = gh.get_repo(name).get_pull(number)
            review = pull.create_review(body=body, event=event)
            return ReviewInfo(
                id=review.id, state=review.state, html_url=review.html_url, body=review.body
            )

        return await self._run(call, not_found=f"No such pull request #{number} in {name}.")

    # --- actions ----------------------------------------------------------------------------

    async def list_workflows(self, full_name: str) -> list[WorkflowInfo]:
        name = _repo_name(full_name)

        def call(gh: Github) -> list[WorkflowInfo]:
            return [
                WorkflowInfo(id=w.id, name=w.name, path=w.path, state=w.state)
                for w in gh.get_repo(name).get_workflows()
            ]

        return await self._run(call, not_found=f"No such repository {name} or no access to it.")

    async def trigger_workflow(
        self,
        full_name: str,
        workflow: str,
        ref: str | None = None,
        inputs: Mapping[str, str] | None = None,
    ) -> WorkflowInfo:
        """Dispatch a workflow named like hookshot's `workflow run` (its name, any case) or by
        file name (`ci.yml`), on `ref` or the default branch."""
        name = _repo_name(full_name)
        target = await self._find_workflow(name, workflow.strip())
        if ref is None:
            ref = (await self.get_repo(name)).default_branch
        dispatch_ref = ref

        def call(gh: Github) -> WorkflowInfo:
            gh.get_repo(name).get_workflow(target.id).create_dispatch(
                dispatch_ref, dict(inputs or {}), throw=True
            )
            return target

        await self._run(call, not_found=f'No such workflow "{workflow}" in {name}.')
        return target

    async def _find_workflow(self, name: str, workflow: str) -> WorkflowInfo:
        if workflow.lower().endswith(_WORKFLOW_FILE_SUFFIXES):

            def by_file(gh: Github) -> WorkflowInfo:
                found = gh.get_repo(name).get_workflow(workflow.rsplit("/", 1)[-1])
                return WorkflowInfo(
                    id=found.id, name=found.name, path=found.path, state=found.state
                )

            return await self._run(by_file, not_found=f'No workflow file "{workflow}" in {name}.')
        workflows = await self.list_workflows(name)
        wanted = workflow.lower()
        for candidate in workflows:
            if candidate.name.lower().strip() == wanted:
                return candidate
        names = ", ".join(w.name for w in workflows) or "none"
        raise GitHubNotFound(
            404,
            f'Could not find a workflow by the name of "{workflow}". '
            f"The workflows on this repository are {names}.",
        )

    # --- the caller -------------------------------------------------------------------------

    async def get_authenticated_user(self) -> UserInfo:
        """Who this token belongs to (how `github setpersonaltoken` checks a token)."""

        def call(gh: Github) -> UserInfo:
            me = gh.get_user()
            me.complete()
            return UserInfo(
                id=me.id,
                login=me.login,
                name=me.name,
                html_url=me.html_url,
                avatar_url=me.avatar_url,
            )

        return await self._run(call, not_found="GitHub does not know this token's user.")


def _no_issue(name: str, number: int) -> str:
    return f"No such issue or pull request #{number} in {name}, or no access to it."


def _json_or_empty(body: str) -> dict[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --- the bridge's GitHub App ------------------------------------------------------------------


@functools.cache
def _installation_auth() -> Callable[[GitHubApp, int], Auth.Auth]:
    """PyGithub's per-request auth for one installation, its token minted and renewed by the
    app (a class made on first use, as its base class is PyGithub's)."""
    from github import Auth

    class InstallationAuth(Auth.Auth):
        def __init__(self, app: GitHubApp, installation_id: int) -> None:
            self._app = app
            self._installation_id = installation_id

        @property
        def token_type(self) -> str:
            return "token"

        @property
        def token(self) -> str:
            return self._app.installation_token_sync(self._installation_id)

    return InstallationAuth


class GitHubApp:
    """The bridge acting as its GitHub App: JWT as the app, installation tokens per repo."""

    def __init__(
        self,
        app_id: int | str,
        private_key: str,
        *,
        api_url: str = GITHUB_CLOUD_API,
        timeout: int = DEFAULT_TIMEOUT,
    ) -> None:
        from github import Auth, GithubIntegration

        self.app_id = str(app_id)
        self.api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._integration = GithubIntegration(
            auth=Auth.AppAuth(self.app_id, private_key),
            base_url=self.api_url,
            timeout=timeout,
            user_agent=USER_AGENT,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )
        # Guards the integration and both caches; token minting happens in worker threads.
        self._lock = threading.Lock()
        self._repo_installations: dict[str, int] = {}
        self._tokens: dict[int, tuple[str, datetime]] = {}
        self._clients: dict[int, GitHubClient] = {}

    @classmethod
    def from_config(cls, config: GitHubConfig, *, api_url: str | None = None) -> GitHubApp:
        """From `github.auth` (id + privateKeyFile); `api_url` overrides `enterpriseUrl`."""
        if not config.app_id or not config.private_key_file:
            raise ConfigError("github.auth", "needs id and privateKeyFile to act as a GitHub App")
        path = Path(config.private_key_file)
        try:
            pem = path.read_bytes()
        except OSError as err:
            raise ConfigError(
                "github.auth.privateKeyFile", f"cannot read {path}: {err.strerror}"
            ) from None
        try:
            serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise ConfigError(
                "github.auth.privateKeyFile", f"{path} is not a PEM private key"
            ) from None
        return cls(
            config.app_id,
            pem.decode("ascii"),
            api_url=api_url or api_url_for(config.enterprise_url),
        )

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()
        self._integration.close()

    async def _run(self, call: Callable[[], T], *, not_found: str) -> T:
        from github import GithubException

        try:
            return await asyncio.to_thread(call)
        except GithubException as err:
            raise _github_error(err, not_found=not_found, as_app=True) from err
        except OSError as err:  # requests' errors are OSErrors
            raise GitHubError(None, f"Could not reach GitHub at {self.api_url}.") from err

    async def app_info(self) -> AppInfo:
        """The app itself (its `html_url` is where users install it)."""

        def call() -> AppInfo:
            with self._lock:
                app = self._integration.get_app()
                return AppInfo(id=app.id, slug=app.slug, name=app.name, html_url=app.html_url)

        return await self._run(call, not_found="GitHub does not know this GitHub App.")

    async def installation_for_repo(self, full_name: str) -> InstallationInfo:
        name = _repo_name(full_name)
        owner, repo = name.split("/")

        def call() -> InstallationInfo:
            with self._lock:
                found = self._integration.get_repo_installation(owner, repo)
                info = _installation_info(found.id, found.raw_data)
                self._repo_installations[name.lower()] = info.id
                return info

        return await self._run(
            call, not_found=f"The bridge's GitHub App is not installed on {name}."
        )

    async def installation_for_owner(self, owner: str, *, user: bool = False) -> InstallationInfo:
        """The installation on an organisation (or, with `user`, a user account)."""

        def call() -> InstallationInfo:
            with self._lock:
                if user:
                    found = self._integration.get_user_installation(owner)
                else:
                    found = self._integration.get_org_installation(owner)
                return _installation_info(found.id, found.raw_data)

        return await self._run(
            call, not_found=f"The bridge's GitHub App is not installed on {owner}."
        )

    async def installation_token(self, full_name: str) -> str:
        """A token acting as the app on this repository (cached until near its expiry)."""
        installation_id = await self._installation_id(full_name)
        return await self._run(
            lambda: self.installation_token_sync(installation_id),
            not_found="The bridge's GitHub App installation has gone.",
        )

    async def client_for_repo(self, full_name: str) -> GitHubClient:
        """A client acting as the app's installation on this repository; owned by the app."""
        installation_id = await self._installation_id(full_name)
        with self._lock:
            client = self._clients.get(installation_id)
            if client is None:
                client = GitHubClient(
                    _installation_auth()(self, installation_id),
                    api_url=self.api_url,
                    as_app=True,
                    timeout=self._timeout,
                )
                self._clients[installation_id] = client
            return client

    def forget_installation(self, installation_id: int) -> None:
        """Drop what we cached about an installation (on `installation.deleted`)."""
        with self._lock:
            self._tokens.pop(installation_id, None)
            stale = [k for k, v in self._repo_installations.items() if v == installation_id]
            for key in stale:
                del self._repo_installations[key]
            client = self._clients.pop(installation_id, None)
        if client is not None:
            client.close()

    async def _installation_id(self, full_name: str) -> int:
        key = _repo_name(full_name).lower()
        with self._lock:
            known = self._repo_installations.get(key)
        if known is not None:
            return known
        return (await self.installation_for_repo(full_name)).id

    def installation_token_sync(self, installation_id: int) -> str:
        """Blocking: the installation's token, minting a new one when near expiry."""
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached is not None and cached[1] - _TOKEN_RENEW_MARGIN > datetime.now(UTC):
                return cached[0]
            grant = self._integration.get_access_token(installation_id)
            register_secret(grant.token)
            expires = grant.expires_at
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=UTC)
            self._tokens[installation_id] = (grant.token, expires)
            return grant.token


def _installation_info(installation_id: int, raw: Mapping[str, Any]) -> InstallationInfo:
    account = raw.get("account")
    login = account.get("login") if isinstance(account, dict) else None
    selection = raw.get("repository_selection")
    return InstallationInfo(
        id=installation_id,
        account=login if isinstance(login, str) else None,
        repository_selection=selection if isinstance(selection, str) else None,
    )
