"""Declarative templates: a hook's message written as text with JSONPath placeholders.

    {"plain": "**{{ $.commonLabels.alertname }}** is {{ $.status | upper }}",
     "html": "<b>{{ $.commonLabels.alertname }}</b> is {{ $.status }}",
     "msgtype": "m.text",
     "empty_if": "$.status == 'resolved'"}

A placeholder is `{{ expression | filter | filter(arg, …) }}`; the expression is a JSONPath
(jsonpath-ng's extended dialect, rooted at `$`) or a literal. Syntax: `docs/templates.md`.
Templates are parsed once (`compile_template`), so a bad placeholder is reported when the
hook is configured, naming the field and the placeholder; rendering never raises.
"""

from __future__ import annotations

import html
import math
import re
import secrets
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.ext import filter as jsonpath_filter
from jsonpath_ng.ext.parser import parse as parse_jsonpath
from jsonpath_ng.jsonpath import Child, Fields, Index, Root, This

from hookshot.core.markdown import render_markdown
from hookshot.core.patterns import PatternError, check, js_search
from hookshot.core.threads import MAX_KEY_LENGTH
from hookshot.services.generic.format import js_number, js_stringify
from hookshot.services.generic.transform.result import TransformError, TransformResult

TEMPLATE_KEYS: Final = ("plain", "html", "msgtype", "empty_if", "threadKey")
# A filter's `=~ '<regex>'` (or "<regex>"): refused when written if RE2 cannot run it.
_FILTER_REGEX: Final = re.compile(r"""=~\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")""")

# jsonpath-ng matches `=~` with Python's backtracking `re`; a room's template must not be
# able to stall the bridge, so the operator runs on RE2 (core.patterns) instead. The map is
# read at each match, so replacing its entry is enough.
jsonpath_filter.OPERATOR_MAP["=~"] = lambda value, pattern: (
    isinstance(value, str) and (isinstance(pattern, str) and js_search(pattern, value))
)
ELLIPSIS: Final = "…"
# A longest rendered value; keeps one huge field from making an oversized event.
MAX_VALUE_CHARS: Final = 16_384


class _Missing:
    """No match: renders as "", counts as false, and is what `default` replaces."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_FILTER = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*", re.DOTALL)


class TemplateError(TransformError):
    """A template cannot be used; `field` is its key, `placeholder` the bad `{{ … }}` (or
    condition) as written."""

    def __init__(self, field: str, placeholder: str | None, reason: str) -> None:
        where = f"template.{field}"
        if placeholder is not None:
            where += f": {placeholder}"
        super().__init__(f"{where}: {reason}")
        self.field = field
        self.placeholder = placeholder
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Filter:
    name: str
    args: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class _Expression:
    """A literal, or a JSONPath whose matches are one value (`singular`) or a list."""

    path: JSONPath | None
    literal: object
    singular: bool
    filters: tuple[_Filter, ...]
    raw: bool

    def evaluate(self, data: object) -> object:
        value: object = self.literal
        if self.path is not None:
            matches = [match.value for match in self.path.find(data)]
            value = (matches[0] if matches else MISSING) if self.singular else matches
        for item in self.filters:
            value = _FILTERS[item.name].apply(value, item.args)
        return value


@dataclass(frozen=True, slots=True)
class _Condition:
    expression: _Expression
    operator: str | None  # "==", "!=" or None for a truthiness test
    operand: object

    def holds(self, data: object) -> bool:
        value = self.expression.evaluate(data)
        if self.operator is None:
            return _truthy(value)
        equal = _equal(value, self.operand)
        return equal if self.operator == "==" else not equal


@dataclass(frozen=True, slots=True)
class _Text:
    """Literal text and placeholders, alternating: parts[0], expr 0, parts[1], …"""

    parts: tuple[str, ...]
    expressions: tuple[_Expression, ...]

    def render(self, data: object, escape: bool) -> str:
        out = [self.parts[0]]
        for expression, part in zip(self.expressions, self.parts[1:], strict=True):
            text = _text(expression.evaluate(data))
            out.append(html.escape(text) if escape and not expression.raw else text)
            out.append(part)
        return "".join(out)


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled template; `render` turns a webhook body into a message."""

    plain: _Text
    html: _Text | None
    msgtype: _Text | None
    empty_if: tuple[_Condition, ...]
    thread_key: _Text | None
    # Alphanumeric so markdown leaves it alone in text, link targets and code alike.
    marker: str

    def render(self, data: object) -> TransformResult:
        """The message for `data`, or an empty result when an `empty_if` condition holds."""
        if any(condition.holds(data) for condition in self.empty_if):
            return TransformResult()
        plain = self.plain.render(data, escape=False)
        if self.html is not None:
            html_text = self.html.render(data, escape=True)
        else:
            html_text = self._markdown(data)
        msgtype = self.msgtype.render(data, escape=False).strip() if self.msgtype else ""
        key = self.thread_key.render(data, escape=False).strip() if self.thread_key else ""
        return TransformResult(
            plain=plain,
            html=html_text or None,
            msgtype=msgtype or None,
            thread_key=key[:MAX_KEY_LENGTH] or None,
        )

    def _markdown(self, data: object) -> str:
        # Markdown comes from the template only: values are substituted after rendering,
        # escaped, so a `*` or `<` in the payload is shown, never interpreted.
        marked = self.plain.parts[0] + "".join(
            f"{self.marker}{index}x{part}" for index, part in enumerate(self.plain.parts[1:])
        )
        values: list[str] = []
        for expression in self.plain.expressions:
            text = _text(expression.evaluate(data))
            values.append(text if expression.raw else html.escape(text))
        return re.sub(
            rf"{self.marker}(\d+)x",
            lambda match: values[int(match.group(1))],
            render_markdown(marked),
        )


