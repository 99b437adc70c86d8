"""Generic webhooks as the bridge sees them (services.base.Service).

One service holds hookshot's two generic features: inbound hooks (`generic`, on when
`generic.enabled`) and outbound hooks (`genericOutbound`, on when `generic.outbound`). Both
live in the `generic` config section, so a given section can leave either or both off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hookshot import wire
from hookshot.services.base import ServiceParts, ServiceRuntime
from hookshot.services.generic import config as generic_config
from hookshot.services.generic.config import GenericConfig

if TYPE_CHECKING:
    from hookshot.config import Section

SERVICE = "generic"  # the config section and the inbound hooks' widget section


class GenericService:
    name = SERVICE
    title = "Webhooks"

    def parse_config(self, section: Section) -> GenericConfig:
        return generic_config.parse_config(section)

    def enabled_names(self, settings: Any) -> tuple[str, ...]:
        assert isinstance(settings, GenericConfig)
        return (SERVICE,) * settings.enabled + (wire.SERVICE_OUTBOUND,) * settings.outbound

    def start(self, settings: Any, parts: ServiceParts) -> ServiceRuntime:
        assert isinstance(settings, GenericConfig)
        return ServiceRuntime(
            name=self.name,
            title=self.title,
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
