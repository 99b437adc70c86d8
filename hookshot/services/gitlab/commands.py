"""GitLab's commands: `!hookshot gitlab project <url>` (set up a room), `gitlab personaltoken`
and `gitlab hastoken` (admin room), and a project connection's `!gl …` (or its
`commandPrefix`), acting as the sender with the token they stored for the instance."""

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
from hookshot.services.gitlab.access import GitLabAccess
from hookshot.services.gitlab.client import BRIDGE_HOOK_EVENTS, GitLabClient
from hookshot.services.gitlab.repo import GitLabRepo
from hookshot.services.gitlab.wire import GITLAB_REPO, SERVICE


@dataclass(frozen=True)
class GitLabCommands:
    setup: CommandSet
    admin: CommandSet
    connection: CommandSet


def _project(ctx: CommandContext) -> GitLabRepo:
    conn = ctx.connection
    assert isinstance(conn, GitLabRepo)
    return conn


def build_commands(gitlab: GitLabAccess) -> GitLabCommands:
    setup, admin, room = CommandSet(), CommandSet(), CommandSet()

    @setup.command(
        "gitlab project",
        "Create a connection for a GitLab project. (You must be logged in with GitLab.) "
        "Add `threads on` for a thread per MR and issue.",
        required=("url",),
        optional=TRAILING,
        category=SERVICE,
    )
    async def gitlab_project(
        ctx: CommandContext, url: str, word: str | None = None, setting: str | None = None
    ) -> None:
        threads = trailing_threads(word, setting)  # before asking GitLab anything
        await ctx.provisioner.check(ctx.room_id, ctx.sender, SERVICE, GITLAB_REPO)
        instance, path = gitlab.split_project_url(url)
        warning = ""
        async with await gitlab.user_client(ctx.sender, instance) as client:
            project = await client.get_project(path)
            if not project.may_bridge:
                raise CommandError("You must at least have Developer access to bridge this project")
            public_url = gitlab.config.public_url
            if public_url and project.may_add_hook:
                await client.ensure_project_hook(
                    project.id, public_url, gitlab.config.webhook_secret, BRIDGE_HOOK_EVENTS
                )
            else:
                why = (
                    "you are not a Maintainer"
                    if public_url
                    else "gitlab.webhook.publicUrl is not set"
                )
                warning = (
                    f"\nCannot create webhook: {why}. Add a webhook in the project's settings "
                    "pointing to this bridge's /gitlab/webhook with the configured secret token."
                )
        full_path = project.path_with_namespace
        await write_setup(
            ctx,
            GitLabRepo,
            lambda conn: (
                conn.state.instance.lower() == instance.lower() and conn.path == full_path.lower()
            ),
            GITLAB_REPO,
            f"{instance}/{full_path}".lower(),
            {"instance": instance, "path": full_path},
            threads,
        )
        await ctx.notice(configured(full_path, threads) + warning, html=False)

    @admin.command(
        "gitlab personaltoken",
        "Store a GitLab personal access token for an instance (the message is redacted).",
        required=("instance", "token"),
        category=SERVICE,
    )
    async def gitlab_set_token(ctx: CommandContext, instance: str, token: str) -> None:
        register_secret(token)  # first: a failure below may be logged with it
        await ctx.redact_command("Contains a token")
        url = gitlab.instance_url(instance)
        async with GitLabClient.for_instance(gitlab.config, instance, token) as client:
            me = await client.get_user()
        await gitlab.tokens.store.set(ctx.sender, SERVICE, token, url)
        await ctx.notice(f"Connected as {me.username}. Token stored.")

    @admin.command(
        "gitlab hastoken",
        "Whether you stored a token for an instance",
        required=("instance",),
        category=SERVICE,
    )
    async def gitlab_has_token(ctx: CommandContext, instance: str) -> None:
        token = await gitlab.tokens.store.get(ctx.sender, SERVICE, gitlab.instance_url(instance))
        await ctx.notice(
            f"A token is stored for {instance}." if token else f"No token is stored for {instance}."
        )

    async def create(
        ctx: CommandContext,
        title: str,
        description: str | None,
        labels: str | None,
        *,
        secret: bool,
    ) -> None:
        conn = _project(ctx)
        wanted = [label.strip() for label in (labels or "").split(",") if label.strip()]
        async with await gitlab.user_client(ctx.sender, conn.state.instance) as client:
            issue = await client.create_issue(
                conn.state.path, title, description, wanted, confidential=secret
            )
        kind = "confidential issue" if secret else "issue"
        await ctx.notice(f"Created {kind} [#{issue.iid}]({issue.web_url}): {issue.title}")

    @room.command("help", "This help text")
    async def gitlab_help(ctx: CommandContext) -> None:
        conn = _project(ctx)
        await ctx.notice(
            f"Commands for {conn.state.path}:\n\n" + room.help_markdown(conn.command_prefix)
        )

    @room.command(
        "create",
        "Create an issue for this project",
        required=("title",),
        optional=("description", "labels"),
    )
    async def gitlab_create(
        ctx: CommandContext, title: str, description: str | None = None, labels: str | None = None
    ) -> None:
        await create(ctx, title, description, labels, secret=False)

    @room.command(
        "create-confidential",
        "Create a confidential issue for this project",
        required=("title",),
        optional=("description", "labels"),
    )
    async def gitlab_create_confidential(
        ctx: CommandContext, title: str, description: str | None = None, labels: str | None = None
    ) -> None:
        await create(ctx, title, description, labels, secret=True)

    @room.command(
        "close",
        "Close an issue, optionally with a comment",
        required=("number",),
        optional=("comment",),
    )
    async def gitlab_close(ctx: CommandContext, number: str, comment: str | None = None) -> None:
        conn = _project(ctx)
        iid = issue_number(number)
        async with await gitlab.user_client(ctx.sender, conn.state.instance) as client:
            # Ours: the comment is posted (hookshot takes the argument and drops it).
            if comment:
                await client.add_issue_note(conn.state.path, iid, comment)
            await client.close_issue(conn.state.path, iid)

    add_threads_command(
        room, service=SERVICE, noun="MR", connected=_project, name=lambda conn: conn.state.path
    )

    return GitLabCommands(setup, admin, room)


def connection_commands(room: CommandSet) -> Callable[[Connection], ConnectionCommands | None]:
    def lookup(conn: Connection) -> ConnectionCommands | None:
        if isinstance(conn, GitLabRepo):
            return ConnectionCommands(conn.command_prefix, room, SERVICE)
        return None

    return lookup
