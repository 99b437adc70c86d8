"""Feed documents (tests/corpora/feeds) into entries, and hostile documents refused."""

from __future__ import annotations

import json

import pytest
from support.paths import CORPORA

from hookshot.services.feeds.parse import MAX_BYTES, FeedError, parse_feed, plain_text

CORPUS = CORPORA / "feeds"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
HOSTILE = {
    "rss20-billion-laughs.xml",
    "rss20-quadratic-blowup.xml",
    "atom10-xxe-file.xml",
    "rss20-xxe-parameter-entity.xml",
    "rss20-internal-entity-doctype.xml",
}
XML = sorted(name for name in EXPECTED if not name.startswith("_") and not name.endswith(".json"))
BASE = "https://feeds.example.com/dir/feed"


@pytest.mark.parametrize("name", [n for n in XML if n not in HOSTILE])
def test_every_feed_document_is_read(name: str) -> None:
    feed = parse_feed((CORPUS / name).read_bytes(), BASE)
    assert len(feed.entries) == min(EXPECTED[name]["entries"], 500), name
    # Every entry has its own key; entries alike in everything (one sample has two) share one.
    keys = {e.key for e in feed.entries}
    assert len(keys) == len({(e.title, e.link, e.summary, e.published) for e in feed.entries})
    for entry in feed.entries:
        for text in (entry.title, entry.summary, entry.author):
            assert text is None or ("<" not in text or "&lt;" in text or "<b>" not in text)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_documents_with_a_dtd_are_refused(name: str) -> None:
    with pytest.raises(FeedError, match="declares a DTD or entities"):
        parse_feed((CORPUS / name).read_bytes(), BASE)


def test_entries_come_oldest_first() -> None:
    feed = parse_feed((CORPUS / "rss092-many-entries-latin1.xml").read_bytes(), BASE)
    stamps = [e.published for e in feed.entries]
    assert all(s is not None for s in stamps) and stamps == sorted(stamps)  # type: ignore[type-var]
    # Undated entries: the document lists the newest first, so it is read backwards.
    undated = parse_feed((CORPUS / "rss090-many-entries-60.rdf").read_bytes(), BASE)
    assert (
        undated.entries[-1].title == EXPECTED["rss090-many-entries-60.rdf"]["first_entry"]["title"]
    )


def test_keys_without_a_guid() -> None:
    feed = parse_feed((CORPUS / "rss20-no-guid-pst-dates.xml").read_bytes(), BASE)
    assert all(e.key == e.link for e in feed.entries if e.link)
    bare = parse_feed((CORPUS / "rss092-userland-sample-no-links.xml").read_bytes(), BASE)
    assert bare.entries and all(e.key.startswith("sha256:") for e in bare.entries)


def test_relative_links_resolve_against_the_feed_url() -> None:
    feed = parse_feed((CORPUS / "atom10-relative-links-no-base.xml").read_bytes(), BASE)
    assert feed.entries[0].link == EXPECTED["atom10-relative-links-no-base.xml"]["link_with_base"]
    assert str(feed.entries[0].link).startswith("https://feeds.example.com/")


def test_html_titles_become_text() -> None:
    feed = parse_feed((CORPUS / "atom10-html-title-escaped.xml").read_bytes(), BASE)
    assert feed.entries[0].title == "Example Atom"


@pytest.mark.parametrize(
    "name",
    [
        "jsonfeed10-jsonfeed-org.json",
        "jsonfeed10-feedparser-example.json",
        "jsonfeed11-rfc822-dates-no-ids.json",
    ],
)
def test_json_feeds_are_read(name: str) -> None:
    raw = (CORPUS / name).read_bytes()
    doc = json.loads(raw)
    feed = parse_feed(raw, BASE, "application/feed+json")
    assert len(feed.entries) == len(doc["items"])
    assert feed.title == plain_text(doc.get("title"))
    assert all(e.key for e in feed.entries)


def test_what_is_not_a_feed() -> None:
    with pytest.raises(FeedError, match="Not a feed"):
        parse_feed(b"<html><body>hello</body></html>", BASE, "text/html")
    with pytest.raises(FeedError, match="Not a feed: invalid JSON"):
        parse_feed(b"{nope", BASE, "application/json")
    with pytest.raises(FeedError, match="without a JSON Feed version"):
        parse_feed(b'{"items": []}', BASE)
    with pytest.raises(FeedError, match="larger than 5 MiB"):
        parse_feed(b" " * (MAX_BYTES + 1), BASE)


@pytest.mark.parametrize("odd", [None, 5, "x", [], {}, [1, "a"], {"a": 1}])
def test_odd_json_feed_fields_never_raise(odd: object) -> None:
    # Feeds in the wild type fields as they like: an entry may say less, never fail the feed.
    doc = json.loads((CORPUS / "jsonfeed11-rfc822-dates-no-ids.json").read_bytes())
    for item in doc["items"]:
        for key in ("id", "url", "title", "summary", "authors", "author", "date_published"):
            item[key] = odd
    doc["title"] = odd
    feed = parse_feed(json.dumps(doc).encode(), BASE, "application/feed+json")
    assert len(feed.entries) == len(doc["items"])
