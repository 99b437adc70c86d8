"""Which commands a connection answers to, under which prefix and permission service."""

from __future__ import annotations

from hookshot import wire
from hookshot.commands.registry import ConnectionCommands
from hookshot.core.connections import Connection
from hookshot.services.github.commands import github_commands
from hookshot.services.github.repo import GitHubRepo
from hookshot.services.gitlab.commands import gitlab_commands
from hookshot.services.gitlab.repo import GitLabRepo


def commands_for(connection: Connection) -> ConnectionCommands | None:
    if isinstance(connection, GitHubRepo):
        return ConnectionCommands(connection.command_prefix, github_commands, wire.SERVICE_GITHUB)
    if isinstance(connection, GitLabRepo):
        return ConnectionCommands(connection.command_prefix, gitlab_commands, wire.SERVICE_GITLAB)
    return None
