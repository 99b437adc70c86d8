"""Commands in a user's admin room (their DM with the bot): no prefix, as in hookshot."""

from __future__ import annotations

from hookshot.commands.context import CommandContext
from hookshot.commands.registry import CommandSet

admin_commands = CommandSet()

# No code span: scripts take the first code block in an admin room, and that must be a secret.
WELCOME = (
    "Hello! This is your admin room with the hookshot bridge. Secret webhook URLs are sent "
    'here. In a room, invite me and say "!hookshot help" to see what I can do.'
)


@admin_commands.command("help", "This help text")
async def admin_help(ctx: CommandContext) -> None:
    commands = ctx.command_set or admin_commands
    await ctx.notice(WELCOME + "\n\n" + commands.help_markdown("", categories=ctx.categories))