def compile_template(spec: Mapping[str, object]) -> Template:
    """Parse and check a hook's `template` object; raises `TemplateError` naming the field
    and placeholder at fault."""
    if not isinstance(spec, Mapping):
        raise TemplateError("plain", None, "a template must be an object")
    for key in spec:
        if key not in TEMPLATE_KEYS:
            raise TemplateError(str(key), None, f"unknown key (use {', '.join(TEMPLATE_KEYS)})")
    plain = spec.get("plain")
    if not isinstance(plain, str) or not plain.strip():
        raise TemplateError("plain", None, "must be a non-empty string")
    html_spec = spec.get("html")
    if html_spec is not None and not isinstance(html_spec, str):
        raise TemplateError("html", None, "must be a string")
    msgtype = spec.get("msgtype")
    if msgtype is not None and not isinstance(msgtype, str):
        raise TemplateError("msgtype", None, "must be a string")
    thread_key = spec.get("threadKey")
    if thread_key is not None and not isinstance(thread_key, str):
        raise TemplateError("threadKey", None, "must be a string")
    conditions = spec.get("empty_if")
    texts: list[tuple[str, object]] = [
        ("plain", plain),
        ("html", html_spec),
        ("msgtype", msgtype),
        ("threadKey", thread_key),
    ]
    for condition in conditions if isinstance(conditions, list) else [conditions]:
        texts.append(("empty_if", condition))
    for name, text in texts:
        for found in _FILTER_REGEX.finditer(text if isinstance(text, str) else ""):
            pattern = found.group(1) if found.group(1) is not None else found.group(2)
            try:
                check(pattern, "=~")
            except PatternError as err:
                raise TemplateError(name, None, f"the regex {err}") from None
    return Template(
        plain=_compile_text("plain", plain),
        html=_compile_text("html", html_spec) if html_spec else None,
        msgtype=_compile_text("msgtype", msgtype) if msgtype else None,
        empty_if=_compile_conditions(spec.get("empty_if")),
        thread_key=_compile_text("threadKey", thread_key) if thread_key else None,
        marker=f"hstv{secrets.token_hex(4)}v",
    )


def _compile_text(field: str, text: str) -> _Text:
    parts: list[str] = []
    expressions: list[_Expression] = []
    position = 0
    while True:
        start = text.find("{{", position)
        if start < 0:
            parts.append(text[position:])
            break
        end = _placeholder_end(text, start + 2)
        if end < 0:
            raise TemplateError(field, text[start : start + 40], "missing closing }}")
        parts.append(text[position:start])
        expressions.append(_compile_expression(field, text[start + 2 : end]))
        position = end + 2
    return _Text(tuple(parts), tuple(expressions))


def _placeholder_end(text: str, position: int) -> int:
    # The first "}}" outside quotes: a string argument may itself contain "}}".
    quote = ""
    index = position
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif text.startswith("}}", index):
            return index
        index += 1
    return -1


def _compile_conditions(spec: object) -> tuple[_Condition, ...]:
    if spec is None:
        return ()
    items = [spec] if isinstance(spec, str) else spec
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise TemplateError("empty_if", None, "must be a condition or a list of conditions")
    return tuple(_compile_condition(item) for item in items if isinstance(item, str))


