"""The Service interface: what a service folder gives the bridge, and what it gets.

A service (`services/<name>/`) exports one `Service` object; `services/__init__.py` lists
them. The bridge, the HTTP intake, the commands, the widget and the config consult that list,
so adding a service is a folder and one line there. Generic hooks, the last to move here, use
the most of it (see docs/adding-a-service.md).

The core sees only `core.service.JobRenderer` and `core.kinds.Kind`; it never imports this.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from hookshot.commands.registry import CommandSet, ConnectionCommands
from hookshot.core.connections import Connection
from hookshot.core.hot_path import HotRoute
from hookshot.core.kinds import Kind
from hookshot.core.outbox import Outbox
from hookshot.core.queue.base import Queue, SeenStore
from hookshot.core.service import JobRenderer
from hookshot.core.store import ConnectionStore

if TYPE_CHECKING:
    from hookshot.commands.context import CommandContext
    from hookshot.commands.user_tokens import UserTokens
    from hookshot.config import Section, StaticConnection
    from hookshot.core.completions import Completions
    from hookshot.ops.delivery_log import DeliveryRecorder
    from hookshot.ops.metrics import Metrics
    from hookshot.ops.roles import Role
    from hookshot.ops.shared_redis import SharedRedis
    from hookshot.services.generic.provisioning import Provisioner


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
    tell_user: Callable[[str, str], Awaitable[None]]  # a notice in the user's admin room
    completions: Completions  # outcomes of queued deliveries (to answer once sent)
    delivery_log: DeliveryRecorder  # recent deliveries, for the widget's log
    metrics: Metrics
    role: Role  # what this process runs (ops/roles.py)
    shared: SharedRedis | None  # Redis shared by the roles; None in a single process
    download: Callable[[str], Awaitable[tuple[bytes, str]]]  # Matrix media: (bytes, type)
    # The bridge's provisioner (permission checks, state writes, hooks), built after the
    # services start: call it when handling a request, not in `start`.
    provisioner: Callable[[], Provisioner]
    is_bridge_user: Callable[[str], bool]  # the bot or a user in the bridge's namespace
    static_connections: Sequence[StaticConnection]  # `connections:` from the config


@dataclass(frozen=True)
class LegacyRoot:
    """A service's share of hookshot's legacy `POST /`, which took GitHub and GitLab
    deliveries on the root path and told them apart by their headers."""

    claims: Callable[[Headers], bool]  # this delivery is the service's (its headers say so)
    handle: Callable[[Request], Awaitable[Response]]


class WidgetConnections(Protocol):
    """How the widget makes and changes a service's connections (the routes check access
    and permissions first; the backend writes the state)."""

    async def create(
        self, room_id: str, user_id: str, event_type: str, body: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], Connection]:
        """Validate `body` as new state that `user_id` asks for: (state key, content to
        write, the connection)."""
        ...

    def rebuild(self, connection: Connection, content: Mapping[str, Any]) -> Connection | None:
        """`connection` with new full state `content` (validated); None: not this service's."""
        ...

    async def targets(
        self, user_id: str, event_type: str, filters: Mapping[str, str]
    ) -> Sequence[Any] | None:
        """What the user may connect (with their stored token); None: no targets here."""
        ...


class WidgetManaged(Protocol):
    """How the widget handles connections that a service makes and removes itself rather
    than as plain state writes (generic hooks: the provisioner mints their ids and tokens).
    Each method answers None (False) for connections that are not the service's."""

    def hook_url(self, hook_id: str) -> str:
        """The public URL of a hook (shown with the connection's secrets)."""
        ...

    async def create(
        self, room_id: str, user_id: str, event_type: str, body: Mapping[str, Any]
    ) -> Connection | None:
        """Make (and write) a new connection from `body`."""
        ...

    async def rebuild(
        self, connection: Connection, content: Mapping[str, Any]
    ) -> tuple[str, Connection] | None:
        """(permission service, `connection` with new full state `content`), validated."""
        ...

    async def remove(self, room_id: str, user_id: str, connection: Connection) -> bool:
        """Remove the connection (True), or leave it to a state write (False)."""
        ...

    async def rotate(self, room_id: str, user_id: str, connection: Connection) -> Connection:
        """`connection` with a new URL (CommandError when it has none)."""
        ...

    async def delivery_log(self, connection: Connection) -> Sequence[Any] | None:
        """The connection's recent deliveries, newest first."""
        ...


