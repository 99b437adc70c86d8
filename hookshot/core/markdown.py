"""Markdown to Matrix HTML, rendered the way hookshot's markdown-it does.

hookshot creates `new markdownit()` with no options: the JS "default" preset (raw HTML
escaped, tables and strikethrough on, no linkify, no typographer, single newlines kept as
soft breaks). markdown-it-py ships the same preset as "js-default".
"""

from __future__ import annotations

import html
import re
from typing import Final

from markdown_it import MarkdownIt

from hookshot import wire

_MD: Final = MarkdownIt("js-default")
# What could make a link, markup or code of user text. `_` inside a word is left alone: it
# makes no emphasis there, and names like a_nice_user would read badly with backslashes.
_SPECIAL: Final = re.compile(r"([\\`*\[\]<>]|\b_|_\b)")

# What JavaScript's String.prototype.trim() removes (WhiteSpace and LineTerminator).
JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def js_trim(text: str) -> str:
    """Strip `text` exactly as JavaScript's `trim()` does (Python's strip() differs)."""
    return text.strip(JS_WHITESPACE)


def render_markdown(text: str) -> str:
    """Render `text` as block markdown, trimmed like hookshot's `md.render(text).trim()`."""
    return js_trim(_MD.render(text))


def render_markdown_inline(text: str) -> str:
    """Render `text` without paragraph wrapping, like hookshot's `md.renderInline(text)`."""
    rendered: str = _MD.renderInline(text)
    return rendered


_PARAGRAPH_TAGS: Final = re.compile(r"</?p>")
_WHITESPACE: Final = re.compile(r"\s+")


def notice_content(markdown: str) -> dict[str, object]:
    """A bot notice: `markdown` as the body, plus its HTML when it has any markup (clients
    would otherwise show backticks and asterisks); plain text stays plain."""
    content: dict[str, object] = {"msgtype": wire.M_NOTICE, "body": markdown}
    rendered = render_markdown(markdown)
    if has_markup(markdown, rendered):
        content["format"] = wire.HTML_FORMAT
        content["formatted_body"] = rendered
    return content


def has_markup(text: str, rendered: str) -> bool:
    """Whether markdown `text` renders to more than paragraphs of the same characters."""
    bare = html.unescape(_PARAGRAPH_TAGS.sub("", rendered))
    return _WHITESPACE.sub("", bare) != _WHITESPACE.sub("", text)


def escape_markdown(text: str) -> str:
    """User text as literal markdown: it cannot add links, markup or code to a notice."""
    return _SPECIAL.sub(r"\\\1", text)
