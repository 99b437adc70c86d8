"""The Forgejo service as the bridge sees it (services.base.Service)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hookshot.core.connections import Connection
from hookshot.core.kinds import BuildContext, Kind
from hookshot.core.queue.base import ValueStore
from hookshot.errors import StateError
from hookshot.services.base import ServiceParts, ServiceRuntime
from hookshot.services.forgejo import config as forgejo_config
from hookshot.services.forgejo.commands import build_commands, connection_commands
from hookshot.services.forgejo.intake import ForgejoWebhookIntake
from hookshot.services.forgejo.render import ForgejoRenderer
from hookshot.services.forgejo.repo import from_state, parse_state
from hookshot.services.forgejo.wire import FORGEJO_REPO_TYPES, SERVICE

if TYPE_CHECKING:
    from hookshot.config import Section


class ForgejoService:
    name = SERVICE
    title = "Forgejo / Gitea"

    def parse_config(self, section: Section) -> forgejo_config.ForgejoConfig:
        return forgejo_config.parse_config(section)

    def start(self, settings: Any, parts: ServiceParts) -> ServiceRuntime:
        assert isinstance(settings, forgejo_config.ForgejoConfig)
        config = settings

        async def build(
            ctx: BuildContext,
            room_id: str,
            event_type: str,
            state_key: str,
            content: Mapping[str, Any],
        ) -> Connection:
            url = config.instances.get(parse_state(content).instance)
            if url is None:
                raise StateError("Instance name not recognised")
            return from_state(room_id, event_type, state_key, content, instance_url=url)

        commands = build_commands(config, parts.tokens)
        intake = ForgejoWebhookIntake(
            secret=config.webhook_secret, queue=parts.queue, ready=parts.ready
        )
        return ServiceRuntime(
            name=self.name,
            title=self.title,
            renderer=ForgejoRenderer(
                parts.store,
                # Subject states for `threads: true` connections, in the queue's own store.
                values=parts.seen if isinstance(parts.seen, ValueStore) else None,
            ),
            kinds=(Kind("forgejo_repo", SERVICE, FORGEJO_REPO_TYPES, build),),
            intake_routes=tuple(intake.routes()),
            setup_commands=commands.setup,
            admin_commands=commands.admin,
            connection_commands=connection_commands(commands.connection),
            widget_config={"instances": dict(config.instances)},
        )


SERVICE_OBJECT = ForgejoService()
