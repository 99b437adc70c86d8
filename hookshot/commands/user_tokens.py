"""Users' service tokens and the API clients made from them, for commands.

The passFile key is loaded on first use, so a bridge without one still runs; only the
commands that need a token explain what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

from hookshot.config import GitHubConfig, GitLabConfig
from hookshot.core.tokens import GitHubToken, TokenStore
from hookshot.errors import CommandError, ConfigError
from hookshot.matrix.client import MatrixClient
from hookshot.services.github.client import GitHubClient, api_url_for, web_url_for
from hookshot.services.gitlab.client import GitLabClient

NOT_LOGGED_IN_GITHUB = (
    "You are not logged into GitHub. Start a DM with this bot and use the command "
    "`github setpersonaltoken <token>`."
)


class UserTokens:
    """The token store, opened lazily."""

    def __init__(self, client: MatrixClient, pass_file: str) -> None:
        self._client = client
        self._pass_file = pass_file
        self._store: TokenStore | None = None

    @property
    def store(self) -> TokenStore:
        if self._store is None:
            if not Path(self._pass_file).exists():
                raise CommandError(
                    f"The bridge cannot keep tokens: its passFile {self._pass_file} is missing."
                )
            try:
                self._store = TokenStore(self._client, self._pass_file)
            except ConfigError as err:
                raise CommandError(f"The bridge cannot keep tokens: {err.message}") from None
        return self._store


class GitHubAccess:
    """GitHub API clients acting as a Matrix user (their stored token)."""

    def __init__(self, config: GitHubConfig, tokens: UserTokens) -> None:
        self.config = config
        self.tokens = tokens
        self.api_url = api_url_for(config.enterprise_url)
        self.web_url = web_url_for(config.enterprise_url)

    def client_for_token(self, token: str) -> GitHubClient:
        return GitHubClient.for_token(token, api_url=self.api_url)

    async def token_of(self, user_id: str) -> GitHubToken | None:
        raw = await self.tokens.store.get(user_id, "github")
        return GitHubToken.parse(raw) if raw else None

    async def user_client(self, user_id: str) -> GitHubClient:
        """A client acting as `user_id`; CommandError when they have no token."""
        token = await self.token_of(user_id)
        if token is None:
            raise CommandError(NOT_LOGGED_IN_GITHUB)
        return self.client_for_token(token.access_token)

    def parse_repo_url(self, url: str) -> tuple[str, str]:
        """(org, repo) from `https://github.com/org/repo` (or the enterprise host)."""
        base = re.escape(self.web_url.rstrip("/"))
        found = re.fullmatch(
            base + r"/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?", url.strip()
        )
        if found is None:
            raise CommandError("The GitHub url you entered was not valid.")
        return found.group(1), found.group(2)


class GitLabAccess:
    """GitLab API clients acting as a Matrix user, per configured instance."""

    def __init__(self, config: GitLabConfig, tokens: UserTokens) -> None:
        self.config = config
        self.tokens = tokens

    def instance_url(self, name: str) -> str:
        url = self.config.instances.get(name)
        if url is None:
            known = ", ".join(self.config.instances) or "none"
            raise CommandError(f'The bridge knows no GitLab instance "{name}" (it knows: {known}).')
        return url

    async def user_client(self, user_id: str, instance: str) -> GitLabClient:
        """A client acting as `user_id` on instance `instance` (a config name)."""
        url = self.instance_url(instance)
        token = await self.tokens.store.get(user_id, "gitlab", url)
        if token is None:
            raise CommandError(
                "You are not logged into this GitLab instance. Start a DM with this bot and use "
                f"the command `gitlab personaltoken {instance} <token>`."
            )
        return GitLabClient.for_instance(self.config, instance, token)

    def split_project_url(self, url: str) -> tuple[str, str]:
        """(instance name, project path) for a project URL on a configured instance."""
        name = self.config.instance_for_url(url)
        if name is None:
            raise CommandError("No instance found that matches the provided URL.")
        path = url.strip().rstrip("/")[len(self.config.instances[name]) :].strip("/")
        if not path:
            raise CommandError("The GitLab project url you entered was not valid.")
        return name, path
