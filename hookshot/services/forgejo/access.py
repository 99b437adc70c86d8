"""A user's way into a Forgejo instance: the configured instances and the token the user
stored for one (`forgejo personaltoken`), shared by the commands and the widget."""

from __future__ import annotations

from hookshot.commands.user_tokens import UserTokens
from hookshot.errors import CommandError
from hookshot.services.forgejo.client import ForgejoClient, RepoInfo
from hookshot.services.forgejo.config import ForgejoConfig
from hookshot.services.forgejo.wire import TOKEN_ACCOUNT_DATA


def token_event_type(instance_url: str, user_id: str) -> str:
    return f"{TOKEN_ACCOUNT_DATA}:{instance_url}:{user_id}"


class ForgejoAccess:
    def __init__(self, config: ForgejoConfig, tokens: UserTokens) -> None:
        self.config = config
        self.tokens = tokens

    def instance_url(self, name: str) -> str:
        url = self.config.instances.get(name)
        if url is None:
            known = ", ".join(self.config.instances) or "none"
            raise CommandError(
                f'The bridge knows no Forgejo instance "{name}" (it knows: {known}).'
            )
        return url

    async def user_client(self, user_id: str, instance: str) -> ForgejoClient:
        """A client with the user's token for `instance`; CommandError when they have none."""
        url = self.instance_url(instance)
        token = await self.tokens.store.get_sealed(token_event_type(url, user_id))
        if token is None:
            raise CommandError(
                "You have no token for this Forgejo instance. In your DM with the bot, say "
                f"`forgejo personaltoken {instance} <token>`."
            )
        return ForgejoClient(url, token)

    async def writable_repo(self, user_id: str, instance: str, owner: str, repo: str) -> RepoInfo:
        """The repository as the user's token sees it, if they may push to it (what a room
        needs to bridge it, as for GitHub in hookshot)."""
        async with await self.user_client(user_id, instance) as client:
            info = await client.repo(owner, repo)
        if not info.can_push:
            raise CommandError("You must at least have write permissions to bridge this repository")
        return info
