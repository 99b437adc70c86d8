"""Feed documents into entries (pure): RSS 0.9x/1.0/2.0 and Atom with feedparser, JSON Feed
1.0/1.1 with json (released feedparser does not read it).

Hostile documents are refused before feedparser sees them: a DTD (entity expansion, external
entities: feedparser's lenient fallback would expand an internal entity quadratically) and
anything over `MAX_BYTES`. Every text is plain text here; HTML in titles is reduced to its
text, summaries too."""

from __future__ import annotations

import calendar
import hashlib
import html
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from xml.etree.ElementTree import ParseError

import feedparser  # type: ignore[import-untyped]
from defusedxml import DTDForbidden, EntitiesForbidden  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring as checked_xml  # type: ignore[import-untyped]

MAX_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 500  # read from one document; more are dropped from its end
MAX_TEXT = 2000  # characters kept of a title or summary


class FeedError(Exception):
    """Why a document is not a feed we read; the message is meant for the room."""


@dataclass(frozen=True)
class Entry:
    key: str  # what identifies the entry across polls: id, else link, else a content hash
    title: str | None
    link: str | None
    author: str | None
    published: float | None  # seconds since the epoch (UTC)
    summary: str | None

    def to_content(self, feed_title: str | None, feed_url: str) -> dict[str, Any]:
        """hookshot's `…feeds.item` content key."""
        return {
            "feed": {"title": feed_title, "url": feed_url},
            "title": self.title,
            "link": self.link,
            "author": self.author,
            "pubdate": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(self.published))
            if self.published is not None
            else None,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class Feed:
    title: str | None
    entries: Sequence[Entry]  # oldest first


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(value: object) -> str | None:
    """Markup reduced to its text, whitespace folded, cut to MAX_TEXT; None if empty."""
    if not isinstance(value, str):
        return None
    reader = _Text()
    reader.feed(value)
    reader.close()
    text = " ".join(html.unescape("".join(reader.parts)).split())
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return text or None


def _key(entry_id: object, link: object, *parts: object) -> str:
    for candidate in (entry_id, link):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    digest = hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()
    return f"sha256:{digest}"


def _ordered(entries: list[tuple[int, Entry]]) -> list[Entry]:
    """Oldest first: by date where every entry has one, else the reverse of document order
    (feeds list the newest first)."""
    if entries and all(e.published is not None for _, e in entries):
        return [e for _, e in sorted(entries, key=lambda pair: (pair[1].published, -pair[0]))]
    return [e for _, e in reversed(entries)]


def _is_json(raw: bytes, content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in ("application/feed+json", "application/json"):
        return True
    return raw.lstrip()[:1] == b"{"


def parse_json_feed(raw: bytes) -> Feed:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise FeedError("Not a feed: invalid JSON") from None
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or "jsonfeed.org/version/" not in version:
        raise FeedError("Not a feed: JSON without a JSON Feed version")
    items = doc.get("items")
    found: list[tuple[int, Entry]] = []
    for index, item in enumerate(items[:MAX_ENTRIES] if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        title = plain_text(item.get("title"))
        link = item.get("url") if isinstance(item.get("url"), str) else None
        summary = plain_text(
            item.get("summary") or item.get("content_text") or item.get("content_html")
        )
        # 1.1 has a list of authors, 1.0 one author.
        authors = item.get("authors")
        authors = authors if isinstance(authors, list) else [item.get("author")]
        names = [a.get("name") for a in authors if isinstance(a, dict)]
        author = plain_text(next((n for n in names if isinstance(n, str) and n), None))
        published = _iso_time(item.get("date_published") or item.get("date_modified"))
        key = _key(item.get("id"), link, title, summary, published)
        found.append((index, Entry(key, title, link, author, published, summary)))
    return Feed(plain_text(doc.get("title")), _ordered(found))


def _iso_time(value: object) -> float | None:
    """JSON Feed dates are RFC 3339; some feeds write RFC 822 there."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _refuse_dtd(raw: bytes) -> None:
    try:
        checked_xml(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DTDForbidden, EntitiesForbidden):
        raise FeedError("Not read: the document declares a DTD or entities") from None
    except ParseError:
        pass  # not well-formed: feedparser's lenient parser may still read it


def parse_feed(raw: bytes, url: str, content_type: str | None = None) -> Feed:
    """The document's title and entries (oldest first); FeedError when it is not a feed."""
    if len(raw) > MAX_BYTES:
        raise FeedError(f"Not read: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if _is_json(raw, content_type):
        return parse_json_feed(raw)
    _refuse_dtd(raw)
    headers: Mapping[str, str] = {"content-location": url}
    if content_type:
        headers = {**headers, "content-type": content_type}
    doc = feedparser.parse(raw, response_headers=headers, sanitize_html=True)
    if not doc.get("version") and not doc.entries:
        why = doc.get("bozo_exception")
        raise FeedError(f"Not a feed: {plain_text(str(why)) if why else 'no RSS or Atom found'}")
    found: list[tuple[int, Entry]] = []
    for index, item in enumerate(doc.entries[:MAX_ENTRIES]):
        title = plain_text(item.get("title"))
        link = item.get("link") if isinstance(item.get("link"), str) else None
        summary = plain_text(item.get("summary"))
        # dict.get: feedparser's own get maps a missing `updated_parsed` to `published_parsed`
        # with a DeprecationWarning.
        stamp = dict.get(item, "published_parsed") or dict.get(item, "updated_parsed")
        published = float(calendar.timegm(stamp)) if stamp else None
        author = plain_text(item.get("author"))
        key = _key(item.get("id"), link, title, summary, published)
        found.append((index, Entry(key, title, link, author, published, summary)))
    return Feed(plain_text(doc.feed.get("title")), _ordered(found))
