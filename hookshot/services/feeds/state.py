"""Feed connections: hookshot's state (`uk.half-shot.matrix-hookshot.feed`, state_key = URL).

{"url": "https://example.org/feed.xml", "label": "Example", "template": "...",
 "notifyOnFailure": true}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from hookshot.core.connections import DEFAULT_PRIORITY, Connection
from hookshot.core.state_fields import priority as _priority
from hookshot.errors import StateError

MAX_TEMPLATE = 1024  # hookshot's limit
MAX_URL = 2048
_KNOWN = frozenset({"url", "label", "template", "notifyOnFailure", "priority"})


@dataclass(frozen=True)
class FeedState:
    url: str
    label: str | None = None
    template: str | None = None
    notify_on_failure: bool = False
    priority: int = DEFAULT_PRIORITY
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_content(self) -> dict[str, Any]:
        content: dict[str, Any] = {**self.extra, "url": self.url}
        if self.label is not None:
            content["label"] = self.label
        if self.template is not None:
            content["template"] = self.template
        if self.notify_on_failure:
            content["notifyOnFailure"] = True
        if self.priority != DEFAULT_PRIORITY:
            content["priority"] = self.priority
        return content


def check_url(url: str) -> str:
    """An http(s) URL with a host, else StateError (hookshot: "Feed URL doesn't appear valid")."""
    parts = urlsplit(url.strip())
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise StateError("Feed URL doesn't appear valid")
    return url.strip()


def parse_state(content: Mapping[str, Any]) -> FeedState:
    """hookshot's checks, with its messages."""
    url = content.get("url")
    if not isinstance(url, str):
        raise StateError("No URL specified")
    label = content.get("label")
    if label is not None and not isinstance(label, str):
        raise StateError("Label must be a string")
    template = content.get("template")
    if template is not None:
        if not isinstance(template, str):
            raise StateError("Template must be a string")
        if len(template) > MAX_TEMPLATE:
            raise StateError(f"Template should not be longer than {MAX_TEMPLATE} characters")
    notify = content.get("notifyOnFailure")
    if notify is not None and not isinstance(notify, bool):
        raise StateError("notifyOnFailure must be a boolean")
    return FeedState(
        url=check_url(url),
        label=label,
        template=template,
        notify_on_failure=bool(notify),
        priority=_priority(content.get("priority")),
        extra={k: v for k, v in content.items() if k not in _KNOWN},
    )


@dataclass(frozen=True)
class FeedConnection(Connection):
    state: FeedState

    def match_keys(self) -> tuple[str, ...]:
        return (f"feed:{self.state.url}",)


def from_state(
    room_id: str, event_type: str, state_key: str, content: Mapping[str, Any]
) -> FeedConnection:
    state = parse_state(content)
    return FeedConnection(
        room_id=room_id,
        event_type=event_type,
        state_key=state_key,
        priority=state.priority,
        state=state,
    )