def _compile_condition(source: str) -> _Condition:
    shown = repr(source)
    pieces = _split_top_level(source, ("==", "!="))
    if len(pieces) == 1:
        return _Condition(_compile_expression("empty_if", source, shown), None, None)
    if len(pieces) != 3:
        raise TemplateError("empty_if", shown, "use one == or != per condition")
    left, operator, right = pieces
    operand = _literal(right.strip())
    if operand is MISSING:
        raise TemplateError("empty_if", shown, f"{right.strip()!r} is not a literal")
    return _Condition(_compile_expression("empty_if", left, shown), operator, operand)


def _compile_expression(field: str, source: str, shown: str | None = None) -> _Expression:
    """Parse `expression | filter …`; errors show it as `shown` (default `{{source}}`)."""
    shown_as = shown if shown is not None else f"{{{{{source}}}}}"
    segments = _split_top_level(source, ("|",))[::2]
    head = segments[0].strip()
    if not head:
        raise TemplateError(field, shown_as, "empty placeholder")
    filters: list[_Filter] = []
    for segment in segments[1:]:
        filters.append(_compile_filter(field, shown_as, segment))
    raw = any(item.name == "raw" for item in filters)
    literal = _literal(head)
    if literal is not MISSING:
        return _Expression(None, literal, True, tuple(filters), raw)
    if not head.startswith("$"):
        raise TemplateError(field, shown_as, "use a JSONPath starting with $, or a literal")
    # jsonpath-ng warns about syntax it will drop in 2.0; refuse it now, at configuration.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        try:
            path = parse_jsonpath(head)
        except (JSONPathError, ValueError, TypeError, AttributeError) as exc:
            raise TemplateError(field, shown_as, f"invalid JSONPath {head!r}: {exc}") from exc
    for warning in caught:
        if issubclass(warning.category, DeprecationWarning):
            raise TemplateError(field, shown_as, str(warning.message))
    return _Expression(path, None, _singular(path), tuple(filters), raw)


def _compile_filter(field: str, shown: str, segment: str) -> _Filter:
    match = _FILTER.fullmatch(segment)
    if match is None:
        raise TemplateError(field, shown, f"{segment.strip()!r} is not a filter")
    name, arg_text = match.group(1), match.group(2)
    spec = _FILTERS.get(name)
    if spec is None:
        raise TemplateError(
            field, shown, f"unknown filter {name!r} (known: {', '.join(sorted(_FILTERS))})"
        )
    args: list[object] = []
    if arg_text is not None and arg_text.strip():
        for piece in _split_top_level(arg_text, (",",))[::2]:
            value = _literal(piece.strip())
            if value is MISSING:
                raise TemplateError(
                    field, shown, f"{name}: argument {piece.strip()!r} is not a literal"
                )
            args.append(value)
    problem = spec.check(args)
    if problem:
        raise TemplateError(field, shown, f"{name}: {problem}")
    return _Filter(name, tuple(args))


def _split_top_level(text: str, separators: Sequence[str]) -> list[str]:
    """`text` split at separators outside quotes and brackets: [piece, sep, piece, …]."""
    pieces: list[str] = []
    depth = 0
    quote = ""
    start = index = 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0:
            separator = next((s for s in separators if text.startswith(s, index)), None)
            if separator is not None:
                pieces += [text[start:index], separator]
                index += len(separator)
                start = index
                continue
        index += 1
    pieces.append(text[start:])
    return pieces


def _literal(text: str) -> object:
    """A quoted string, number, true, false or null; `MISSING` when `text` is none."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        body = text[1:-1]
        out: list[str] = []
        index = 0
        while index < len(body):
            char = body[index]
            if char == text[0]:
                return MISSING  # an unescaped quote: two literals, or garbage
            if char == "\\" and index + 1 < len(body):
                index += 1
                char = {"n": "\n", "t": "\t"}.get(body[index], body[index])
            out.append(char)
            index += 1
        return "".join(out)
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if _NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return MISSING


def _singular(path: JSONPath) -> bool:
    # Names and single indexes pick at most one value; wildcards, slices, filters,
    # descendants and lists of names pick many (so the value is a list).
    if isinstance(path, Root | This):
        return True
    if isinstance(path, Child):
        return _singular(path.left) and _singular(path.right)
    if isinstance(path, Fields):
        return len(path.fields) == 1 and path.fields[0] != "*"
    if isinstance(path, Index):
        return len(path.indices) == 1
    # `len`, `str()` and `sorted` compute one value from what they are given.
    return type(path).__name__ in ("Len", "Str", "Sorted")


def _text(value: object) -> str:
    """How a value reads in a message: JSON-ish, like JavaScript's template literals."""
    if value is MISSING or value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = js_number(value) if math.isfinite(value) else "null"
    elif isinstance(value, list | tuple):
        text = ", ".join(_text(item) for item in value)
    else:
        text = js_stringify(value)
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS] + ELLIPSIS
    return text


