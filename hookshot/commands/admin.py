"""Commands in a user's admin room (their DM with the bot): no prefix, as in hookshot."""

from __future__ import annotations

from hookshot.commands.context import CommandContext
from hookshot.commands.registry import CommandSet
from hookshot.core.tokens import GitHubToken, TokenError
from hookshot.errors import CommandError
from hookshot.ops.redaction import register_secret
from hookshot.services.github.client import GitHubError

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


@admin_commands.command(
    "github setpersonaltoken",
    "Store a GitHub personal access token for commands (the message is redacted).",
    required=("token",),
    category="github",
)
async def github_set_token(ctx: CommandContext, token: str) -> None:
    register_secret(token)  # first: a failure below may be logged with it
    github = ctx.require_github()
    # Do not leave a secret in the room's history, even if the token turns out invalid.
    await ctx.redact_command("Contains a token")
    async with github.client_for_token(token) as client:
        me = await client.get_authenticated_user()
    await github.tokens.store.set(ctx.sender, "github", GitHubToken(access_token=token).dumps())
    await ctx.notice(f"Connected as {me.login}. Token stored.")


@admin_commands.command(
    "github login", "Log in to GitHub (opens GitHub's consent page)", category="github"
)
async def github_login(ctx: CommandContext) -> None:
    ctx.require_github()
    if ctx.github_login is None:
        raise CommandError("The bridge is not configured to support GitHub.")
    url = ctx.github_login.start(ctx.sender)
    await ctx.notice(f"Open {url} to link your GitHub account to the bridge.", html=False)


@admin_commands.command("github status", "Whether you are logged into GitHub", category="github")
async def github_status(ctx: CommandContext) -> None:
    github = ctx.require_github()
    try:
        token = await github.access_token(ctx.sender)
    except CommandError as err:
        await ctx.notice(str(err))
        return
    if token is None:
        await ctx.notice("You are not logged into GitHub.")
        return
    async with github.client_for_token(token) as client:
        try:
            me = await client.get_authenticated_user()
        except CommandError as err:
            await ctx.notice(f"Your stored GitHub token does not work: {err}")
            return
    await ctx.notice(f"You are logged in as {me.login}.")


@admin_commands.command(
    "github logout", "Revoke your GitHub login and forget the token", category="github"
)
async def github_logout(ctx: CommandContext) -> None:
    github = ctx.require_github()
    try:
        token = await github.token_of(ctx.sender)
    except TokenError:
        token = None  # unreadable (another passFile key): nothing to revoke, still remove it
    revoke_failed = None
    if token is not None and token.token_type != "pat":
        try:
            await github.revoke(token)
        except GitHubError as err:
            revoke_failed = err.message.rstrip(".")
    # Removed here whatever GitHub said: the user asked the bridge to forget it.
    if not await github.tokens.store.delete(ctx.sender, "github"):
        await ctx.notice("You were not logged in.")
        return
    apps = f"{github.web_url}/settings/applications"
    if token is None:
        text = "Your unreadable GitHub token was removed; it was not revoked at GitHub."
    elif token.token_type == "pat":
        text = (
            "Your GitHub token was removed. It is a personal access token: delete it on GitHub "
            "if nothing else uses it."
        )
    elif revoke_failed is not None:
        text = (
            f"Your GitHub token was removed here, but revoking it at GitHub failed "
            f"({revoke_failed}); revoke the bridge's access at {apps}."
        )
    else:
        text = "You are logged out: your GitHub token was revoked at GitHub and removed."
    await ctx.notice(text, html=False)
