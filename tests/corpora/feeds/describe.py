"""Record what feedparser makes of every document in this corpus.

Usage: python describe.py > expected.json   (needs `feedparser` importable)
Each file is parsed from bytes with no HTTP headers (as a bridge that fetches
the bytes itself would do); `link_with_base` re-parses with a Content-Location
header to show how relative links resolve when a base URL is supplied.
"""

import json
import pathlib
import sys
import time

import feedparser

HERE = pathlib.Path(__file__).parent
BASE = "https://feeds.example.com/dir/feed"


def when(st):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", st) if st else None


def describe(data):
    d = feedparser.parse(data)
    exc = d.get("bozo_exception")
    first = d.entries[0] if d.entries else {}
    based = feedparser.parse(data, response_headers={"content-location": BASE})
    return {
        "version": d.get("version", ""),
        "bozo": bool(d.bozo),
        "bozo_exception": f"{type(exc).__name__}: {exc}"[:200] if exc else None,
        "encoding": d.get("encoding"),
        "feed_title": d.feed.get("title"),
        "entries": len(d.entries),
        "first_entry": {
            "id": first.get("id"),
            "link": first.get("link"),
            "title": first.get("title"),
            "published_parsed": when(first.get("published_parsed")),
            "updated_parsed": when(first.get("updated_parsed")),
        }
        if d.entries
        else None,
        "link_with_base": (based.entries[0].get("link") if based.entries else None),
    }


if __name__ == "__main__":
    out = {
        "_feedparser_version": getattr(feedparser, "__version__", "unreleased"),
        "_base_used": BASE,
    }
    for path in sorted(HERE.iterdir()):
        if path.suffix in {".xml", ".rdf", ".json"} and not path.name.startswith("expected"):
            out[path.name] = describe(path.read_bytes())
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False, sort_keys=False)
    sys.stdout.write("\n")
