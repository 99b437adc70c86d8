"""GitHub's commands: `!hookshot github repo <url>` (set up a room), `github
setpersonaltoken|login|status|logout` (admin room), and a repository connection's `!gh …` (or
its `commandPrefix`). They act as the sender, with the token they stored in their admin room."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from hookshot import wire
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
from hookshot.core.digest import describe, digest_from_word
from hookshot.core.tokens import GitHubToken, TokenError
from hookshot.errors import CommandError
from hookshot.ops.redaction import register_secret
from hookshot.services.github.access import GitHubAccess
from hookshot.services.github.client import GitHubError
from hookshot.services.github.oauth import GitHubLogin
from hookshot.services.github.repo import GitHubRepo

SERVICE = wire.SERVICE_GITHUB


@dataclass(frozen=True)
class GitHubCommands:
    setup: CommandSet
    admin: CommandSet
    connection: CommandSet


def _repo(ctx: CommandContext) -> GitHubRepo:
    conn = ctx.connection
    assert isinstance(conn, GitHubRepo)
    return conn


def parse_workflow_inputs(text: str) -> dict[str, str]:
    """hookshot's `key=value,key2='value 2'` workflow arguments."""
    inputs: dict[str, str] = {}
    for match in re.finditer(r"\s*([^=,\s]+)\s*=\s*('([^']*)'|\"([^\"]*)\"|[^,]*)\s*,?", text):
        key, raw, single, double = match.groups()
        value = single if single is not None else double if double is not None else raw
        inputs[key] = value.strip()
    if text.strip() and not inputs:
        raise CommandError("Workflow arguments must look like key=value,key2='value 2'.")
    return inputs


