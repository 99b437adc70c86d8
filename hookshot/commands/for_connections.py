"""Which commands a connection answers to, under which prefix and permission service."""

from __future__ import annotations

from hookshot import wire
from hookshot.commands.registry import ConnectionCommands
from hookshot.core.connections import Connection
from hookshot.services.github.commands import github_commands
from hookshot.services.github.repo import GitHubRepo


def commands_for(connection: Connection) -> ConnectionCommands | None:
    if isinstance(connection, GitHubRepo):
        return ConnectionCommands(connection.command_prefix, github_commands, wire.SERVICE_GITHUB)
    return None
