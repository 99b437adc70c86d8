"""Forgejo's commands: `!hookshot forgejo repo <url> [threads on|off]` (set up a room),
`forgejo personaltoken` (admin room), and a connected room's `!forgejo create|close|help`,
acting as the sender with the token they stored for the instance, and `!forgejo threads on|off`
(room state only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hookshot.commands.context import CommandContext
from hookshot.commands.registry import CommandSet, ConnectionCommands, issue_number
from hookshot.commands.threads import (
    TRAILING,
    add_threads_command,
    configured,
    trailing_threads,
    write_setup,
)
from hookshot.core.connections import Connection
from hookshot.errors import CommandError
from hookshot.ops.redaction import register_secret
from hookshot.services.forgejo.access import ForgejoAccess, token_event_type
from hookshot.services.forgejo.client import ForgejoClient
from hookshot.services.forgejo.repo import ForgejoRepo, state_key, validate_new_state
from hookshot.services.forgejo.wire import FORGEJO_REPO, SERVICE


@dataclass(frozen=True)
class ForgejoCommands:
    setup: CommandSet
    admin: CommandSet
    connection: CommandSet


def build_commands(access: ForgejoAccess) -> ForgejoCommands:
    setup, admin, room = CommandSet(), CommandSet(), CommandSet()
    config, tokens = access.config, access.tokens
    instance_url, client_for = access.instance_url, access.user_client

    @admin.command(
        "forgejo personaltoken",
        "Store a Forgejo/Gitea access token for an instance (the message is redacted).",
        required=("instance", "token"),
        category=SERVICE,
    )
    async def personal_token(ctx: CommandContext, instance: str, token: str) -> None:
        register_secret(token)  # first: a failure below may be logged with it
        url = instance_url(instance)
        # Do not leave a secret in the room's history, even if the token turns out invalid.
        await ctx.redact_command("Contains a token")
        async with ForgejoClient(url, token) as client:
            login = await client.me()
        await tokens.store.set_sealed(token_event_type(url, ctx.sender), token)
        await ctx.notice(f"Connected as {login} on {instance}. Token stored.", html=False)

    @setup.command(
        "forgejo repo",
        "Create a connection for a Forgejo or Gitea repository (needs your token for it). "
        "Add `threads on` for a thread per PR and issue.",
        required=("url",),
        optional=TRAILING,
        category=SERVICE,
    )
    async def repo(
        ctx: CommandContext, url: str, word: str | None = None, setting: str | None = None
    ) -> None:
        threads = trailing_threads(word, setting)
        found = config.instance_for_url(url)
        parts = found[1].removesuffix(".git").split("/") if found else []
        if found is None or len(parts) != 2 or not all(parts):
            raise CommandError("That is not a repository URL on a configured Forgejo instance.")
        instance = found[0]
        await ctx.provisioner.check(ctx.room_id, ctx.sender, SERVICE, FORGEJO_REPO)
        info = await access.writable_repo(ctx.sender, instance, parts[0], parts[1])
        content = {"instance": instance, "owner": info.owner, "repo": info.name}
        validate_new_state(content)
        key = state_key(instance, info.owner, info.name)
        await write_setup(
            ctx,
            ForgejoRepo,
            lambda conn: conn.state_key.lower() == key,
            FORGEJO_REPO,
            key,
            content,
            threads,
        )
        await ctx.notice(
            f"{configured(f'{info.owner}/{info.name}', threads)}. Add a webhook to the "
            "repository (Settings → Webhooks → Forgejo or Gitea) pointing to this bridge's "
            "/forgejo/webhook, content type application/json, with the configured secret.",
            html=False,
        )

    def connected(ctx: CommandContext) -> ForgejoRepo:
        conn = ctx.connection
        assert isinstance(conn, ForgejoRepo)
        return conn

    @room.command("help", "This help text")
    async def room_help(ctx: CommandContext) -> None:
        conn = connected(ctx)
        await ctx.notice(
            f"Commands for {conn.state.owner}/{conn.state.repo}:\n\n"
            + room.help_markdown(conn.command_prefix)
        )

    @room.command(
        "create", "Create an issue in this repository", required=("title",), optional=("body",)
    )
    async def create(ctx: CommandContext, title: str, body: str | None = None) -> None:
        conn = connected(ctx)
        async with await client_for(ctx.sender, conn.state.instance) as client:
            issue = await client.create_issue(conn.state.owner, conn.state.repo, title, body)
        await ctx.notice(f"Created issue [#{issue.number}]({issue.html_url}): {issue.title}")

    @room.command(
        "close",
        "Close an issue, optionally with a comment",
        required=("number",),
        optional=("comment",),
    )
    async def close(ctx: CommandContext, number: str, comment: str | None = None) -> None:
        conn = connected(ctx)
        index = issue_number(number)
        async with await client_for(ctx.sender, conn.state.instance) as client:
            if comment:
                await client.comment(conn.state.owner, conn.state.repo, index, comment)
            await client.close_issue(conn.state.owner, conn.state.repo, index)

    add_threads_command(
        room,
        service=SERVICE,
        noun="PR",
        connected=connected,
        name=lambda conn: f"{conn.state.owner}/{conn.state.repo}",
    )

    return ForgejoCommands(setup, admin, room)


def connection_commands(room: CommandSet) -> Callable[[Connection], ConnectionCommands | None]:
    def lookup(conn: Connection) -> ConnectionCommands | None:
        if isinstance(conn, ForgejoRepo):
            return ConnectionCommands(conn.command_prefix, room, SERVICE)
        return None

    return lookup
