"""A thread root that continues a subject's thread from a predecessor room (pure).

A Matrix thread cannot span rooms, so after a room upgrade the subject's first message in the
new room starts a new thread; its root ends with a line linking the old root, and keeps it
when the root is edited later (`threads.py` re-adds it to every edit).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from hookshot import wire

LINK_TEXT: Final = "Earlier messages about this are in the thread before the room upgrade"
# Messages whose body is text; an image's or a file's body is its caption or name.
TEXT_MSGTYPES: Final = frozenset({"m.text", "m.notice", "m.emote"})


@dataclass(frozen=True)
class Link:
    """The old root a new room's root continues."""

    room_id: str
    event_id: str

    @property
    def permalink(self) -> str:
        """The old root as a matrix.to permalink; identifiers percent-encoded as the spec
        asks (an event id may hold `/` or `+`)."""
        return (
            f"https://matrix.to/#/{quote(self.room_id, safe='!')}/{quote(self.event_id, safe='')}"
        )

    def to_payload(self) -> dict[str, str]:
        return {"room_id": self.room_id, "event_id": self.event_id}


def linked(content: Mapping[str, Any], link: Link) -> dict[str, Any]:
    """`content` with the link line after it, in `body` and (HTML-escaped) `formatted_body`,
    and the old root named for machines under `wire.THREAD_LINK_CONTENT_KEY`.

    Content without HTML gets an HTML body (its text escaped) so the link can be a link; a
    message that is not text (an image) only gets the machine-readable key."""
    msgtype = content.get("msgtype")
    if isinstance(msgtype, str) and msgtype not in TEXT_MSGTYPES:
        return {**content, wire.THREAD_LINK_CONTENT_KEY: link.to_payload()}
    url = link.permalink
    body = str(content.get("body", ""))
    if content.get("format") == wire.HTML_FORMAT and isinstance(content.get("formatted_body"), str):
        before = str(content["formatted_body"])
    else:
        before = html.escape(body, quote=False).replace("\n", "<br>")
    anchor = f'<a href="{html.escape(url)}">{html.escape(LINK_TEXT, quote=False)}</a>'
    return {
        **content,
        "body": f"{body}\n\n↩ {LINK_TEXT}: {url}" if body else f"↩ {LINK_TEXT}: {url}",
        "format": wire.HTML_FORMAT,
        "formatted_body": f"{before}<br><br>↩ {anchor}" if before else f"↩ {anchor}",
        wire.THREAD_LINK_CONTENT_KEY: link.to_payload(),
    }
