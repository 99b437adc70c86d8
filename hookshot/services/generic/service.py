"""Generic webhooks as the bridge sees them (services.base.Service).

One service holds hookshot's two generic features: inbound hooks (`generic`, on when
`generic.enabled`) and outbound hooks (`genericOutbound`, on when `generic.outbound`). Both
live in the `generic` config section, so a given section can leave either or both off.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hookshot import wire
from hookshot.core.hot_path import HotRoute
from hookshot.core.rate_limit import KeyedLimits
from hookshot.services.base import ServiceParts, ServiceRuntime
from hookshot.services.generic import config as generic_config
from hookshot.services.generic.commands import setup_commands
from hookshot.services.generic.config import GenericConfig
from hookshot.services.generic.directory_wiring import HookDirectoryWiring
from hookshot.services.generic.expiry import ExpiryNotifier
from hookshot.services.generic.intake import (
    HOT_PREFIX,
    METHODS,
    GenericIntakeSettings,
    GenericWebhookIntake,
)
from hookshot.services.generic.kind import GENERIC_KIND, OUTBOUND_KIND
from hookshot.services.generic.outbound import guarded_client, is_forwarded
from hookshot.services.generic.outbound_hook import OutboundHook
from hookshot.services.generic.outbound_worker import OutboundSender, outbound_jobs
from hookshot.services.generic.render import GenericRenderer, GenericRenderSettings
from hookshot.services.generic.static import apply_static_connections
from hookshot.services.generic.widget import GenericWidget
from hookshot.services.generic.wire import SERVICE

if TYPE_CHECKING:
    from hookshot.config import Section


class GenericService:
    name = SERVICE
    title = "Webhook"  # the heading of its commands in help, as hookshot words it

    def parse_config(self, section: Section) -> GenericConfig:
        return generic_config.parse_config(section)

    def enabled_names(self, settings: Any) -> tuple[str, ...]:
        assert isinstance(settings, GenericConfig)
        return (SERVICE,) * settings.enabled + (wire.SERVICE_OUTBOUND,) * settings.outbound

    def start(self, settings: Any, parts: ServiceParts) -> ServiceRuntime:
        assert isinstance(settings, GenericConfig)
        directory = HookDirectoryWiring(parts.store, parts.role, parts.shared)
        routes = []
        hot: tuple[HotRoute, ...] = ()
        if settings.enabled:
            intake = GenericWebhookIntake(
                settings=GenericIntakeSettings(
                    enable_http_get=settings.enable_http_get,
                    wait_for_complete=settings.wait_for_complete,
                    payload_size_limit=settings.payload_size_limit,
                    rate_limit=settings.rate_limit,
                ),
                hooks=directory.hooks,
                queue=parts.queue,
                completions=parts.completions,
                ready=parts.ready,
                log=parts.delivery_log,
                # The hooks' token buckets: one set per process, shared by its listeners.
                limits=KeyedLimits(),
                on_limited=parts.metrics.webhooks_rate_limited.labels(SERVICE).inc,
            )
            routes = intake.routes()
            hot = (HotRoute(HOT_PREFIX, "hook_id", frozenset(METHODS), intake.handle),)
        expiry = ExpiryNotifier(parts.store, parts.outbox)
        outbound_client = guarded_client(allow_private=settings.outbound_allow_private_targets)
        outbound = OutboundSender(
            parts.queue, parts.store, outbound_client, download=parts.download
        )

        def stop() -> None:
            expiry.stop()
            outbound.stop()
            directory.stop()

        draining = (directory.publisher.run,) if directory.publisher else ()

        async def room_event(event: Mapping[str, Any]) -> None:
            if not is_forwarded(event, is_bridge_user=parts.is_bridge_user):
                return
            room = str(event.get("room_id"))
            hooks = [c for c in parts.store.in_room(room) if isinstance(c, OutboundHook)]
            if hooks:
                await parts.queue.push(wire.TOPIC_OUTBOUND, outbound_jobs(event, hooks))

        return ServiceRuntime(
            name=self.name,
            title=self.title,
            renderer=GenericRenderer(
                parts.store,
                GenericRenderSettings(
                    domain=parts.domain,
                    user_id_prefix=settings.user_id_prefix,
                    include_hook_body=settings.include_hook_body,
                    allow_js=settings.allow_js_transformation_functions,
                ),
                parts.delivery_log,
            ),
            kinds=(GENERIC_KIND, OUTBOUND_KIND),
            setup_commands=setup_commands,
            widget_managed=GenericWidget(
                settings, parts.provisioner, parts.store, parts.delivery_log
            ),
            switches=(wire.SERVICE_WEBHOOKS,) * settings.enabled
            + (wire.SERVICE_OUTBOUND,) * settings.outbound,
            # Its legacy `/{hookId}` matches any single segment.
            catch_all_routes=routes,
            hot_routes=hot,
            until_ready=directory.until_ready,
            readiness=directory.readiness,
            after_change=directory.flush,
            draining_workers=draining + ((outbound.run,) if settings.outbound else ()),
            workers=(expiry.run,) if settings.send_expiry_notice else (),
            stop=stop,
            room_event=room_event,
            loaded=functools.partial(
                apply_static_connections,
                parts.store,
                parts.static_connections,
                js_enabled=settings.allow_js_transformation_functions,
            ),
            aclose=outbound_client.aclose,
            widget_sections={
                SERVICE: widget_config(settings) if settings.enabled else None,
                wire.SERVICE_OUTBOUND: {} if settings.outbound else None,
            },
        )


def widget_config(config: GenericConfig) -> dict[str, Any]:
    """hookshot's public config of `generic` (GET /v1/service/generic/config)."""
    max_expiry = config.max_expiry_time
    return _without_none(
        {
            "userIdPrefix": config.user_id_prefix,
            "allowJsTransformationFunctions": config.allow_js_transformation_functions,
            "waitForComplete": config.wait_for_complete,
            "maxExpiryTime": (
                int(max_expiry.total_seconds() * 1000) if max_expiry is not None else None
            ),
            "requireExpiryTime": config.require_expiry_time,
        }
    )


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    # JSON.stringify drops undefined members; hookshot's answers never carry nulls for them.
    return {k: v for k, v in values.items() if v is not None}


SERVICE_OBJECT = GenericService()
