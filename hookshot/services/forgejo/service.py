"""The Forgejo service as the bridge sees it (services.base.Service)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hookshot.core.queue.base import ValueStore
from hookshot.services.base import ServiceParts, ServiceRuntime
from hookshot.services.forgejo import config as forgejo_config
from hookshot.services.forgejo.access import ForgejoAccess
from hookshot.services.forgejo.commands import build_commands, connection_commands
from hookshot.services.forgejo.intake import ForgejoWebhookIntake
from hookshot.services.forgejo.kind import with_instances
from hookshot.services.forgejo.render import ForgejoRenderer
from hookshot.services.forgejo.widget import ForgejoWidget
from hookshot.services.forgejo.wire import SERVICE

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
        access = ForgejoAccess(config, parts.tokens)
        commands = build_commands(access)
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
            kinds=(with_instances(config.instances),),
            intake_routes=tuple(intake.routes()),
            setup_commands=commands.setup,
            admin_commands=commands.admin,
            connection_commands=connection_commands(commands.connection),
            widget_config={"instances": dict(config.instances)},
            widget_connections=ForgejoWidget(access),
        )


SERVICE_OBJECT = ForgejoService()
