"""What a transformation (JavaScript function, template or built-in format) turns a webhook
into, shared by all three engines, and the error they raise."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from hookshot import wire
from hookshot.core.markdown import render_markdown
from hookshot.errors import HookshotError

# hookshot's room notice when a transformation throws or returns something invalid.
TRANSFORM_FAILED_TEXT: Final = "Webhook received but failed to process via transformation function"
# hookshot marks "no URL previews" with an empty list of bundled previews (MSC4095's key).
LINK_PREVIEWS_KEY: Final = "com.beeper.linkpreviews"
MENTIONS_KEY: Final = "m.mentions"

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class TransformError(HookshotError):
    """A transformation failed; the message says why (for logs and the delivery log)."""


@dataclass(frozen=True, slots=True)
class Mentions:
    """Intentional mentions (`m.mentions`): `None` fields are left out of the event."""

    user_ids: tuple[str, ...] | None = None
    room: bool | None = None

    def to_content(self) -> dict[str, object]:
        """The `m.mentions` content value."""
        content: dict[str, object] = {}
        if self.user_ids is not None:
            content["user_ids"] = list(self.user_ids)
        if self.room is not None:
            content["room"] = self.room
        return content


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    """What to answer the webhook's sender with (hookshot's `webhookResponse`)."""

    body: str
    content_type: str | None = None
    status_code: int | None = None


@dataclass(frozen=True, slots=True)
class TransformResult:
    """A message to send, or none (`plain is None`), plus an optional HTTP answer.

    `html` None means the caller renders `plain` as markdown (hookshot's rule); `msgtype`
    None means `m.notice`; `url_previews` False asks clients not to preview links (hookshot's
    `hints.showUrlPreviews`), None or True leaves it to them.
    """

    plain: str | None = None
    html: str | None = None
    msgtype: str | None = None
    mentions: Mentions | None = None
    url_previews: bool | None = None
    webhook_response: WebhookResponse | None = None
    # Messages with the same key go to one thread in the room; `thread_edit_root` also
    # replaces the thread's first message with this one (an alert resolved).
    thread_key: str | None = None
    thread_edit_root: bool = False

    @property
    def empty(self) -> bool:
        """No message is sent for this webhook."""
        return self.plain is None

    def extra_content(self) -> dict[str, object]:
        """Event content keys beyond body/html/msgtype: mentions and the no-preview hint."""
        extra: dict[str, object] = {}
        if self.mentions is not None:
            extra[MENTIONS_KEY] = self.mentions.to_content()
        if self.url_previews is False:
            extra[LINK_PREVIEWS_KEY] = []
        return extra

    def message_content(self, render_markdown_html: bool = True) -> dict[str, object]:
        """The `m.room.message` content hookshot builds from this result (no webhook data).

        Like hookshot, a missing `html` is `plain` rendered as markdown. Raises `ValueError`
        for an empty result.
        """
        if self.plain is None:
            raise ValueError("an empty transformation result has no message")
        content: dict[str, object] = {
            "msgtype": self.msgtype or wire.M_NOTICE,
            "body": self.plain,
        }
        html = self.html
        if not html and render_markdown_html:
            html = render_markdown(self.plain)
        if html:
            content["format"] = wire.HTML_FORMAT
            content["formatted_body"] = html
        content.update(self.extra_content())
        return content


def well_formed(text: str) -> str:
    """`text` with lone UTF-16 surrogates replaced by U+FFFD (they are not valid UTF-8)."""
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub("\ufffd", text)
