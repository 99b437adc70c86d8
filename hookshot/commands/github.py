"""`!gh …` (or the connection's `commandPrefix`): commands of a GitHub repository connection."""

from __future__ import annotations

from hookshot.commands.context import CommandContext
from hookshot.commands.registry import CommandSet
from hookshot.connections.github_repo import GitHubRepo

github_commands = CommandSet()


@github_commands.command("help", "This help text")
async def github_help(ctx: CommandContext) -> None:
    conn = ctx.connection
    assert isinstance(conn, GitHubRepo)
    # Naming the repository tells the room which connection answered when there are several.
    await ctx.notice(
        f"Commands for {conn.state.org}/{conn.state.repo}:\n\n"
        + github_commands.help_markdown(conn.command_prefix)
    )
