"""Secrets kept out of the logs (pure): the values the bridge knows to be secret, and the
URL and header shapes that carry a secret whatever its value.

Services and the core call `register_secret(value)` where a secret enters the process
(config, a hook id loaded or minted, a token stored or read, a session issued); the log
formatter (ops/logs.py) passes every line through `redact()`.

Why not one regex alternation of every value: Python's `re` tries each alternative at each
position, which with 10k hook ids costs ~14 ms per log line. Most secrets are "words"
(letters, digits, `-`, `_`: uuids, hex, token_urlsafe, `ghp_…`, `glpat-…`), so one regex
finds the words of a line and a set lookup decides; the few other values (PEM lines, odd
passwords) go into a trie-shaped regex, rebuilt only when that small set changes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Final, TypeAlias

REDACTED: Final = "<redacted>"
# Shorter values would mangle ordinary words (a hook secret "test" would hit every "test").
MIN_SECRET_LENGTH: Final = 8
# Runtime secrets (hook ids, sessions, tokens) beyond this many forget the oldest first; the
# shape rules below still hide a forgotten hook id in a URL.
RUNTIME_LIMIT: Final = 50_000
# A word with more separators than this is not searched for secrets inside it (cost bound).
_MAX_PARTS: Final = 12

_Trie: TypeAlias = "dict[str, _Trie]"

_WORD: Final = re.compile(rf"[A-Za-z0-9_-]{{{MIN_SECRET_LENGTH},}}")
_WORD_CHARS: Final = re.compile(r"[A-Za-z0-9_-]+")

# Headers whose value is a credential: the generic hooks', GitLab's, the outbound hooks'
# token, the widget's and the homeserver's bearer tokens, GitLab's API token, cookies.
SECRET_HEADERS: Final = (
    "authorization",
    "proxy-authorization",
    "x-gitlab-token",
    "private-token",
    "x-matrix-hookshot-token",
    "cookie",
    "set-cookie",
)
# Query parameters that carry a credential (the homeserver's `access_token`, OAuth's code
# and state, GitLab's `private_token`).
SECRET_PARAMS: Final = (
    "access_token",
    "refresh_token",
    "private_token",
    "client_secret",
    "token",
    "secret",
    "password",
    "code",
    "state",
)
# Single-segment paths the bridge serves itself; any other `/<segment>` in a request line
# may be a legacy root hook URL (`/<hookId>`).
_OWN_ROOT_PATHS: Final = ("live", "ready", "metrics", "oauth", "favicon.ico")
_METHODS: Final = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"

_Rule = tuple[tuple[str, ...], re.Pattern[str], str]

# Each rule: lowercase needles, one of which the line must contain before its regex runs (a
# substring test is ~100x cheaper than a regex scan, and most lines match no rule), the
# pattern and its replacement.
_RULES: Final[tuple[_Rule, ...]] = (
    # `/webhook/<hookId>` and `/webhook/<hookId>/…`, under any prefix or host.
    (("/webhook/",), re.compile(r"(/webhook/)[^/\s?#\"'<>]+"), rf"\1{REDACTED}"),
    # A legacy root hook in a request line: `POST /<hookId> HTTP/1.1`, `GET /<hookId>?x=1`.
    (
        tuple(f"{method.lower()} /" for method in _METHODS.split("|")),
        re.compile(
            rf"\b({_METHODS}) /(?!(?:{'|'.join(map(re.escape, _OWN_ROOT_PATHS))})(?:[\s?#\"']|$))"
            r"[^/\s?#\"'<>]+(?=[\s?#\"']|$)"
        ),
        rf"\1 /{REDACTED}",
    ),
    (
        tuple(f"{param}=" for param in SECRET_PARAMS),
        re.compile(rf"([?&;](?:{'|'.join(SECRET_PARAMS)})=)[^&;\s#\"'<>]+", re.IGNORECASE),
        rf"\1{REDACTED}",
    ),
    # `Authorization: Bearer x`, `'authorization': 'token x'`, `x-gitlab-token=x`.
    (
        SECRET_HEADERS,
        re.compile(
            rf"\b({'|'.join(map(re.escape, SECRET_HEADERS))})([\"']?\s*[:=]\s*[\"']?)"
            r"((?:bearer|token|basic)\s+)?(?!\[secure\])[^\s\"',;}\]]+",
            re.IGNORECASE,
        ),
        rf"\1\2\3{REDACTED}",
    ),
    # A password in a URL's user info: `redis://:pw@host`, `https://user:pw@host`.
    (("@",), re.compile(r"(://[^/\s:@]*:)[^/\s@]+@"), rf"\1{REDACTED}@"),
    # A token command's text (`github setpersonaltoken <token>`), if it is logged before the
    # command could register the token.
    (
        ("personaltoken",),
        re.compile(r"\b((?:set)?personaltoken)\s+(?!<)[^'\"\n]+"),
        rf"\1 {REDACTED}",
    ),
)


def redact_shapes(text: str) -> str:
    """`text` with the URL paths, query parameters and headers that carry secrets hidden."""
    lowered = text.lower()
    for needles, pattern, replacement in _RULES:
        if any(needle in lowered for needle in needles):
            text = pattern.sub(replacement, text)
    return text


def is_word(value: str) -> bool:
    """Whether `value` is made of word characters only (and so found by a set lookup)."""
    return _WORD_CHARS.fullmatch(value) is not None


def trie_pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of `values`, longest first, shaped as a trie so each position
    of a line costs one branch per character rather than one try per value."""
    root: _Trie = {}
    for value in values:
        node = root
        for char in value:
            node = node.setdefault(char, {})
        node[""] = {}
    if not root:
        return None

    def emit(node: _Trie) -> str:
        # A run of single children is a plain string (recursion only where values branch).
        chain = []
        while "" not in node and len(node) == 1:
            char, node = next(iter(node.items()))
            chain.append(re.escape(char))
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return "".join(chain)
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # A value ends here and a longer one goes on: the optional (greedy) part keeps the longer.
        return "".join(chain) + (f"(?:{body})?" if "" in node else body)

    return re.compile(emit(root))


