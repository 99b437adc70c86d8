"""The GitHub service as the bridge sees it (services.base.Service)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hookshot import wire
from hookshot.core.connections import Connection
from hookshot.core.queue.base import ValueStore
from hookshot.services.base import LegacyRoot, ServiceParts, ServiceRuntime
from hookshot.services.github import config as github_config
from hookshot.services.github import repo
from hookshot.services.github.access import GitHubAccess
from hookshot.services.github.client import GitHubApp, GitHubError
from hookshot.services.github.commands import build_commands, connection_commands
from hookshot.services.github.intake import GitHubWebhookIntake, is_github_delivery
from hookshot.services.github.kind import GITHUB_REPO_KIND
from hookshot.services.github.notices import GitHubDefaults
from hookshot.services.github.oauth import GitHubLogin
from hookshot.services.github.render import GitHubRenderer
from hookshot.services.github.room_events import GitHubRoomEvents

if TYPE_CHECKING:
    from hookshot.config import Section

log = logging.getLogger(__name__)


class GitHubService:
    name = wire.SERVICE_GITHUB
    title = "GitHub"

    def parse_config(self, section: Section) -> github_config.GitHubConfig:
        return github_config.parse_config(section)

    def start(self, settings: Any, parts: ServiceParts) -> ServiceRuntime:
        assert isinstance(settings, github_config.GitHubConfig)
        config = settings
        access = GitHubAccess(config, parts.tokens)
        login = GitHubLogin(access, parts.tell_user)
        app = GitHubApp.from_config(config) if config.app_id and config.private_key_file else None
        commands = build_commands(access, login)
        intake = GitHubWebhookIntake(
            secret=config.webhook_secret, queue=parts.queue, ready=parts.ready
        )
        defaults = GitHubDefaults(
            server_name=parts.domain,
            show_issue_room_link=bool(config.default_options.get("showIssueRoomLink")),
        )
        events = GitHubRoomEvents(access)
        return ServiceRuntime(
            name=self.name,
            title=self.title,
            renderer=GitHubRenderer(
                parts.queue,
                parts.store,
                defaults,
                app,
                # Subject states for `threads: true` connections, in the queue's own store.
                values=parts.seen if isinstance(parts.seen, ValueStore) else None,
            ),
            kinds=(GITHUB_REPO_KIND,),
            intake_routes=tuple(intake.routes()),
            legacy_root=LegacyRoot(is_github_delivery, intake.handle),
            state_routes=tuple(login.routes()),
            setup_commands=commands.setup,
            admin_commands=commands.admin,
            connection_commands=connection_commands(commands.connection),
            widget_config={"userIdPrefix": config.user_id_prefix or "_github_"},
            widget_connections=GitHubWidget(access),
            public_config=_with_app_page(app) if app is not None else None,
            room_message=events.review_reply,
            unmatched_message=events.hotlinks,
            reaction=events.reaction,
            close=app.close if app is not None else None,
        )


def _with_app_page(
    app: GitHubApp,
) -> Callable[[Mapping[str, Any]], Awaitable[Mapping[str, Any]]]:
    """The widget config plus the GitHub App's page (`newInstallationUrl`), asked once."""
    page: list[str] = []

    async def complete(config: Mapping[str, Any]) -> Mapping[str, Any]:
        if not page:
            try:
                page.append((await app.app_info()).html_url)
            except GitHubError as err:
                # Left out, as hookshot does before it knows its app; asked again next time.
                log.warning("Could not read the GitHub App for the widget: %s", err.message)
                return config
        return {**config, "newInstallationUrl": page[0]}

    return complete


class GitHubWidget:
    """Repository connections made and listed in the widget (services.base.WidgetConnections)."""

    def __init__(self, access: GitHubAccess) -> None:
        self._access = access

    async def create(
        self, room_id: str, user_id: str, event_type: str, body: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], Connection]:
        state = repo.validate_new_state(body)
        key = f"{state.org}/{state.repo}".lower()
        content = state.to_content()
        return key, content, repo.from_state(room_id, event_type, key, content)

    def rebuild(self, connection: Connection, content: Mapping[str, Any]) -> Connection | None:
        if not isinstance(connection, repo.GitHubRepo):
            return None
        return repo.from_state(
            connection.room_id, connection.event_type, connection.state_key, content
        )

    async def targets(
        self, user_id: str, event_type: str, filters: Mapping[str, str]
    ) -> Sequence[Any] | None:
        if event_type != wire.GITHUB_REPO:
            return None
        async with await self._access.user_client(user_id) as client:
            repos = await client.list_user_repos()
        return [{"name": r.full_name, "description": r.description} for r in repos]


SERVICE_OBJECT = GitHubService()
