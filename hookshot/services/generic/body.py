"""Parse inbound (generic) webhook bodies into the value hookshot hands to a connection.

hookshot (`src/generic/Router.ts`) runs these express parsers in order, the first whose type
matches wins: XML (`*/xml`, `+xml`, via xml2js), `application/x-www-form-urlencoded`
(`extended: false`), `application/json`, `text/*`. A request matching none reaches the hook
as `{}`. We return the same values, but refuse what hookshot mangles or answers with 500.

Shapes produced:

- JSON: the object or array as parsed (top-level scalars are refused, as body-parser's
  `strict` mode does). Numbers stay `int`/`float`; the formatter applies JS semantics.
- Form: `{key: value}`, a repeated key gives a list of its values (Node's `querystring`).
- Text: the decoded string.
- XML: xml2js defaults: `{root: element}`; an element is its text when it has no attributes
  or children, else a dict with `"_"` (text, only when not blank), `"$"` (attributes) and one
  list per child element name; an empty element is `""`. An empty XML body is `None`.
- Empty body: `{}` (JSON, form, no or unknown Content-Type), `""` (text), `None` (XML).
"""

from __future__ import annotations

import codecs
import json
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Final, Literal
from urllib.parse import unquote_plus
from xml.parsers import expat

from hookshot.errors import WebhookError

# body-parser's urlencoded `parameterLimit`; it answers 413 past it.
MAX_FORM_PARAMETERS: Final = 1000
# qs (express 4 query parser) defaults: parameterLimit, depth and arrayLimit.
QUERY_PARAMETER_LIMIT: Final = 1000
QUERY_DEPTH: Final = 5
QUERY_ARRAY_LIMIT: Final = 20