class _Values:
    """Pinned values (config: kept forever) and runtime ones (oldest dropped past a limit)."""

    def __init__(self, limit: int) -> None:
        self.pinned: set[str] = set()
        self.runtime: dict[str, None] = {}  # insertion-ordered: oldest first
        self._limit = limit

    def __contains__(self, value: str) -> bool:
        return value in self.runtime or value in self.pinned

    def add(self, value: str, *, pinned: bool) -> str | None:
        """Add `value`; returns the runtime value it pushed out, if any."""
        if pinned:
            self.pinned.add(value)
            self.runtime.pop(value, None)
            return None
        if value in self:
            return None
        self.runtime[value] = None
        if len(self.runtime) <= self._limit:
            return None
        oldest = next(iter(self.runtime))
        del self.runtime[oldest]
        return oldest

    def discard(self, value: str) -> None:
        """Forget a runtime `value` (pinned ones stay)."""
        self.runtime.pop(value, None)

    def __len__(self) -> int:
        return len(self.pinned) + len(self.runtime)


class SecretRegistry:
    """The secret values to hide. Adding is cheap (a set insert); thread-safe."""

    def __init__(self, *, runtime_limit: int = RUNTIME_LIMIT) -> None:
        self._lock = threading.Lock()
        self._values = _Values(runtime_limit)
        self._others: set[str] = set()  # the values that are not words, for the regex
        self._others_pattern: re.Pattern[str] | None = None
        self._others_stale = False

    def add(self, value: str | None, *, pinned: bool = False) -> None:
        """Hide `value` from now on (ignored when shorter than MIN_SECRET_LENGTH)."""
        value = value.strip() if value else ""
        if len(value) < MIN_SECRET_LENGTH or (not pinned and value in self._values):
            return  # the common case: a hook id seen again on every rebuild
        with self._lock:
            evicted = self._values.add(value, pinned=pinned)
            if not is_word(value) and value not in self._others:
                self._others.add(value)
                self._others_stale = True
            if evicted is not None:
                self._drop_other(evicted)

    def discard(self, value: str | None) -> None:
        """Stop hiding a runtime `value` (a removed hook, an ended session)."""
        if not value:
            return
        with self._lock:
            self._values.discard(value)
            if value not in self._values:
                self._drop_other(value)

    def _drop_other(self, value: str) -> None:
        if value in self._others:
            self._others.discard(value)
            self._others_stale = True

    def __contains__(self, value: str) -> bool:
        return value in self._values

    def __len__(self) -> int:
        return len(self._values)

    def redact(self, text: str) -> str:
        """`text` with every registered value replaced by REDACTED."""
        pattern = self._others_regex()
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        if len(self._values):
            text = _WORD.sub(self._word, text)
        return text

    def _others_regex(self) -> re.Pattern[str] | None:
        if self._others_stale:
            with self._lock:
                if self._others_stale:
                    self._others_pattern = trie_pattern(self._others)
                    self._others_stale = False
        return self._others_pattern

    def _word(self, found: re.Match[str]) -> str:
        word = found.group()
        if word in self._values:
            return REDACTED
        return self._inside(word)

    def _inside(self, word: str) -> str:
        """Secrets inside a longer word, between its `-`/`_` separators (`abc-<uuid>`)."""
        cuts = [i for i, char in enumerate(word) if char in "-_"]
        if not cuts or len(cuts) > _MAX_PARTS:
            return word
        starts = [0, *(i + 1 for i in cuts)]
        ends = [*cuts, len(word)]
        out: list[str] = []
        done = 0  # word[:done] is settled
        for start in starts:
            if start < done:
                continue
            hit = next(
                (
                    end
                    for end in reversed(ends)
                    if end - start >= MIN_SECRET_LENGTH and word[start:end] in self._values
                ),
                None,
            )
            if hit is not None:
                out += [word[done:start], REDACTED]
                done = hit
        if not out:
            return word
        return "".join(out) + word[done:]


_registry = SecretRegistry()


def register_secret(value: str | None, *, pinned: bool = False) -> None:
    """Hide `value` in every log line from now on. `pinned` (config secrets) is never
    forgotten; runtime values are, oldest first, past RUNTIME_LIMIT."""
    _registry.add(value, pinned=pinned)


def forget_secret(value: str | None) -> None:
    """Stop hiding a runtime value that no longer means anything (a removed hook)."""
    _registry.discard(value)


def redact(text: str) -> str:
    """`text` as it may be logged: shapes first (they keep the URL readable), then values."""
    return _registry.redact(redact_shapes(text))
