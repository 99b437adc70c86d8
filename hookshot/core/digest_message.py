"""The digest message: one notice standing for many waiting messages of one connection. Pure:
the same bundle always makes the same content, so a resent digest is the same digest."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, Final

from hookshot import wire

SHOWN: Final = 10  # summaries listed; the rest are counted
LINE_MAX: Final = 200  # characters of one summary line
LABEL_MAX: Final = 100
NO_TEXT: Final = "(no text)"


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summary_line(content: Mapping[str, Any]) -> str:
    """A message's plain summary: the first non-empty line of its `body`, shortened."""
    body = content.get("body")
    if not isinstance(body, str):
        return NO_TEXT
    for line in body.splitlines():
        line = " ".join(line.split())  # tabs and runs of spaces from a payload: one space
        if line:
            return shorten(line, LINE_MAX)
    return NO_TEXT


def digest_content(label: str, contents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The notice for the messages `contents` of the connection called `label`, in order: it
    says it is a digest and why, lists the first summaries and counts the rest."""
    total = len(contents)
    lines = [summary_line(content) for content in contents[:SHOWN]]
    more = total - len(lines)
    name = shorten(" ".join(label.split()), LABEL_MAX)
    header = (
        f"Digest: {total} events from {name} arrived faster than this room should read "
        "them, so this one message stands for them:"
    )
    tail = f"…and {more} more" if more else ""
    body = "\n".join([header, *(f"• {line}" for line in lines), *([tail] if tail else [])])
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    formatted = f"<p>{html.escape(header)}</p><ul>{items}</ul>"
    if tail:
        formatted += f"<p>{html.escape(tail)}</p>"
    return {
        "msgtype": wire.M_NOTICE,
        "body": body,
        "format": wire.HTML_FORMAT,
        "formatted_body": formatted,
        wire.DIGEST_CONTENT_KEY: {"events": total, "shown": len(lines)},
    }