_Kind = Literal["json", "form", "text", "xml"]
# JSON escapes that decode to UTF-16 surrogates; only then can a string hold a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Valid JSON grammar, but no UTF-8 (so no homeserver) can carry it.
_LONE_SURROGATE: Final = "JSON contains an unpaired UTF-16 surrogate"
_MEDIA_TYPE = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+/[a-z0-9!#$%&'*+.^_`|~-]+")
# JavaScript's `\s` (xml2js drops blank text with /^\s*$/).
_JS_SPACE = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def parse_body(content_type: str | None, raw: bytes, *, max_depth: int = 64) -> object:
    """Parse a request body by its Content-Type; raise `WebhookError` (400/413/415) if refused."""
    if not content_type or not content_type.strip():
        if raw:
            raise WebhookError(415, "Missing Content-Type header")
        # hookshot hands `{}` to the hook when no parser ran; keep that for empty pings.
        return {}
    media_type, charset = _split_content_type(content_type)
    kind = _kind(media_type)
    if kind is None:
        if raw:
            raise WebhookError(415, f"Unsupported Content-Type: {media_type}")
        return {}
    if kind == "json":
        if charset is not None and not charset.startswith("utf-"):
            raise WebhookError(415, f"Unsupported charset for JSON: {charset}")
        return _parse_json(_decode(raw, charset), max_depth)
    if kind == "form":
        if charset not in (None, "utf-8"):
            raise WebhookError(415, f"Unsupported charset for form data: {charset}")
        return _parse_form(_decode(raw, charset))
    if kind == "xml":
        return _parse_xml(_decode(raw, charset), max_depth)
    return _decode(raw, charset)


def query_to_body(query: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, object]:
    """Turn decoded query parameters into the body of a GET hook, as express 4's `qs` does.

    Repeated keys give lists, `a[b]=1` nests (5 levels), `a[]=1` and `a[0]=1` give lists
    (indices up to 20), parameters past the 1000th are ignored and `__proto__` is dropped.
    """
    pairs = list(query.items()) if isinstance(query, Mapping) else list(query)
    grouped: dict[str, object] = {}
    for key, value in pairs[:QUERY_PARAMETER_LIMIT]:
        if key in grouped:
            grouped[key] = _concat(grouped[key], value)
        else:
            grouped[key] = value
    result: object = {}
    for key in _js_key_order(grouped):
        result = _qs_merge(result, _qs_parse_key(key, grouped[key]))
    compacted = _qs_compact(result)
    assert isinstance(compacted, dict)
    return compacted


def _split_content_type(content_type: str) -> tuple[str, str | None]:
    main, *params = content_type.split(";")
    media_type = main.strip().lower()
    charset: str | None = None
    for param in params:
        name, sep, value = param.partition("=")
        if sep and name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower() or None
    return media_type, charset


def _kind(media_type: str) -> _Kind | None:
    if not _MEDIA_TYPE.fullmatch(media_type):
        return None
    top, _, sub = media_type.partition("/")
    # Same precedence as hookshot's middleware chain: XML is tried before text/*.
    if sub == "xml" or sub.endswith("+xml"):
        return "xml"
    if media_type == "application/x-www-form-urlencoded":
        return "form"
    # hookshot only parses application/json (`+json` reaches the hook as `{}`); we parse both.
    if media_type == "application/json" or sub.endswith("+json"):
        return "json"
    if top == "text":
        return "text"
    return None


def _decode(raw: bytes, charset: str | None) -> str:
    encoding = charset or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise WebhookError(415, f"Unsupported charset: {encoding}") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        # body-parser would substitute U+FFFD silently; we would rather not alter the data.
        raise WebhookError(400, f"Body is not valid {encoding.upper()}") from None
    # body-parser (iconv-lite) strips a byte order mark.
    return text.removeprefix("\ufeff")


def _parse_json(text: str, max_depth: int) -> object:
    if text == "":
        # body-parser's json parser answers an empty body with `{}`.
        return {}
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise WebhookError(400, _json_too_deep(max_depth)) from None
    except _JsonConstant as err:
        raise WebhookError(400, f"Invalid JSON: {err} is not valid JSON") from None
    except json.JSONDecodeError:
        # No position: Python's wording is not JSON.parse's, and the exact text is a contract.
        raise WebhookError(400, "Invalid JSON") from None
    except ValueError as err:
        # Valid JSON past Python's int limit (JSON.parse would take it as a double).
        if "integer string conversion" not in str(err):
            raise WebhookError(400, "Invalid JSON") from None
        limit = sys.get_int_max_str_digits()
        raise WebhookError(400, f"JSON integer too long (limit {limit} digits)") from None
    if not isinstance(value, dict | list):
        # body-parser runs in `strict` mode: only objects and arrays are accepted.
        raise WebhookError(400, "JSON body must be an object or an array")
    _check_json(value, max_depth, check_surrogates=_SURROGATE_ESCAPE.search(text) is not None)
    return value


class _JsonConstant(Exception):
    """NaN, Infinity or -Infinity, which json.loads would accept."""


def _refuse_constant(name: str) -> object:
    # json.loads accepts NaN and Infinity; JSON (and JSON.parse) does not.
    raise _JsonConstant(name)


def _json_too_deep(max_depth: int) -> str:
    return f"JSON nested too deeply (limit {max_depth} levels)"


def _check_json(value: object, max_depth: int, *, check_surrogates: bool) -> None:
    # Iterative walk: the formatter recurses, so the depth is bounded here.
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise WebhookError(400, _json_too_deep(max_depth))
        children: Iterable[object]
        if isinstance(node, dict):
            children = node.values()
            if check_surrogates and any(_SURROGATE.search(key) for key in node):
                raise WebhookError(400, _LONE_SURROGATE)
        elif isinstance(node, list):
            children = node
        else:
            continue
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
            elif check_surrogates and isinstance(child, str) and _SURROGATE.search(child):
                # A lone surrogate cannot be encoded as UTF-8, so no homeserver would take it.
                raise WebhookError(400, _LONE_SURROGATE)


def _parse_form(text: str) -> dict[str, object]:
    if text.count("&") >= MAX_FORM_PARAMETERS:
        raise WebhookError(413, f"Too many form parameters (limit {MAX_FORM_PARAMETERS})")
    form: dict[str, object] = {}
    for part in text.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key = unquote_plus(raw_key, errors="replace")
        value = unquote_plus(raw_value, errors="replace")
        if key in form:
            previous = form[key]
            form[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            form[key] = value
    return form


class _XmlRefused(Exception):
    """Raised from expat handlers to stop parsing."""


class _XmlElement:
    __slots__ = ("cdata", "name", "node", "text")

    def __init__(self, name: str, attributes: dict[str, str]) -> None:
        self.name = name
        # xml2js creates the text key first, so it leads the dict when kept.
        self.node: dict[str, object] = {"_": ""}
        if attributes:
            self.node["$"] = attributes
        self.text: list[str] = []
        self.cdata = False


class _XmlToObject:
    """Builds xml2js's default output (explicitArray, explicitRoot, `$` and `_` keys)."""

    def __init__(self, max_elements: int) -> None:
        self.max_elements = max_elements
        self.stack: list[_XmlElement] = []
        self.result: object = None

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if len(self.stack) >= self.max_elements:
            raise _XmlRefused(f"XML nested too deeply (limit {self.max_elements} elements)")
        if self.stack and name == "_":
            # xml2js fails on a child named like its text key; refuse it plainly instead.
            raise _XmlRefused("XML element name '_' is not supported")
        self.stack.append(_XmlElement(name, attributes))

    def characters(self, data: str) -> None:
        if self.stack:
            self.stack[-1].text.append(data)

    def start_cdata(self) -> None:
        if self.stack:
            self.stack[-1].cdata = True

    def end(self, _name: str) -> None:
        element = self.stack.pop()
        node = element.node
        text = "".join(element.text)
        value: object = node
        blank = ""
        if text.strip(_JS_SPACE) == "" and not element.cdata:
            blank = text
            del node["_"]
        else:
            node["_"] = text
            if len(node) == 1:
                value = text
        if value == {}:
            # xml2js's default `emptyTag` is "", so an empty element is its blank text.
            value = blank
        if self.stack:
            parent = self.stack[-1].node
            existing = parent.get(element.name)
            if isinstance(existing, list):
                existing.append(value)
            else:
                parent[element.name] = [value]
        else:
            self.result = {element.name: value}


def _refuse_doctype(*_args: object) -> None:
    # A DTD is how entity expansion (billion laughs) and external entities (XXE) get in.
    raise _XmlRefused("XML with a DOCTYPE is refused")


def _parse_xml(text: str, max_depth: int) -> object:
    if text.strip(_JS_SPACE) == "":
        # xml2js resolves a blank document to null.
        return None
    # Each element adds a dict and a list around its children; attributes one more level.
    builder = _XmlToObject(max_elements=max(1, (max_depth - 1) // 2))
    parser = expat.ParserCreate(encoding="utf-8")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.characters
    parser.StartCdataSectionHandler = builder.start_cdata
    try:
        parser.Parse(text.encode("utf-8"), True)
    except _XmlRefused as err:
        raise WebhookError(400, str(err)) from None
    except expat.ExpatError:
        # Bare, like "Invalid JSON": any local parser shows the sender where it breaks.
        raise WebhookError(400, "Invalid XML") from None
    return builder.result


# --- qs (express 4 query parser) -----------------------------------------------------------

# JavaScript array under construction; holes are compacted away at the end, as qs does.
_HOLE: Final = object()
_BRACKET = re.compile(r"\[[^\[\]]*\]")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def _js_key_order(obj: Mapping[str, object]) -> list[str]:
    # JavaScript enumerates integer-like keys first, in numeric order, then the rest.
    index_keys = [k for k in obj if _is_array_index(k)]
    if not index_keys:
        return list(obj)
    numeric = set(index_keys)
    return sorted(index_keys, key=int) + [k for k in obj if k not in numeric]


def _is_array_index(key: str) -> bool:
    # The length test keeps int() away from huge digit strings (and Python's digit limit).
    return len(key) <= 10 and _ARRAY_INDEX.fullmatch(key) is not None and int(key) < 2**32 - 1


def _concat(first: object, second: object) -> list[object]:
    # `[].concat(a, b)`: arrays are spread, anything else is appended.
    out: list[object] = []
    for item in (first, second):
        if isinstance(item, list):
            out.extend(item)
        else:
            out.append(item)
    return out


def _qs_parse_key(key: str, value: object) -> object:
    if not key:
        return None
    first = _BRACKET.search(key)
    parent = key[: first.start()] if first else key
    chain: list[str] = [parent] if parent else []
    remainder: re.Match[str] | None = None
    for count, segment in enumerate(_BRACKET.finditer(key)):
        if count == QUERY_DEPTH:
            remainder = segment
            break
        chain.append(segment.group())
    if remainder is not None:
        chain.append("[" + key[remainder.start() :] + "]")
    leaf: object = value
    for root in reversed(chain):
        if root == "[]":
            leaf = _concat([], leaf)
            continue
        clean = root[1:-1] if root.startswith("[") and root.endswith("]") else root
        if root != clean and _is_array_index(clean) and int(clean) <= QUERY_ARRAY_LIMIT:
            array: list[object] = [_HOLE] * int(clean)
            array.append(leaf)
            leaf = array
        elif clean == "__proto__":
            leaf = {}
        else:
            leaf = {clean: leaf}
    return leaf


def _qs_merge(target: object, source: object) -> object:
    # A port of qs's utils.merge with `allowPrototypes: true` (express's setting).
    if source is None or source == "" or source is _HOLE:
        return target
    if not isinstance(source, dict | list):
        if isinstance(target, list):
            target.append(source)
        elif isinstance(target, dict):
            target[str(source)] = True
        else:
            return [target, source]
        return target
    if not isinstance(target, dict | list):
        return [target, *source] if isinstance(source, list) else [target, source]
    if isinstance(target, list) and isinstance(source, list):
        for index, item in enumerate(source):
            if item is _HOLE:
                continue
            if index < len(target) and target[index] is not _HOLE:
                existing = target[index]
                if isinstance(existing, dict | list) and isinstance(item, dict | list):
                    target[index] = _qs_merge(existing, item)
                else:
                    target.append(item)
            else:
                target.extend([_HOLE] * (index + 1 - len(target)))
                target[index] = item
        return target
    merged: dict[str, object]
    if isinstance(target, list):
        merged = {str(i): v for i, v in enumerate(target) if v is not _HOLE}
    else:
        merged = target
    items: dict[str, object] = (
        {str(i): v for i, v in enumerate(source) if v is not _HOLE}
        if isinstance(source, list)
        else source
    )
    for key in _js_key_order(items):
        value = items[key]
        merged[key] = _qs_merge(merged[key], value) if key in merged else value
    return merged


def _qs_compact(value: object) -> object:
    if isinstance(value, list):
        return [_qs_compact(v) for v in value if v is not _HOLE]
    if isinstance(value, dict):
        return {k: _qs_compact(v) for k, v in value.items()}
    return value
