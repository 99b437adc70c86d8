"""GitLab API clients acting as a Matrix user, made from the token they stored for an
instance (`gitlab personaltoken`), and the project URLs users type."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hookshot.errors import CommandError
from hookshot.services.gitlab.client import GitLabClient
from hookshot.services.gitlab.config import GitLabConfig

if TYPE_CHECKING:
    from hookshot.commands.user_tokens import UserTokens


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
