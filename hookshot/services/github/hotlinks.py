"""Issue hotlinks: `#123` in a message to a room connected to a GitHub repository gets a reply
naming the issue or pull request. Mentions inside code are not links."""

from __future__ import annotations

import re
from typing import Literal

_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def issue_mentions(body: str, prefix: str, limit: int = 5) -> list[int]:
    """Issue numbers mentioned as `<prefix><n>` outside code spans, in order, without repeats."""
    text = _CODE.sub(" ", body)
    pattern = re.compile(r"(?<![\w/#])" + re.escape(prefix) + r"(\d{1,9})\b")
    found: list[int] = []
    for match in pattern.finditer(text):
        number = int(match.group(1))
        if number not in found:
            found.append(number)
        if len(found) == limit:
            break
    return found


def hotlink_text(number: int, title: str, state: str, url: str, *, is_pr: bool) -> str:
    kind = "Pull Request" if is_pr else "Issue"
    return f"{kind} [#{number}]({url}): {title} ({state})"


_VERDICTS = {"✅": "APPROVE", "🔴": "REQUEST_CHANGES"}


def strip_reply_fallback(body: str) -> str:
    """A reply's own text: clients quote the replied-to message in `> ` lines first."""
    lines = body.splitlines()
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()


def review_verdict(text: str) -> tuple[Literal["APPROVE", "REQUEST_CHANGES"], str] | None:
    """(review event, review text) for a reply starting with ✅ or 🔴, else None."""
    for emoji, event in _VERDICTS.items():
        if text.startswith(emoji):
            verdict: Literal["APPROVE", "REQUEST_CHANGES"] = (
                "APPROVE" if event == "APPROVE" else "REQUEST_CHANGES"
            )
            return verdict, text[len(emoji) :].strip()
    return None


# Matrix reaction keys -> GitHub reaction contents (what GitHub offers).
GITHUB_REACTIONS = {
    "👍": "+1",
    "👎": "-1",
    "😄": "laugh",
    "🎉": "hooray",
    "😕": "confused",
    "❤️": "heart",
    "❤": "heart",
    "🚀": "rocket",
    "👀": "eyes",
}
