"""A small fake of Forgejo's REST API (`/api/v1`) for tests: the calls the bridge makes (see
`hookshot/services/forgejo/client.py`), answered like Forgejo from data the test seeds. No
Forgejo server runs on this machine; the webhook side replays real deliveries instead.

    with FakeForgejo() as fj:
        alice = fj.add_user("alice")                  # alice.token authenticates as her
        fj.add_repo("acme", "widgets", pushers={"alice"})
        ... point `forgejo.instances.<name>.url` at fj.url ...
        assert fj.repos["acme/widgets"].issues[1].state == "closed"
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from support.loopback import LoopbackFake, RecordedRequest


@dataclass
class FakeUser:
    login: str
    id: int
    token: str


@dataclass
class FakeIssue:
    number: int
    title: str
    body: str
    author: str
    state: str = "open"
    comments: list[str] = field(default_factory=list)


@dataclass
class FakeRepo:
    owner: str
    name: str
    pushers: set[str] = field(default_factory=set)
    issues: dict[int, FakeIssue] = field(default_factory=dict)


class FakeForgejo(LoopbackFake):
    server_name = "fake-forgejo"

    def __init__(self) -> None:
        self.users: dict[str, FakeUser] = {}
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[RecordedRequest] = []
        base = "/api/v1"
        self.app = Starlette(
            routes=[
                Route(f"{base}/user", self._user),
                Route(f"{base}/repos/{{owner}}/{{repo}}", self._repo),
                Route(f"{base}/repos/{{owner}}/{{repo}}/issues", self._create, methods=["POST"]),
                Route(
                    f"{base}/repos/{{owner}}/{{repo}}/issues/{{number:int}}",
                    self._edit,
                    methods=["PATCH"],
                ),
                Route(
                    f"{base}/repos/{{owner}}/{{repo}}/issues/{{number:int}}/comments",
                    self._comment,
                    methods=["POST"],
                ),
            ]
        )

    def add_user(self, login: str) -> FakeUser:
        user = FakeUser(login, len(self.users) + 1, secrets.token_hex(20))
        self.users[user.token] = user
        return user

    def add_repo(self, owner: str, name: str, *, pushers: set[str]) -> FakeRepo:
        repo = FakeRepo(owner, name, set(pushers))
        self.repos[f"{owner}/{name}".lower()] = repo
        return repo

    async def _record(self, request: Request) -> FakeUser | None:
        body = await request.body()
        self.requests.append(
            RecordedRequest(
                request.method,
                request.url.path,
                dict(request.query_params),
                dict(request.headers),
                body,
            )
        )
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return self.users.get(token) if scheme == "token" else None

    def _find(self, request: Request) -> FakeRepo | None:
        key = f"{request.path_params['owner']}/{request.path_params['repo']}".lower()
        return self.repos.get(key)

    async def _user(self, request: Request) -> Response:
        user = await self._record(request)
        if user is None:
            return JSONResponse({"message": "user does not exist"}, status_code=401)
        return JSONResponse({"id": user.id, "login": user.login, "username": user.login})

    async def _repo(self, request: Request) -> Response:
        user, repo = await self._record(request), self._find(request)
        if user is None:
            return JSONResponse({"message": "token is required"}, status_code=401)
        if repo is None:
            return JSONResponse({"message": "The target couldn't be found."}, status_code=404)
        push = user.login in repo.pushers
        return JSONResponse(
            {
                "id": 1,
                "name": repo.name,
                "full_name": f"{repo.owner}/{repo.name}",
                "owner": {"login": repo.owner},
                "html_url": f"{request.base_url}{repo.owner}/{repo.name}",
                "permissions": {"admin": False, "push": push, "pull": True},
            }
        )

    async def _create(self, request: Request) -> Response:
        user, repo = await self._record(request), self._find(request)
        if user is None or repo is None:
            return JSONResponse({"message": "not found"}, status_code=404)
        data: dict[str, Any] = await request.json()
        number = len(repo.issues) + 1
        repo.issues[number] = FakeIssue(number, data["title"], data.get("body", ""), user.login)
        url = f"{request.base_url}{repo.owner}/{repo.name}/issues/{number}"
        return JSONResponse(
            {"number": number, "title": data["title"], "html_url": url}, status_code=201
        )

    async def _edit(self, request: Request) -> Response:
        user, repo = await self._record(request), self._find(request)
        issue = repo.issues.get(request.path_params["number"]) if repo else None
        if user is None or issue is None or repo is None:
            return JSONResponse({"message": "not found"}, status_code=404)
        if user.login not in repo.pushers and user.login != issue.author:
            return JSONResponse({"message": "forbidden"}, status_code=403)
        issue.state = str((await request.json()).get("state", issue.state))
        return JSONResponse({"number": issue.number, "state": issue.state}, status_code=201)

    async def _comment(self, request: Request) -> Response:
        user, repo = await self._record(request), self._find(request)
        issue = repo.issues.get(request.path_params["number"]) if repo else None
        if user is None or issue is None:
            return JSONResponse({"message": "not found"}, status_code=404)
        issue.comments.append(str((await request.json()).get("body")))
        return JSONResponse({"id": len(issue.comments)}, status_code=201)
