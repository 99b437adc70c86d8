"""A feed entry as a notice (pure), with hookshot's template tokens:

    $FEEDNAME  the connection's label, else the feed's title, else its URL
    $FEEDURL $FEEDTITLE $TITLE $URL $AUTHOR $DATE $SUMMARY
    $LINK      [title](url), or nothing without a URL

Without a template: "New post in $FEEDNAME: $LINK" (or ": $TITLE" without a link, or just
"New post in $FEEDNAME"). Ours: every value from the feed is plain text with markdown syntax
escaped, so an entry cannot add links or markup of its own, and only http(s) links are used.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from hookshot import wire
from hookshot.core.markdown import escape_markdown, notice_content, render_markdown_inline
from hookshot.services.feeds.parse import Entry
from hookshot.services.feeds.state import FeedState
from hookshot.services.feeds.wire import ITEM_KEY

TEMPLATE_PLAIN = "New post in $FEEDNAME"
TEMPLATE_LINK = "New post in $FEEDNAME: $LINK"
TEMPLATE_TITLE = "New post in $FEEDNAME: $TITLE"
MAX_SUMMARY = 512  # hookshot's
_TOKEN = re.compile(r"\$[A-Z]+")


def _md(text: str | None) -> str:
    return escape_markdown(text) if text else ""


def web_link(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def message(state: FeedState, feed_title: str | None, entry: Entry) -> dict[str, Any]:
    link = web_link(entry.link)
    summary = entry.summary or ""
    if len(summary) > MAX_SUMMARY:
        summary = summary[:MAX_SUMMARY] + "…"
    values = {
        "$FEEDNAME": _md(state.label or feed_title or state.url),
        "$FEEDURL": state.url,
        "$FEEDTITLE": _md(feed_title),
        "$TITLE": _md(entry.title),
        "$LINK": f"[{_md(entry.title or link)}]({link})" if link else "",
        "$URL": link or "",
        "$AUTHOR": _md(entry.author),
        "$DATE": entry.to_content(feed_title, state.url)["pubdate"] or "",
        "$SUMMARY": _md(summary),
    }
    template = state.template or (
        TEMPLATE_LINK if link else TEMPLATE_TITLE if entry.title else TEMPLATE_PLAIN
    )
    body = _TOKEN.sub(lambda m: values.get(m.group(0), m.group(0)), template)
    content: dict[str, Any] = {
        "msgtype": wire.M_NOTICE,
        "body": body,
        "format": wire.HTML_FORMAT,
        "formatted_body": render_markdown_inline(body),
        ITEM_KEY: entry.to_content(feed_title, state.url),
    }
    if link:
        content[wire.EXTERNAL_URL] = link
    return content


def failure_notice(url: str, error: str, failures: int) -> dict[str, Any]:
    text = f"Error fetching {url}: {error}"
    if failures > 1:
        text += f" ({failures} times in a row; retrying less often until it works)"
    return notice_content(text)
