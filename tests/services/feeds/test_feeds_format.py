"""Feed entries as notices: hookshot's templates, and feed text that cannot add markup."""

from __future__ import annotations

from hookshot.services.feeds.format import message
from hookshot.services.feeds.parse import Entry
from hookshot.services.feeds.state import FeedState, parse_state

ENTRY = Entry(
    "id-1",
    "A *bold* [claim](https://evil.example)",
    "https://blog.example/post",
    "Ann",
    0.0,
    "<p>Hi</p> there",
)


def test_default_templates() -> None:
    state = FeedState(url="https://blog.example/feed")
    content = message(state, "Blog", ENTRY)
    assert content["body"] == (
        "New post in Blog: [A \\*bold\\* \\[claim\\](https://evil.example)](https://blog.example/post)"
    )
    html = content["formatted_body"]
    assert 'href="https://blog.example/post"' in html and 'evil.example"' not in html
    assert "<em>" not in html and "<strong>" not in html
    assert content["external_url"] == "https://blog.example/post"
    item = content["uk.half-shot.matrix-hookshot.feeds.item"]
    assert item["feed"] == {"title": "Blog", "url": "https://blog.example/feed"}
    assert item["pubdate"] == "Thu, 01 Jan 1970 00:00:00 +0000"
    no_link = Entry("k", "Title", None, None, None, None)
    assert message(state, None, no_link)["body"] == "New post in https://blog.example/feed: Title"
    bare = Entry("k", None, None, None, None, None)
    assert (
        message(FeedState(url="https://x.example/f", label="X"), None, bare)["body"]
        == "New post in X"
    )


def test_custom_template_tokens() -> None:
    state = parse_state(
        {
            "url": "https://blog.example/feed",
            "label": "L",
            "template": "$FEEDNAME|$TITLE|$URL|$AUTHOR|$SUMMARY|$UNKNOWN",
        }
    )
    body = message(state, "Blog", ENTRY)["body"]
    assert body.split("|") == [
        "L",
        "A \\*bold\\* \\[claim\\](https://evil.example)",
        "https://blog.example/post",
        "Ann",
        "\\<p\\>Hi\\</p\\> there",
        "$UNKNOWN",
    ]


def test_only_web_links_are_used() -> None:
    script = Entry("k", "x", "javascript:alert(1)", None, None, None)
    content = message(FeedState(url="https://f.example/f"), "F", script)
    assert "javascript" not in content["formatted_body"] and "external_url" not in content
