"""The feeds service as the bridge sees it (services.base.Service)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hookshot.core.connections import Connection
from hookshot.core.kinds import BuildContext, Kind
from hookshot.services.base import ServiceParts, ServiceRuntime
from hookshot.services.feeds import config as feeds_config
from hookshot.services.feeds.commands import build_commands
from hookshot.services.feeds.poller import FeedPoller
from hookshot.services.feeds.state import from_state
from hookshot.services.feeds.wire import FEED_TYPES, SERVICE

if TYPE_CHECKING:
    from hookshot.config import Section


async def _build(
    ctx: BuildContext, room_id: str, event_type: str, state_key: str, content: Mapping[str, Any]
) -> Connection:
    return from_state(room_id, event_type, state_key, content)


class FeedsService:
    name = SERVICE
    title = "Feeds"

    def parse_config(self, section: Section) -> feeds_config.FeedsConfig | None:
        return feeds_config.parse_config(section)

    def start(self, settings: Any, parts: ServiceParts) -> ServiceRuntime:
        assert isinstance(settings, feeds_config.FeedsConfig)
        poller = FeedPoller(parts.store, parts.outbox, parts.seen, settings)
        return ServiceRuntime(
            name=self.name,
            title=self.title,
            kinds=(Kind("feed", SERVICE, FEED_TYPES, _build),),
            setup_commands=build_commands(settings),
            workers=(poller.run,),
            widget_config={"pollIntervalSeconds": settings.poll_interval},
        )


SERVICE_OBJECT = FeedsService()