@dataclass(frozen=True)
class ServiceRuntime:
    """A started service: the parts the bridge plugs in."""

    name: str
    title: str  # the heading of its commands in help
    renderer: JobRenderer | None = None  # renders webhook jobs of kind `Service.name`
    kinds: Sequence[Kind] = ()  # its connection kinds (state event types)
    # The `Kind.switch` names it turns on (None: just its name). Generic: `webhooks` with
    # `generic.enabled`, `genericOutbound` with `generic.outbound`.
    switches: Sequence[str] | None = None
    intake_routes: Sequence[BaseRoute] = ()  # served by listeners with the `webhooks` resource
    # Intake routes that match any single path segment (generic's legacy `/{hookId}`): served
    # after every other intake route and the legacy root.
    catch_all_routes: Sequence[BaseRoute] = ()
    hot_routes: Sequence[HotRoute] = ()  # of its intake routes, those worth a shortcut
    setup_commands: CommandSet | None = None  # joined to `!hookshot ...`
    admin_commands: CommandSet | None = None  # joined to the admin room's commands
    # The commands a connection of this service answers to in its room.
    connection_commands: Callable[[Connection], ConnectionCommands | None] | None = None
    widget_config: Mapping[str, Any] | None = None  # `/widgetapi/v1/service/<name>/config`
    # Widget config sections the service answers for under other names, or that can be off
    # while the service runs (generic: `generic` and `genericOutbound`); None: that one is off.
    # They take precedence over `widget_config`.
    widget_sections: Mapping[str, Mapping[str, Any] | None] | None = None
    widget_connections: WidgetConnections | None = None  # the widget's create/edit/targets
    widget_managed: WidgetManaged | None = None  # connections it makes itself (generic)
    legacy_root: LegacyRoot | None = None  # deliveries hookshot took on `POST /`
    # Called with each sent message's send-job payload and its event id, in the process that
    # holds room state (the sender's, or the news subscriber's when roles are split): a
    # service that threads later messages under an earlier one learns the root's id here.
    on_sent: Callable[[dict[str, Any], str], None] | None = None
    # Routes served with the `webhooks` resource by the process that holds room state (and so
    # the users' admin rooms): GitHub's OAuth callback.
    state_routes: Sequence[BaseRoute] = ()
    # The widget config completed with what has to be asked for (GitHub App's page).
    public_config: Callable[[Mapping[str, Any]], Awaitable[Mapping[str, Any]]] | None = None
    # Room messages, outside admin rooms: `room_message` sees each before the commands (True:
    # it handled it, e.g. a review reply), `unmatched_message` those no command took (hotlinks);
    # `reaction` gets each user's `m.relates_to` of a reaction. They run as the sender.
    room_message: Callable[[CommandContext, Mapping[str, Any], str], Awaitable[bool]] | None = None
    unmatched_message: Callable[[CommandContext, str], Awaitable[None]] | None = None
    reaction: Callable[[CommandContext, Mapping[str, Any]], Awaitable[None]] | None = None
    # Every room event the bridge receives (state, members, messages, ...), before it is
    # handled, as the bot: generic forwards them to the room's outbound hooks.
    room_event: Callable[[Mapping[str, Any]], Awaitable[None]] | None = None
    close: Callable[[], None] | None = None  # at the end of a stop: release clients
    aclose: Callable[[], Awaitable[None]] | None = None  # the same, for async clients
    # Called once room state is loaded, before the workers start (generic: the config's
    # static connections join the store).
    loaded: Callable[[], None] | None = None
    # Awaited before the process reports ready, after room state is loaded where it is held
    # (generic: a webhooks process waits for the hook directory, a bridge until it wrote it).
    until_ready: Callable[[], Awaitable[None]] | None = None
    # More `/ready` checks (name -> passing), e.g. generic's `hookDirectory`.
    readiness: Callable[[], Awaitable[Mapping[str, bool]]] | None = None
    # Awaited after a command or the widget changed connections, before it answers, so the
    # other processes see the change first (generic: the hook directory is flushed).
    after_change: Callable[[], Awaitable[bool]] | None = None
    # Workers that take work and finish it at a stop (run where room state is held, once it is
    # loaded; told to stop by `stop`, then given the shutdown grace), unlike `workers`.
    draining_workers: Sequence[Callable[[], Awaitable[None]]] = ()
    stop: Callable[[], None] | None = None  # at the start of a stop: take no more work
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

    # Optional, looked up with getattr (a Protocol member would be required of every service):
    # `enabled_names(settings) -> tuple[str, ...]`, the names `Config.enabled_services` lists
    # for these settings, when that is not just `name` (generic: a section can be given and
    # off, and outbound hooks are a name of their own).
