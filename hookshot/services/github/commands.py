"""`!gh …` (or the connection's `commandPrefix`): commands of a GitHub repository connection.
They act as the sender, with the token they stored in their admin room."""

from __future__ import annotations

import re
from dataclasses import replace

from hookshot import wire
from hookshot.commands.context import CommandContext
from hookshot.commands.registry import CommandSet, issue_number
from hookshot.errors import CommandError
from hookshot.services.github.repo import GitHubRepo
from hookshot.services.github.subject_threads import SWITCHES

github_commands = CommandSet()


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


@github_commands.command("help", "This help text")
async def github_help(ctx: CommandContext) -> None:
    conn = _repo(ctx)
    # Naming the repository tells the room which connection answered when there are several.
    await ctx.notice(
        f"Commands for {conn.state.org}/{conn.state.repo}:\n\n"
        + github_commands.help_markdown(conn.command_prefix)
    )


@github_commands.command(
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
    async with await ctx.require_github().user_client(ctx.sender) as client:
        issue = await client.create_issue(conn.full_name, title, description, wanted)
    await ctx.notice(f"Created issue [#{issue.number}]({issue.html_url}): {issue.title}")


@github_commands.command(
    "assign", "Assign an issue to users (comma separated)", required=("number", "users")
)
async def github_assign(ctx: CommandContext, number: str, users: str) -> None:
    conn = _repo(ctx)
    logins = [u.strip().lstrip("@") for u in users.split(",") if u.strip()]
    async with await ctx.require_github().user_client(ctx.sender) as client:
        issue = await client.add_assignees(conn.full_name, issue_number(number), logins)
    await ctx.notice(f"Assigned [#{issue.number}]({issue.html_url}) to {', '.join(logins)}")


@github_commands.command(
    "close",
    "Close an issue, optionally with a comment",
    required=("number",),
    optional=("comment",),
)
async def github_close(ctx: CommandContext, number: str, comment: str | None = None) -> None:
    conn = _repo(ctx)
    async with await ctx.require_github().user_client(ctx.sender) as client:
        await client.close_issue(conn.full_name, issue_number(number), comment)


@github_commands.command(
    "threads",
    "Put each PR's and issue's notices into its own thread: on or off",
    required=("setting",),
)
async def github_threads(ctx: CommandContext, setting: str) -> None:
    conn = _repo(ctx)
    value = SWITCHES.get(setting.lower())
    if value is None:
        raise CommandError("Say `threads on` or `threads off`.")
    await ctx.provisioner.check(ctx.room_id, ctx.sender, wire.SERVICE_GITHUB, conn.event_type)
    state = replace(conn.state, threads=value)
    await ctx.provisioner.write_state(
        ctx.room_id, conn.event_type, conn.state_key, state.to_content()
    )
    await ctx.notice(f"Threads {'on' if value else 'off'} for {conn.state.org}/{conn.state.repo}")


@github_commands.command(
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
    async with await ctx.require_github().user_client(ctx.sender) as client:
        workflow = await client.trigger_workflow(conn.full_name, name, ref, inputs)
    await ctx.notice(f"Workflow {workflow.name} triggered.")
