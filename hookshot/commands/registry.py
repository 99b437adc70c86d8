"""Bot commands: decorated async functions with their help text beside them.

`!hookshot webhook list` is matched longest-first, so a command's words can be a prefix of
another's (`webhook` vs `webhook list`). Arguments are split like a shell would.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hookshot.errors import CommandError

# Returns an optional reaction key (default ✅); raising CommandError reports ⛔ + notice.
Handler = Callable[..., Awaitable[str | None]]


@dataclass(frozen=True)
class Command:
    words: str
    handler: Handler
    help: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    category: str = "default"

    def usage(self, prefix: str) -> str:
        parts = [f"{prefix} {self.words}".strip()]
        parts += [f"<{a}>" for a in self.required]
        parts += [f"[{a}]" for a in self.optional]
        return " ".join(parts)


@dataclass
class CommandSet:
    """A named set of commands sharing a prefix (`!hookshot`, `!gh`, admin room: none)."""

    commands: dict[str, Command] = field(default_factory=dict)

    def command(
        self,
        words: str,
        help: str,
        *,
        required: tuple[str, ...] = (),
        optional: tuple[str, ...] = (),
        category: str = "default",
    ) -> Callable[[Handler], Handler]:
        """Register the decorated coroutine as the handler for `words`."""

        def register(fn: Handler) -> Handler:
            key = words.lower()
            if key in self.commands:
                raise ValueError(f"command {words!r} registered twice")
            self.commands[key] = Command(key, fn, help, required, optional, category)
            return fn

        return register

    def match(self, argv: list[str]) -> tuple[Command, list[str]] | None:
        """The longest registered command the words start with, and the remaining args."""
        for n in range(len(argv), 0, -1):
            found = self.commands.get(" ".join(argv[:n]).lower())
            if found is not None:
                return found, argv[n:]
        return None

    def help_markdown(self, prefix: str, categories: Mapping[str, str] | None = None) -> str:
        """A markdown list of commands; `categories` maps enabled category -> heading."""
        lines: list[str] = []
        grouped: dict[str, list[Command]] = {}
        for cmd in self.commands.values():
            grouped.setdefault(cmd.category, []).append(cmd)
        # General commands (help) come after the service groups, as in hookshot.
        ordered = sorted(grouped.items(), key=lambda item: item[0] == "default")
        for category, cmds in ordered:
            if category != "default" and categories is not None and category not in categories:
                continue
            if categories and category in categories:
                lines.append(f"### {categories[category]}")
            lines += [f" - `{cmd.usage(prefix)}` - {cmd.help}" for cmd in cmds]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ConnectionCommands:
    """The commands a connection answers to in its room, under its prefix."""

    prefix: str
    commands: CommandSet
    service: str  # the permission service that guards them


def merged(*sets: CommandSet | None) -> CommandSet:
    """One set holding the commands of all `sets` (a word registered twice is an error)."""
    out = CommandSet()
    for one in sets:
        for key, command in (one.commands if one else {}).items():
            if key in out.commands:
                raise ValueError(f"command {key!r} registered twice")
            out.commands[key] = command
    return out


def issue_number(text: str) -> int:
    """An issue or pull request number as users type it (`12` or `#12`)."""
    cleaned = text.lstrip("#")
    if not cleaned.isdigit():
        raise CommandError(f"'{text}' is not an issue number.")
    return int(cleaned)


def split_command(body: str, prefix: str) -> list[str] | None:
    """The words after `prefix`, shell-split; None if the body is not for this prefix."""
    text = body.strip()
    if prefix:
        if not text.lower().startswith(prefix.lower()):
            return None
        rest = text[len(prefix) :]
        if rest and not rest[0].isspace():
            return None  # `!hookshotx` is not ours
        text = rest
    try:
        return shlex.split(text)
    except ValueError as err:
        # Unbalanced quotes: say so rather than guessing what was meant.
        raise CommandError(f"Could not parse the command: {err}.") from None


async def run(command: Command, args: list[str], *context: Any) -> str | None:
    """Check arity and call the handler with `context` then the args."""
    if len(args) < len(command.required):
        raise CommandError("Missing at least one required parameter.")
    if len(args) > len(command.required) + len(command.optional):
        # hookshot silently drops extra words; a user who forgot quotes deserves to know.
        raise CommandError("Too many parameters; put quotes around a value that has spaces.")
    return await command.handler(*context, *args)
