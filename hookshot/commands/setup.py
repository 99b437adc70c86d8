"""`!hookshot …`: the commands every bridge has (help, the setup widget); the services'
commands join them (ServiceRuntime.setup_commands)."""

from __future__ import annotations

from hookshot.commands.context import CommandContext
from hookshot.commands.registry import CommandSet
from hookshot.errors import CommandError
from hookshot.widget.room_widget import add_setup_widget

PREFIX = "!hookshot"
CATEGORIES = {
    "widget": "Widget",
}

setup_commands = CommandSet()


@setup_commands.command("help", "This help text")
async def help_command(ctx: CommandContext) -> None:
    commands = ctx.command_set or setup_commands
    await ctx.notice(commands.help_markdown(PREFIX, categories=ctx.categories or CATEGORIES))


@setup_commands.command("setup-widget", "Open the setup widget in the room", category="widget")
async def setup_widget(ctx: CommandContext) -> None:
    if ctx.widgets is None or not ctx.widgets.room_setup_widget or ctx.matrix is None:
        raise CommandError("The bridge is not configured to support setup widgets")
    if not await add_setup_widget(ctx.matrix, ctx.room_id, ctx.widgets):
        await ctx.notice(
            f'This room already has a setup widget, please open the "{ctx.widgets.widget_title}"'
            " widget.",
            html=False,
        )
        return
    await ctx.notice(
        f"Please open the {ctx.widgets.widget_title} widget to set up integrations.", html=False
    )
