"""`!hookshot webhook …` and `!hookshot outbound-hook`: generic hooks set up from a room."""

from __future__ import annotations

from hookshot import wire
from hookshot.commands.context import CommandContext
from hookshot.commands.registry import CommandSet
from hookshot.core.digest import describe, digest_from_word
from hookshot.core.durations import describe_duration, parse_duration
from hookshot.errors import CommandError
from hookshot.services.generic.hook import GenericHook
from hookshot.services.generic.wire import SERVICE

# The service's name: its title heads these commands in `!hookshot help`.
CATEGORY = SERVICE

setup_commands = CommandSet()


@setup_commands.command(
    "webhook",
    "Create an inbound webhook. The optional duration (e.g. 30d) makes it expire.",
    required=("name",),
    optional=("duration",),
    category=CATEGORY,
)
async def webhook_create(ctx: CommandContext, name: str, duration: str | None = None) -> None:
    seconds = None
    if duration is not None:
        try:
            seconds = parse_duration(duration)
        except ValueError as err:
            # hookshot's text first: scripts match it.
            raise CommandError(f"Duration could not be parsed: {err}") from None
    hook = await ctx.provisioner.create_webhook(ctx.room_id, ctx.sender, name, seconds)
    admin_room = await ctx.admin_rooms.get_or_create(ctx.sender)
    room_link = _room_link(ctx.room_id)
    expiry = ""
    if hook.expires is not None and seconds is not None:
        # The length in words, as hookshot words durations; the moment for the record.
        when = hook.expires.strftime("%Y-%m-%d %H:%M UTC")
        expiry = f"\nIt expires in {describe_duration(seconds)}, at {when}."
    # The URL stands alone on its last line so it copies cleanly (as in hookshot).
    await ctx.notice(
        f'You have bridged the webhook "{name}" in {room_link} .{expiry}\n'
        f"Please configure your webhook source to use\n{hook.url}",
        room_id=admin_room,
        html=False,
    )
    await ctx.notice(
        "Room configured to bridge webhooks. See admin room for secret url.", html=False
    )


@setup_commands.command("webhook list", "Show webhooks currently configured.", category=CATEGORY)
async def webhook_list(ctx: CommandContext) -> None:
    names = await ctx.provisioner.webhook_names(ctx.room_id)
    if not names:
        await ctx.notice("No webhooks configured", inline=True)  # hookshot's renderInline
        return
    await ctx.notice("Webhooks configured:\n\n" + "\n".join(f" - {n}" for n in names))


@setup_commands.command(
    "webhook secret",
    "Require a secret for a webhook (sent to your DM); `off` stops requiring one.",
    required=("name",),
    optional=("off",),
    category=CATEGORY,
)
async def webhook_secret(ctx: CommandContext, name: str, off: str | None = None) -> None:
    if off is not None and off.lower() != "off":
        raise CommandError("Say `off` to stop requiring a secret, or nothing to set a new one.")
    secret = await ctx.provisioner.set_webhook_secret(ctx.room_id, ctx.sender, name, off is None)
    if secret is None:
        await ctx.notice(f"Webhook `{name}` no longer requires a secret.")
        return
    admin_room = await ctx.admin_rooms.get_or_create(ctx.sender)
    await ctx.notice(
        f'The webhook "{name}" now requires this secret:\n{secret}\n'
        "Send it as `Authorization: Bearer <secret>`, or sign the raw body with it: "
        "`X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`.",
        room_id=admin_room,
        html=False,
    )
    await ctx.notice(f"Webhook `{name}` now requires a secret. See your admin room.")


@setup_commands.command(
    "webhook digest",
    "Summarise a burst in one message: `on` (more than the bridge's threshold waiting), a "
    "number (your own threshold, 2-1000) or `off`.",
    required=("name", "setting"),
    category=CATEGORY,
)
async def webhook_digest(ctx: CommandContext, name: str, setting: str) -> None:
    try:
        chosen = digest_from_word(setting)
    except ValueError as err:
        raise CommandError(f"Digest: {err}.") from None
    await ctx.provisioner.set_webhook_digest(ctx.room_id, ctx.sender, name, chosen)
    await ctx.notice(f"Digest for webhook `{name}` is {describe(chosen)}.")


