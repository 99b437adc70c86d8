"""`!hookshot feed <url> [label]`, `feed list`, `feed remove <url>` (hookshot's commands)."""

from __future__ import annotations

from hookshot.commands.context import CommandContext
from hookshot.commands.registry import CommandSet
from hookshot.errors import CommandError, StateError
from hookshot.services.feeds.config import FeedsConfig
from hookshot.services.feeds.parse import FeedError
from hookshot.services.feeds.poller import try_read
from hookshot.services.feeds.state import FeedConnection, check_url
from hookshot.services.feeds.wire import FEED, SERVICE


def build_commands(config: FeedsConfig) -> CommandSet:
    setup = CommandSet()

    def feeds_here(ctx: CommandContext) -> list[FeedConnection]:
        return [c for c in ctx.store.in_room(ctx.room_id) if isinstance(c, FeedConnection)]

    @setup.command(
        "feed",
        "Subscribe the room to an RSS, Atom or JSON feed",
        required=("url",),
        optional=("label",),
        category=SERVICE,
    )
    async def subscribe(ctx: CommandContext, url: str, label: str | None = None) -> None:
        try:
            url = check_url(url)
        except StateError as err:
            raise CommandError(str(err)) from None
        await ctx.provisioner.check(ctx.room_id, ctx.sender, SERVICE, FEED)
        try:
            feed = await try_read(url, config)
        except FeedError as err:
            raise CommandError(f"Could not read feed from URL: {err}") from None
        content: dict[str, object] = {"url": url}
        if label:
            content["label"] = label
        await ctx.provisioner.write_state(ctx.room_id, FEED, url, content)
        name = label or feed.title or url
        await ctx.notice(f"Room subscribed to {name} ({url}).", html=False)

    @setup.command("feed list", "The feeds this room is subscribed to", category=SERVICE)
    async def feed_list(ctx: CommandContext) -> None:
        feeds = feeds_here(ctx)
        if not feeds:
            await ctx.notice("Not subscribed to any feeds", html=False)
            return
        lines = [f" - {c.state.label + ': ' if c.state.label else ''}{c.state.url}" for c in feeds]
        await ctx.notice(
            "This room is subscribed to the following feeds:\n" + "\n".join(lines), html=False
        )

    @setup.command(
        "feed remove", "Unsubscribe the room from a feed", required=("url",), category=SERVICE
    )
    async def feed_remove(ctx: CommandContext, url: str) -> None:
        found = [c for c in feeds_here(ctx) if c.state.url == url.strip()]
        if not found:
            raise CommandError("This room is not subscribed to that feed.")
        await ctx.provisioner.check(ctx.room_id, ctx.sender, SERVICE, FEED)
        await ctx.provisioner.write_state(ctx.room_id, FEED, found[0].state_key, {})
        await ctx.notice(f"Unsubscribed from {url.strip()}.", html=False)

    return setup
