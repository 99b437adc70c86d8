"""`!gl …` (or the connection's `commandPrefix`): commands of a GitLab project connection,
acting as the sender with the token they stored for the instance."""

from __future__ import annotations

from hookshot.commands.context import CommandContext
from hookshot.commands.registry import CommandSet, issue_number
from hookshot.services.gitlab.repo import GitLabRepo

gitlab_commands = CommandSet()


def _project(ctx: CommandContext) -> GitLabRepo:
    conn = ctx.connection
    assert isinstance(conn, GitLabRepo)
    return conn


async def _create(
    ctx: CommandContext, title: str, description: str | None, labels: str | None, *, secret: bool
) -> None:
    conn = _project(ctx)
    wanted = [label.strip() for label in (labels or "").split(",") if label.strip()]
    async with await ctx.require_gitlab().user_client(ctx.sender, conn.state.instance) as client:
        issue = await client.create_issue(
            conn.state.path, title, description, wanted, confidential=secret
        )
    kind = "confidential issue" if secret else "issue"
    await ctx.notice(f"Created {kind} [#{issue.iid}]({issue.web_url}): {issue.title}")


@gitlab_commands.command("help", "This help text")
async def gitlab_help(ctx: CommandContext) -> None:
    conn = _project(ctx)
    await ctx.notice(
        f"Commands for {conn.state.path}:\n\n" + gitlab_commands.help_markdown(conn.command_prefix)
    )


@gitlab_commands.command(
    "create",
    "Create an issue for this project",
    required=("title",),
    optional=("description", "labels"),
)
async def gitlab_create(
    ctx: CommandContext, title: str, description: str | None = None, labels: str | None = None
) -> None:
    await _create(ctx, title, description, labels, secret=False)


@gitlab_commands.command(
    "create-confidential",
    "Create a confidential issue for this project",
    required=("title",),
    optional=("description", "labels"),
)
async def gitlab_create_confidential(
    ctx: CommandContext, title: str, description: str | None = None, labels: str | None = None
) -> None:
    await _create(ctx, title, description, labels, secret=True)


@gitlab_commands.command(
    "close",
    "Close an issue, optionally with a comment",
    required=("number",),
    optional=("comment",),
)
async def gitlab_close(ctx: CommandContext, number: str, comment: str | None = None) -> None:
    conn = _project(ctx)
    iid = issue_number(number)
    async with await ctx.require_gitlab().user_client(ctx.sender, conn.state.instance) as client:
        # Ours: the comment is posted (hookshot takes the argument and drops it).
        if comment:
            await client.add_issue_note(conn.state.path, iid, comment)
        await client.close_issue(conn.state.path, iid)