@setup_commands.command(
    "webhook rotate",
    "Give a webhook a new URL (sent to your DM); the old one stops working at once.",
    required=("name",),
    category=CATEGORY,
)
async def webhook_rotate(ctx: CommandContext, name: str) -> None:
    hook = await ctx.provisioner.rotate_webhook(ctx.room_id, ctx.sender, name)
    admin_room = await ctx.admin_rooms.get_or_create(ctx.sender)
    kept = ""
    if hook.kept_secret:
        kept = (
            f"\nIt still requires the same secret; `!hookshot webhook secret {name}` "
            "makes a new one."
        )
    # The URL stands alone on its last line so it copies cleanly.
    await ctx.notice(
        f'The webhook "{name}" in {_room_link(ctx.room_id)} has a new URL; the old one no '
        f"longer works.{kept}\nPlease configure your webhook source to use\n{hook.url}",
        room_id=admin_room,
        html=False,
    )
    await ctx.notice(f"Webhook `{name}` has a new URL. See your admin room.")


def _room_link(room_id: str) -> str:
    return "https://matrix.to/#/" + room_id.replace("!", "%21").replace(":", "%3A")


@setup_commands.command(
    "webhook log",
    "Show a webhook's recent requests and what became of them (sent to your DM).",
    required=("name",),
    category=CATEGORY,
)
async def webhook_log(ctx: CommandContext, name: str) -> None:
    await ctx.provisioner.check(ctx.room_id, ctx.sender, wire.SERVICE_WEBHOOKS, wire.GENERIC_HOOK)
    hook = next(
        (
            c
            for c in ctx.store.in_room(ctx.room_id)
            if isinstance(c, GenericHook) and c.name == name
        ),
        None,
    )
    if hook is None:
        raise CommandError(f'No webhook by the name of "{name}" is configured.')
    if ctx.delivery_log is None:
        raise CommandError("The delivery log is not available.")
    entries = await ctx.delivery_log.entries(hook.hook_id)
    lines = [f" - {entry.line()}" for entry in reversed(entries)] or [" - (no requests yet)"]
    admin_room = await ctx.admin_rooms.get_or_create(ctx.sender)
    await ctx.notice(
        f'Recent requests to the webhook "{name}", newest first:\n\n' + "\n".join(lines),
        room_id=admin_room,
    )
    await ctx.notice("Sent the webhook's delivery log to your admin room.", html=False)


@setup_commands.command(
    "webhook remove", "Remove a webhook from the room.", required=("name",), category=CATEGORY
)
async def webhook_remove(ctx: CommandContext, name: str) -> None:
    await ctx.provisioner.remove_webhook(ctx.room_id, ctx.sender, name)
    await ctx.notice(f"Removed webhook `{name}`")


@setup_commands.command(
    "outbound-hook",
    "Create an outbound webhook: room events are sent to the URL.",
    required=("name", "url"),
    category=CATEGORY,
)
async def outbound_hook_create(ctx: CommandContext, name: str, url: str) -> None:
    token = await ctx.provisioner.create_outbound_hook(ctx.room_id, ctx.sender, name, url)
    admin_room = await ctx.admin_rooms.get_or_create(ctx.sender)
    room_link = _room_link(ctx.room_id)
    await ctx.notice(
        f'You have bridged the webhook "{name}" in {room_link} .\n'
        f"Please use the secret token `{token}` when validating the request "
        "(X-Matrix-Hookshot-Token; the body's HMAC-SHA256 with it is in "
        "X-Matrix-Hookshot-Signature).",
        room_id=admin_room,
    )
    await ctx.notice(
        "Room configured to bridge outbound webhooks. See admin room for the secret token.",
        html=False,
    )