def _truthy(value: object) -> bool:
    if value is MISSING or value is None or value is False:
        return False
    if isinstance(value, int | float | str | list | tuple | dict):
        return bool(value)
    return True


def _equal(value: object, operand: object) -> bool:
    if value is MISSING:
        return operand is None
    if isinstance(value, bool) or isinstance(operand, bool):
        return value is operand
    return value == operand


def _blank(value: object) -> bool:
    return value is MISSING or value is None or value == "" or value == [] or value == {}


def _as_list(value: object) -> list[object]:
    if value is MISSING:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


_KIND_NAMES: Final = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


def _needs(count: int, kinds: tuple[type, ...]) -> Callable[[list[object]], str | None]:
    def check(args: list[object]) -> str | None:
        if len(args) > count:
            return f"takes at most {count} argument{'s' if count != 1 else ''}"
        for arg in args:
            if not isinstance(arg, kinds) or (isinstance(arg, bool) and bool not in kinds):
                names = " or ".join(_KIND_NAMES[kind] for kind in kinds)
                return f"argument {arg!r} must be {names}"
        return None

    return check


def _exactly(count: int, kinds: tuple[type, ...]) -> Callable[[list[object]], str | None]:
    loose = _needs(count, kinds)

    def check(args: list[object]) -> str | None:
        if len(args) != count:
            return f"takes {count} argument{'s' if count != 1 else ''}"
        return loose(args)

    return check


def _truncate(value: object, args: tuple[object, ...]) -> object:
    text = _text(value)
    limit = args[0] if isinstance(args[0], int) else len(text)
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + ELLIPSIS


@dataclass(frozen=True, slots=True)
class _FilterSpec:
    apply: Callable[[object, tuple[object, ...]], object]
    check: Callable[[list[object]], str | None]


def _default(value: object, args: tuple[object, ...]) -> object:
    return (args[0] if args else "") if _blank(value) else value


def _join(value: object, args: tuple[object, ...]) -> object:
    separator = str(args[0]) if args else ", "
    return separator.join(_text(item) for item in _as_list(value))


def _first(value: object, args: tuple[object, ...]) -> object:
    items = _as_list(value)
    return items[0] if items else MISSING


def _last(value: object, args: tuple[object, ...]) -> object:
    items = _as_list(value)
    return items[-1] if items else MISSING


def _count(value: object, args: tuple[object, ...]) -> object:
    if isinstance(value, dict):
        return len(value)
    return len(_as_list(value))


def _replace(value: object, args: tuple[object, ...]) -> object:
    return _text(value).replace(str(args[0]), str(args[1]))


_NO_ARGS = _exactly(0, (str,))
_FILTERS: Final[dict[str, _FilterSpec]] = {
    "default": _FilterSpec(_default, _needs(1, (str, int, float, bool))),
    "join": _FilterSpec(_join, _needs(1, (str,))),
    "first": _FilterSpec(_first, _NO_ARGS),
    "last": _FilterSpec(_last, _NO_ARGS),
    "count": _FilterSpec(_count, _NO_ARGS),
    "upper": _FilterSpec(lambda value, args: _text(value).upper(), _NO_ARGS),
    "lower": _FilterSpec(lambda value, args: _text(value).lower(), _NO_ARGS),
    "capitalize": _FilterSpec(
        lambda value, args: (lambda t: t[:1].upper() + t[1:])(_text(value)), _NO_ARGS
    ),
    "truncate": _FilterSpec(_truncate, _exactly(1, (int,))),
    "replace": _FilterSpec(_replace, _exactly(2, (str,))),
    "json": _FilterSpec(
        lambda value, args: "" if value is MISSING else js_stringify(value), _NO_ARGS
    ),
    # Marks the value as trusted HTML; the work is done when the text is escaped.
    "raw": _FilterSpec(lambda value, args: value, _NO_ARGS),
}