def build_commands(github: GitHubAccess, login: GitHubLogin) -> GitHubCommands:
    setup, admin, room = CommandSet(), CommandSet(), CommandSet()

    @setup.command(
        "github repo",
        "Create a connection for a GitHub repository. (You must be logged in with GitHub.) "
        "Add `threads on` for a thread per PR and issue.",
        required=("url",),
        optional=TRAILING,
        category=SERVICE,
    )
    async def github_repo(
        ctx: CommandContext, url: str, word: str | None = None, setting: str | None = None
    ) -> None:
        threads = trailing_threads(word, setting)  # before asking GitHub anything
        await ctx.provisioner.check(ctx.room_id, ctx.sender, wire.SERVICE_GITHUB, wire.GITHUB_REPO)
        org, repo = github.parse_repo_url(url)
        async with await github.user_client(ctx.sender) as client:
            info = await client.get_repo(f"{org}/{repo}")
            me = await client.get_authenticated_user()
            level = await client.get_permission_level(info.full_name, me.login)
        if level not in ("admin", "write"):
            raise CommandError("You must at least have write permissions to bridge this repository")
        owner, name = info.full_name.split("/", 1)
        await write_setup(
            ctx,
            GitHubRepo,
            lambda conn: conn.matches(owner, name),
            wire.GITHUB_REPO,
            f"{owner}/{name}".lower(),
            {"org": owner, "repo": name},
            threads,
        )
        await ctx.notice(configured(f"{owner}/{name}", threads), html=False)

    @admin.command(
        "github setpersonaltoken",
        "Store a GitHub personal access token for commands (the message is redacted).",
        required=("token",),
        category=SERVICE,
    )
    async def github_set_token(ctx: CommandContext, token: str) -> None:
        register_secret(token)  # first: a failure below may be logged with it
        # Do not leave a secret in the room's history, even if the token turns out invalid.
        await ctx.redact_command("Contains a token")
        async with github.client_for_token(token) as client:
            me = await client.get_authenticated_user()
        await github.tokens.store.set(ctx.sender, "github", GitHubToken(access_token=token).dumps())
        await ctx.notice(f"Connected as {me.login}. Token stored.")

    @admin.command(
        "github login",
        "Log in to GitHub (opens GitHub's consent page)",
        category=SERVICE,
    )
    async def github_login(ctx: CommandContext) -> None:
        url = login.start(ctx.sender)
        await ctx.notice(f"Open {url} to link your GitHub account to the bridge.", html=False)

    @admin.command("github status", "Whether you are logged into GitHub", category=SERVICE)
    async def github_status(ctx: CommandContext) -> None:
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

    @admin.command(
        "github logout",
        "Revoke your GitHub login and forget the token",
        category=SERVICE,
    )
    async def github_logout(ctx: CommandContext) -> None:
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

    @room.command("help", "This help text")
    async def github_help(ctx: CommandContext) -> None:
        conn = _repo(ctx)
        # Naming the repository tells the room which connection answered when there are several.
        await ctx.notice(
            f"Commands for {conn.state.org}/{conn.state.repo}:\n\n"
            + room.help_markdown(conn.command_prefix)
        )

    @room.command(
        "create",
        "Create an issue for this repo (labels: comma separated)",
        required=("title",),
        optional=("description", "labels"),
    )
    async def github_create(
        ctx: CommandContext, title: str, description: str | None = None, labels: str | None = None
    ) -> None:
        conn = _repo(ctx)
        wanted = [label.strip() for label in (labels or "").split(",") if label.strip()]
        wanted += [label for label in conn.state.new_issue_labels or () if label not in wanted]
        async with await github.user_client(ctx.sender) as client:
            issue = await client.create_issue(conn.full_name, title, description, wanted)
        await ctx.notice(f"Created issue [#{issue.number}]({issue.html_url}): {issue.title}")

    @room.command(
        "assign", "Assign an issue to users (comma separated)", required=("number", "users")
    )
    async def github_assign(ctx: CommandContext, number: str, users: str) -> None:
        conn = _repo(ctx)
        logins = [u.strip().lstrip("@") for u in users.split(",") if u.strip()]
        async with await github.user_client(ctx.sender) as client:
            issue = await client.add_assignees(conn.full_name, issue_number(number), logins)
        await ctx.notice(f"Assigned [#{issue.number}]({issue.html_url}) to {', '.join(logins)}")

    @room.command(
        "close",
        "Close an issue, optionally with a comment",
        required=("number",),
        optional=("comment",),
    )
    async def github_close(ctx: CommandContext, number: str, comment: str | None = None) -> None:
        conn = _repo(ctx)
        async with await github.user_client(ctx.sender) as client:
            await client.close_issue(conn.full_name, issue_number(number), comment)

    @room.command(
        "digest",
        "Summarise a burst of notices in one message: on, off or a threshold (2-1000)",
        required=("setting",),
    )
    async def github_digest(ctx: CommandContext, setting: str) -> None:
        conn = _repo(ctx)
        try:
            chosen = digest_from_word(setting)
        except ValueError as err:
            raise CommandError(f"Digest: {err}.") from None
        await ctx.provisioner.check(ctx.room_id, ctx.sender, wire.SERVICE_GITHUB, conn.event_type)
        state = replace(conn.state, digest=chosen)
        await ctx.provisioner.write_state(
            ctx.room_id, conn.event_type, conn.state_key, state.to_content()
        )
        await ctx.notice(f"Digest for {conn.state.org}/{conn.state.repo} is {describe(chosen)}.")

    add_threads_command(
        room,
        service=wire.SERVICE_GITHUB,
        noun="PR",
        connected=_repo,
        name=lambda conn: f"{conn.state.org}/{conn.state.repo}",
    )

    @room.command(
        "workflow run",
        "Run a GitHub Actions workflow. Args: key=value,key2='value 2'",
        required=("name",),
        optional=("args", "ref"),
    )
    async def github_workflow_run(
        ctx: CommandContext, name: str, args: str | None = None, ref: str | None = None
    ) -> None:
        conn = _repo(ctx)
        inputs = parse_workflow_inputs(args or "")
        async with await github.user_client(ctx.sender) as client:
            workflow = await client.trigger_workflow(conn.full_name, name, ref, inputs)
        await ctx.notice(f"Workflow {workflow.name} triggered.")

    return GitHubCommands(setup, admin, room)


def connection_commands(room: CommandSet) -> Callable[[Connection], ConnectionCommands | None]:
    def lookup(conn: Connection) -> ConnectionCommands | None:
        if isinstance(conn, GitHubRepo):
            return ConnectionCommands(conn.command_prefix, room, wire.SERVICE_GITHUB)
        return None

    return lookup
