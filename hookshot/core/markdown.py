"""Markdown to Matrix HTML, rendered the way hookshot's markdown-it does.

hookshot creates `new markdownit()` with no options: the JS "default" preset (raw HTML
escaped, tables and strikethrough on, no linkify, no typographer, single newlines kept as
soft breaks). markdown-it-py ships the same preset as "js-default".
"""

from __future__ import annotations

import re
from typing import Final

from markdown_it import MarkdownIt

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


def escape_markdown(text: str) -> str:
    """User text as literal markdown: it cannot add links, markup or code to a notice."""
    return _SPECIAL.sub(r"\\\1", text)
