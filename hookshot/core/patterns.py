"""Regexes that room admins write into connection state (`pushTagsRegex`, `workflowRun.
matchingBranch`, ...), in hookshot's JavaScript syntax, matched in linear time with RE2.

Python's `re` backtracks: `^(a+)+$` against 40 characters would run for hours and hold up
every room. RE2 never backtracks, so no pattern can do that; what it cannot run (lookaround,
backreferences) is refused when the state is written, with the reason. Patterns and the
values they are matched against are capped in length.

JavaScript to RE2: `(?<name>` becomes `(?P<name>`, `\\uXXXX` becomes `\\x{XXXX}`; `\\d`, `\\w`,
`\\s`, `\\b` are ASCII in both (JavaScript without the `u` flag), and `$` matches only at the
end of the text in both (Python's `re` also before a final newline).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final, Protocol

import re2  # type: ignore[import-untyped]

MAX_PATTERN: Final = 1024  # characters of a pattern
MAX_SUBJECT: Final = 1024  # longer values never match (refs and names are far shorter)

_NAMED_GROUP: Final = re.compile(r"\(\?<(?=[A-Za-z_$])")
_UNICODE_ESCAPE: Final = re.compile(r"(?<!\\)((?:\\\\)*)\\u([0-9A-Fa-f]{4})")
_BACKREF: Final = re.compile(r"(?<!\\)(?:\\\\)*\\(?:[1-9]|k<)")


class PatternError(ValueError):
    """A pattern we will not run; the message says why, for the room."""


class Compiled(Protocol):
    def search(self, text: str) -> object | None: ...


def _options() -> object:
    options = re2.Options()
    options.log_errors = False  # its errors reach the room as a PatternError instead
    options.max_mem = 8 << 20
    return options


_OPTIONS: Final = _options()


@lru_cache(maxsize=512)
def compile_js(source: str) -> Compiled:
    """The RE2 form of a JavaScript regex source; PatternError when it cannot be run."""
    if len(source) > MAX_PATTERN:
        raise PatternError(f"is longer than {MAX_PATTERN} characters")
    if _BACKREF.search(source):
        raise PatternError("uses a backreference, which this bridge does not run")
    translated = _UNICODE_ESCAPE.sub(r"\1\\x{\2}", _NAMED_GROUP.sub("(?P<", source))
    try:
        compiled: Compiled = re2.compile(translated, _OPTIONS)
    except re2.error as err:
        reason = err.args[0].decode() if err.args and isinstance(err.args[0], bytes) else err
        raise PatternError(f"cannot be run in linear time ({reason})") from None
    return compiled


def check(source: str, key: str) -> None:
    """Raise PatternError naming `key` (e.g. 'pushTagsRegex') when `source` cannot be run."""
    try:
        compile_js(source)
    except PatternError as err:
        raise PatternError(f"'{key}' {err}") from None


def js_search(source: str, value: str) -> bool:
    """JavaScript's `value.match(source)` as a test; a pattern that cannot run, or a value
    over MAX_SUBJECT, matches nothing."""
    if len(value) > MAX_SUBJECT:
        return False
    try:
        return compile_js(source).search(value) is not None
    except PatternError:
        return False
