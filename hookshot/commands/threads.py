"""`threads on|off` for every forge (docs/quiet-rooms.md): the connected room's `!gh threads
on`, `!gl threads on`, `!forgejo threads on`, and the words the setup commands take after the
URL (`!hookshot github repo <url> threads on`).

Here rather than beside `SWITCHES` in core/subjects: core never imports commands (a command's
context reaches the provisioning code of a service).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from hookshot.commands.context import CommandContext
from hookshot.commands.registry import CommandSet
from hookshot.core.subjects import SWITCHES
from hookshot.errors import CommandError

SAY_ON_OR_OFF = "Say `threads on` or `threads off`."
# A setup command's optional words after the URL, as its help shows them.
TRAILING: tuple[str, ...] = ("threads", "on|off")


class _State(Protocol):
    def to_content(self) -> dict[str, Any]: ...


class Threaded(Protocol):
    """A forge connection with the `threads` switch in its state."""

    @property
    def event_type(self) -> str: ...

    @property
    def state_key(self) -> str: ...

    @property
    def state(self) -> _State: ...


C = TypeVar("C", bound=Threaded)


def switch(setting: str) -> bool:
    """`on` / `off` (or `true` / `false`) as a bool; anything else is a clear error."""
    value = SWITCHES.get(setting.lower())
    if value is None:
        raise CommandError(SAY_ON_OR_OFF)
    return value


def trailing_threads(word: str | None, setting: str | None) -> bool | None:
    """The optional `threads on|off` after a setup command's URL; None when absent."""
    if word is None:
        return None
    if word.lower() != "threads":
        raise CommandError(f"Only `threads on` or `threads off` may follow the URL, not `{word}`.")
    if setting is None:
        raise CommandError(SAY_ON_OR_OFF)
    return switch(setting)


def configured(name: str, threads: bool | None) -> str:
    """A setup command's answer (hookshot's words, then the switch when one was given)."""
    tail = "" if threads is None else f" with threads {'on' if threads else 'off'}"
    return f"Room configured to bridge {name}{tail}"


def with_threads(content: Mapping[str, Any], value: bool) -> dict[str, Any]:
    """A connection's state content with its threads switch set."""
    return {**content, "threads": value}


async def write_setup(
    ctx: CommandContext,
    kind: type[C],
    same: Callable[[C], bool],
    event_type: str,
    state_key: str,
    fresh: Mapping[str, Any],
    threads: bool | None,
) -> None:
    """A setup command's state write. With `threads on|off` for something the room already
    bridges (a `kind` connection that is the `same` one) only the switch changes (its hooks,
    filters and other settings stay); otherwise the `fresh` content (hookshot's), with the
    switch when one was given."""
    if threads is None:
        await ctx.provisioner.write_state(ctx.room_id, event_type, state_key, dict(fresh))
        return
    for conn in ctx.store.in_room(ctx.room_id):
        if isinstance(conn, kind) and same(conn):
            content = with_threads(conn.state.to_content(), threads)
            await ctx.provisioner.write_state(ctx.room_id, conn.event_type, conn.state_key, content)
            return
    await ctx.provisioner.write_state(
        ctx.room_id, event_type, state_key, with_threads(fresh, threads)
    )


def add_threads_command(
    room: CommandSet,
    *,
    service: str,
    noun: str,
    connected: Callable[[CommandContext], C],
    name: Callable[[C], str],
) -> None:
    """Register `threads <on|off>` in a connected room's `room` commands: it rewrites the
    connection's state with `threads` set (the sender needs the service's permission)."""

    @room.command(
        "threads",
        f"Put each {noun}'s and issue's notices into its own thread: on or off",
        required=("setting",),
    )
    async def threads(ctx: CommandContext, setting: str) -> None:
        conn = connected(ctx)
        value = switch(setting)
        await ctx.provisioner.check(ctx.room_id, ctx.sender, service, conn.event_type)
        content = with_threads(conn.state.to_content(), value)
        await ctx.provisioner.write_state(ctx.room_id, conn.event_type, conn.state_key, content)
        await ctx.notice(f"Threads {'on' if value else 'off'} for {name(conn)}")
