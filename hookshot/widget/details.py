"""Connections as the widget sees them: hookshot's connection ids and response items.

    {"id", "type", "service", "eventType", "botUserId", "config", "secrets"?, "canEdit"?,
     "canSendMessages"?, "warning"?}

`id` is hookshot's `connectionId`: md5 hex of "<roomId>/<canonical event type>/<state_key>"
(src/Connections/BaseConnection.ts, src/format_util.rs `hash_id`), so it is stable for a
room + kind + state key and the same for a room bridged by hookshot before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hookshot import wire
from hookshot.core.connections import Connection, connection_id
from hookshot.core.kinds import Kind
from hookshot.services import registry
from hookshot.services.forgejo.wire import FORGEJO_REPO
from hookshot.services.generic.hook import GenericHook
from hookshot.services.generic.outbound_hook import OutboundHook


@dataclass(frozen=True)
class KindInfo:
    """How hookshot presents one kind of connection to the widget."""

    service: str  # hookshot's ServiceCategory, the `{service}` filter of the routes
    type: str  # hookshot's display type
    event_type: str  # the canonical state event type
    identity: tuple[str, ...]  # content keys an update may not change (they name the thing)


KINDS: Mapping[str, KindInfo] = {
    registry.GENERIC.name: KindInfo("generic", "Webhook", wire.GENERIC_HOOK, ("name",)),
    registry.GITHUB_REPO.name: KindInfo("github", "GithubRepo", wire.GITHUB_REPO, ("org", "repo")),
    registry.GITLAB_REPO.name: KindInfo(
        "gitlab", "GitLabRepo", wire.GITLAB_REPO, ("instance", "path")
    ),
    # Ours (hookshot has no Forgejo): the widget's `forgejo` section.
    registry.FORGEJO_REPO.name: KindInfo(
        "forgejo", "ForgejoRepo", FORGEJO_REPO, ("instance", "owner", "repo")
    ),
    registry.OUTBOUND.name: KindInfo(
        "genericOutbound", "OutboundHook", wire.OUTBOUND_HOOK, ("name",)
    ),
}

# Sections of GET /v1/config/sections, as hookshot lists them.
CONFIG_SECTIONS: tuple[str, ...] = (
    "github",
    "gitlab",
    "generic",
    "genericOutbound",
    "jira",
    "figma",
    "feeds",
    "openproject",
)
# hookshot's ConnectionType names: GET /v1/service/{service}/config knows these.
KNOWN_SERVICES: frozenset[str] = frozenset(
    {
        "feeds",
        "figma",
        "generic",
        "genericOutbound",
        "github",
        "gitlab",
        "jira",
        "challengehound",
        "openproject",
    }
)


def kind_info(event_type: str) -> tuple[Kind, KindInfo] | None:
    """The kind of a connection event type (legacy types included), if the widget knows it."""
    kind = registry.kind_for(event_type)
    if kind is None or kind.name not in KINDS:
        return None
    return kind, KINDS[kind.name]


def id_of(connection: Connection) -> str | None:
    found = kind_info(connection.event_type)
    if found is None:
        return None
    return connection_id(connection.room_id, found[1].event_type, connection.state_key)


def current_content(connection: Connection) -> dict[str, Any] | None:
    """The connection's state content as we would write it (the base an update merges onto)."""
    # Every kind the widget shows keeps its validated content as `state` (see KINDS).
    to_content = getattr(getattr(connection, "state", None), "to_content", None)
    content = to_content() if callable(to_content) else None
    return content if isinstance(content, dict) else None


def details(
    connection: Connection,
    *,
    bot_user_id: str,
    hook_url: Callable[[str], str],
    show_secrets: bool,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """hookshot's `getProvisionerDetails(showSecrets)` for one connection (None: not shown)."""
    found = kind_info(connection.event_type)
    content = current_content(connection)
    if found is None or content is None:
        return None
    info = found[1]
    item: dict[str, Any] = {
        "service": info.service,
        "eventType": info.event_type,
        "type": info.type,
        "botUserId": bot_user_id,
        "id": connection_id(connection.room_id, info.event_type, connection.state_key),
        "config": content,
    }
    if isinstance(connection, GenericHook):
        content.setdefault("waitForComplete", False)
        if show_secrets:
            secrets: dict[str, Any] = {
                "url": hook_url(connection.hook_id),
                "hookId": connection.hook_id,
            }
            expiry = connection.state.expiration_date
            if expiry is not None:
                remaining = expiry - (now or datetime.now(UTC))
                secrets["timeRemainingMs"] = int(remaining.total_seconds() * 1000)
            item["secrets"] = secrets
    if isinstance(connection, OutboundHook) and show_secrets:
        item["secrets"] = {"token": connection.token}
    return item
