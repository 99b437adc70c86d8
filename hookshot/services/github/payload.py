"""Reading GitHub webhook payloads, and the extra content keys hookshot puts on its notices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from hookshot import wire

# Wire names (extra content keys hookshot puts on its GitHub notices).
EXTERNAL_URL: Final = wire.EXTERNAL_URL
GITHUB_REPO_KEY: Final = wire.GITHUB_REPO_KEY
GITHUB_ISSUE_KEY: Final = wire.GITHUB_ISSUE_KEY
GITHUB_PULL_REQUEST_KEY: Final = wire.GITHUB_PULL_REQUEST_KEY
GITHUB_PUSH_KEY: Final = wire.GITHUB_PUSH_KEY


class MalformedPayload(ValueError):
    """A payload lacks a field the notice needs (hookshot would throw and send nothing)."""


Content = dict[str, object]
Payload = Mapping[str, object]


def repo_partial(repo: Payload) -> Content:
    """hookshot's getPartialBodyForGithubRepo: `external_url` and the repo key."""
    url = string(repo, "html_url")
    return {
        EXTERNAL_URL: url,
        GITHUB_REPO_KEY: {"id": integer(repo, "id"), "name": string(repo, "full_name"), "url": url},
    }


def issue_partial(repo: Payload, issue: Payload) -> Content:
    """hookshot's getPartialBodyForGithubIssue (also used for pull requests)."""
    url = string(issue, "html_url")
    return {
        **repo_partial(repo),
        EXTERNAL_URL: url,
        GITHUB_ISSUE_KEY: {
            "id": integer(issue, "id"),
            "number": integer(issue, "number"),
            "title": string(issue, "title"),
            "url": url,
        },
    }


def pull_request_partial(repo: Payload, pr: Payload) -> Content:
    """hookshot's getPartialBodyForGitHubPR: the repo key and the pull request key."""
    url = string(pr, "html_url")
    return {
        **repo_partial(repo),
        EXTERNAL_URL: url,
        GITHUB_PULL_REQUEST_KEY: {
            "id": integer(pr, "id"),
            "number": integer(pr, "number"),
            "title": string(pr, "title"),
            "url": url,
        },
    }


def obj(data: Payload, key: str) -> Payload:
    """`data[key]`, which must be an object."""
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise MalformedPayload(f"'{key}' must be an object")
    return value


def items(data: Payload, key: str) -> list[object]:
    """`data[key]` when it is an array, else no items."""
    value = data.get(key)
    return list(value) if isinstance(value, list) else []


def string(data: Payload, key: str) -> str:
    """`data[key]`, which must be a string."""
    value = data.get(key)
    if not isinstance(value, str):
        raise MalformedPayload(f"'{key}' must be a string")
    return value


def optional_string(data: Payload, key: str) -> str | None:
    """`data[key]` when it is a string, else None."""
    value = data.get(key)
    return value if isinstance(value, str) else None


def integer(data: Payload, key: str) -> int:
    """`data[key]`, which must be an integer."""
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedPayload(f"'{key}' must be an integer")
    return value


def login(data: Payload, key: str) -> str:
    """The `login` of the user object `data[key]`."""
    return string(obj(data, key), "login")


def utf16_len(text: str) -> int:
    """Length as JavaScript counts it (UTF-16 code units)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_prefix(text: str, units: int) -> str:
    """JavaScript's `text.substring(0, units)`."""
    if utf16_len(text) <= units:
        return text
    head = text.encode("utf-16-le", "surrogatepass")[: 2 * units]
    # Ours: JavaScript may cut a surrogate pair in half; drop the orphan (not valid UTF-8).
    if 0xD800 <= int.from_bytes(head[-2:], "little") <= 0xDBFF:
        head = head[:-2]
    return head.decode("utf-16-le", "surrogatepass")
