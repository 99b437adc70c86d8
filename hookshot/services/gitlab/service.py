"""The GitLab service as the bridge sees it (services.base.Service)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hookshot.core.connections import Connection
from hookshot.core.queue.base import ValueStore
from hookshot.errors import CommandError, StateError
from hookshot.services.base import LegacyRoot, ServiceParts, ServiceRuntime
from hookshot.services.gitlab import config as gitlab_config
from hookshot.services.gitlab import repo
from hookshot.services.gitlab.access import GitLabAccess
from hookshot.services.gitlab.commands import build_commands, connection_commands
from hookshot.services.gitlab.intake import GitLabWebhookIntake, is_gitlab_delivery
from hookshot.services.gitlab.kind import with_instances
from hookshot.services.gitlab.render import GitLabRenderer
from hookshot.services.gitlab.review_batches import DiscussionThreads
from hookshot.services.gitlab.wire import GITLAB_REPO, SERVICE

if TYPE_CHECKING:
    from hookshot.config import Section


class GitLabService:
    name = SERVICE
    title = "GitLab"

    def parse_config(self, section: Section) -> gitlab_config.GitLabConfig:
        return gitlab_config.parse_config(section)

    def start(self, settings: Any, parts: ServiceParts) -> ServiceRuntime:
        assert isinstance(settings, gitlab_config.GitLabConfig)
        config = settings
        access = GitLabAccess(config, parts.tokens)
        commands = build_commands(access)
        intake = GitLabWebhookIntake(
            secret=config.webhook_secret, queue=parts.queue, ready=parts.ready
        )
        # Where each discussion's first notice landed: later notes are threaded under it.
        threads = DiscussionThreads()
        return ServiceRuntime(
            name=self.name,
            title=self.title,
            renderer=GitLabRenderer(
                parts.queue,
                parts.store,
                threads,
                config.comment_debounce_ms / 1000,
                # Subject states for `threads: true` connections, in the queue's own store.
                values=parts.seen if isinstance(parts.seen, ValueStore) else None,
            ),
            kinds=(with_instances(config.instances),),
            intake_routes=tuple(intake.routes()),
            legacy_root=LegacyRoot(is_gitlab_delivery, intake.handle),
            on_sent=threads.on_sent,
            setup_commands=commands.setup,
            admin_commands=commands.admin,
            connection_commands=connection_commands(commands.connection),
            widget_config={"userIdPrefix": config.user_id_prefix or "_gitlab_"},
            widget_connections=GitLabWidget(access),
        )


class GitLabWidget:
    """Project connections made and listed in the widget (services.base.WidgetConnections)."""

    def __init__(self, access: GitLabAccess) -> None:
        self._access = access

    async def create(
        self, room_id: str, user_id: str, event_type: str, body: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], Connection]:
        state = repo.validate_new_state(body)
        url = self._access.config.instances.get(state.instance)
        if url is None:
            raise StateError("Instance name not recognised")
        key = f"{state.instance}/{state.path}".lower()
        content = state.to_content()
        return key, content, repo.from_state(room_id, event_type, key, content, instance_url=url)

    def rebuild(self, connection: Connection, content: Mapping[str, Any]) -> Connection | None:
        if not isinstance(connection, repo.GitLabRepo):
            return None
        return repo.from_state(
            connection.room_id,
            connection.event_type,
            connection.state_key,
            content,
            instance_url=connection.instance_url,
        )

    async def targets(
        self, user_id: str, event_type: str, filters: Mapping[str, str]
    ) -> Sequence[Any] | None:
        if event_type != GITLAB_REPO:
            return None
        found: list[Any] = []
        wanted = filters.get("instance")
        for name in self._access.config.instances:
            if wanted and name != wanted:
                continue
            try:
                client = await self._access.user_client(user_id, name)
            except CommandError:
                continue  # no token for this instance
            async with client:
                projects = await client.list_projects(search=filters.get("search") or None)
            found += [{"name": p.path_with_namespace, "instance": name} for p in projects]
        return found


SERVICE_OBJECT = GitLabService()
