"""The Service interface: what a service folder gives the bridge, and what it gets.

A service (`services/<name>/`) exports one `Service` object; `services/__init__.py` lists
them. The bridge, the HTTP intake, the commands, the widget and the config consult that list,
so adding a service is a folder and one line there. (GitHub, GitLab and generic hooks predate
this interface: their kinds and renderers are registered the same way, their commands and
config sections are still wired by hand; see docs/architecture.md.)

The core sees only `core.service.JobRenderer` and `core.kinds.Kind`; it never imports this.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from starlette.routing import BaseRoute

from hookshot.commands.registry import CommandSet, ConnectionCommands
from hookshot.core.connections import Connection
from hookshot.core.kinds import Kind
from hookshot.core.outbox import Outbox
from hookshot.core.queue.base import Queue, SeenStore
from hookshot.core.service import JobRenderer
from hookshot.core.store import ConnectionStore

if TYPE_CHECKING:
    from hookshot.commands.user_tokens import UserTokens
    from hookshot.config import Section


@dataclass(frozen=True)
class ServiceParts:
    """What the bridge lends a service when it starts it."""

    queue: Queue
    store: ConnectionStore
    ready: Callable[[], bool]  # the bridge finished starting (intake answers 503 until then)
    tokens: UserTokens  # users' sealed tokens (passFile)
    domain: str  # the homeserver's server name
    outbox: Outbox  # bot messages, through the durable send queue
    seen: SeenStore  # durable keys with expiry (the queue's store: SQLite or Redis)


@dataclass(frozen=True)
class ServiceRuntime:
    """A started service: the parts the bridge plugs in."""

    name: str
    title: str  # the heading of its commands in help
    renderer: JobRenderer | None = None  # renders webhook jobs of kind `Service.name`
    kinds: Sequence[Kind] = ()  # its connection kinds (state event types)
    intake_routes: Sequence[BaseRoute] = ()  # served by listeners with the `webhooks` resource
    setup_commands: CommandSet | None = None  # joined to `!hookshot ...`
    admin_commands: CommandSet | None = None  # joined to the admin room's commands
    # The commands a connection of this service answers to in its room.
    connection_commands: Callable[[Connection], ConnectionCommands | None] | None = None
    widget_config: Mapping[str, Any] | None = None  # `/widgetapi/v1/service/<name>/config`
    # Long-running tasks (pollers), run by the process that holds room state; cancelled at a
    # stop, so they must leave nothing half done that the queue would not finish.
    workers: Sequence[Callable[[], Awaitable[None]]] = ()


class Service(Protocol):
    # The config section, job kind, permission service, URL path and widget section name.
    name: str
    title: str  # the heading in `!hookshot help`

    def parse_config(self, section: Section) -> object:
        """The service's settings from its config section (problems go to `section`)."""
        ...

    def start(self, settings: Any, parts: ServiceParts) -> ServiceRuntime:
        """Build the service's parts (no I/O: the bridge starts afterwards)."""
        ...
