"""The room configuration widget as room state (`im.vector.modular.widgets`), in hookshot's
shape and URL parameters, so clients show "Hookshot Configuration" in the room."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from hookshot import wire
from hookshot.errors import CommandError
from hookshot.matrix import power
from hookshot.matrix.client import MatrixClient
from hookshot.widget.settings import WidgetSettings


def widget_state_key(settings: WidgetSettings, service: str | None = None) -> str:
    host = urlsplit(settings.public_url).netloc
    return f"{wire.WIDGET_STATE_KEY_PREFIX}{host}" + (f"_{service}" if service else "")


def widget_content(
    settings: WidgetSettings, bot_user_id: str, service: str | None = None
) -> dict[str, Any]:
    """The widget event content; the client fills `$matrix_room_id` and `$matrix_widget_id`."""
    state_key = widget_state_key(settings, service)
    scope = f"&serviceScope={service}" if service else ""
    fragment = f"#/?kind=roomConfig&roomId=$matrix_room_id&widgetId=$matrix_widget_id{scope}"
    return {
        "creatorUserId": bot_user_id,
        "data": {"title": service or settings.widget_title},
        "id": state_key,
        "name": settings.widget_title,
        "type": "m.custom",
        "url": urljoin(settings.public_url, fragment),
        "waitForIframeLoad": True,
    }


async def add_setup_widget(client: MatrixClient, room_id: str, settings: WidgetSettings) -> bool:
    """Add the widget unless the room has it; False when it was there already."""
    levels = await client.get_state(room_id, wire.M_ROOM_POWER_LEVELS)
    if not power.can_send_state(levels, client.bot_user_id, wire.WIDGET_STATE):
        raise CommandError(
            "I do not have permission to create a widget in this room. Please promote me to "
            "an Admin/Moderator."
        )
    key = widget_state_key(settings)
    existing = await client.get_state(room_id, wire.WIDGET_STATE, key)
    if existing:
        return False
    await client.send_state(
        room_id, wire.WIDGET_STATE, key, widget_content(settings, client.bot_user_id)
    )
    return True
