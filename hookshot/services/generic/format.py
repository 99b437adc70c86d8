"""The room message for a generic webhook that has no transformation function.

Mirrors `transformHookData` and `onGenericHook` in hookshot's
`src/Connections/GenericHook.ts` (7.2+), including its JavaScript details: `JSON.stringify`
output (key order, number format, escaping), truthiness tests and UTF-16 string lengths.
Where hookshot would build an event the homeserver refuses, we differ (marked below).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Final

from hookshot import wire
from hookshot.core.markdown import render_markdown

DATA_PREFIX: Final = "Received webhook data:"
DISPLAYNAME_SUFFIX: Final = " (Webhook)"
# hookshot's MAX_EVENT_SIZE_BYTES, compared with the summed JS lengths (UTF-16 code units)
# of body, formatted_body and the compact JSON of the webhook data.
MAX_EVENT_SIZE: Final = 65536 - 4 * 1024
# Ours: the content's compact JSON in UTF-8 bytes, checked after hookshot's rules. Matrix
# caps a whole event at 65536 bytes; 2 KiB is left for the envelope (ids, hashes, signatures).
MAX_CONTENT_BYTES: Final = 65536 - 2 * 1024
# hookshot's sanitiseObjectForMatrixJSON limits: deeper or wider containers become JSON text.
SANITIZE_MAX_DEPTH: Final = 10
SANITIZE_MAX_BREADTH: Final = 50
# Canonical JSON (room v6+) refuses floats and integers outside ±(2**53 - 1).
MAX_SAFE_INTEGER: Final = 2**53 - 1
ELLIPSIS: Final = "…"

# hookshot's template escapes the quotes twice, so the attribute really is \"language-json\".
_CODE_CLASS: Final = '\\"language-json\\"'
_SURROGATE = re.compile("[\ud800-\udfff]")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def webhook_display_name(name: str, *, suffix: str = DISPLAYNAME_SUFFIX) -> str:
    """The display name hookshot gives a hook's sender: `"<name> (Webhook)"`."""
    return f"{name}{suffix}"


def render_generic(data: object, *, include_hook_body: bool) -> dict[str, object]:
    """The `m.room.message` content hookshot sends for `data` (a parsed webhook body)."""
    plain, html = _transform_hook_data(data)
    return assemble(plain, html, data, include_hook_body=include_hook_body)


def assemble(
    plain: str,
    html: str | None,
    data: object,
    *,
    include_hook_body: bool,
    msgtype: str | None = None,
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Message content from text and optional HTML (markdown-rendered when absent), with the
    webhook data attached and hookshot's size rules applied; also used for the results of
    transformation functions, templates and built-in formats."""
    hook_data = sanitise_for_matrix_json(data) if include_hook_body else None
    # hookshot tests the sanitised body for truthiness: "" and null are never attached.
    has_data = include_hook_body and _js_truthy(hook_data)
    data_len = _utf16_len(js_stringify(hook_data)) if has_data else 0
    plain_len = _utf16_len(plain)
    if plain_len > MAX_EVENT_SIZE:
        # Rendering would be wasted: the size rules below drop the HTML in this case.
        html = None
    elif not html:
        html = render_markdown(plain)
    # hookshot's order: drop the webhook data, then the HTML, then cut the body.
    while plain_len + _utf16_len(html or "") + data_len > MAX_EVENT_SIZE:
        if has_data:
            has_data, data_len = False, 0
        elif html:
            html = None
        else:
            plain = _utf16_prefix(plain, MAX_EVENT_SIZE // 2) + ELLIPSIS
            break
    content: dict[str, object] = {"msgtype": msgtype or wire.M_NOTICE, "body": plain}
    if html:
        content["formatted_body"] = html
        content["format"] = wire.HTML_FORMAT
    if has_data:
        content[wire.WEBHOOK_DATA_KEY] = hook_data
    content.update(extra or {})
    return _fit(content)


def sanitise_for_matrix_json(data: object) -> object:
    """hookshot's `sanitiseObjectForMatrixJSON`: non-integer numbers become strings.

    Numbers are read as JavaScript does (`1.0` is the integer 1). Containers deeper than 10
    or past the 50th entry become their compact JSON text. Unlike hookshot, integers outside
    ±(2**53 - 1) also become strings, as canonical JSON (and so the homeserver) refuses them.
    """
    return _sanitise(data, 0, 0)


def js_stringify(value: object, indent: int | None = None) -> str:
    """`JSON.stringify(value, null, indent)` as JavaScript prints it.

    Integer-like keys come first in numeric order, numbers use JavaScript's format, only `"`,
    `\\` and control characters are escaped. Integers keep all their digits (JavaScript would
    round those past 2**53).
    """
    out: list[str] = []
    _write(value, indent, 0, out)
    return "".join(out)


def js_number(value: float) -> str:
    """JavaScript's `Number.prototype.toString()` for a double."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    # Value is 0.<digits> x 10**point once leading zeros are gone.
    point = len(whole) + (int(exp_text) if exp_text else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        text = digits + "0" * (point - count)
    elif 0 < point <= 21:
        text = f"{digits[:point]}.{digits[point:]}"
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        exponent = point - 1
        mark = "+" if exponent >= 0 else "-"
        head = digits if count == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{head}e{mark}{abs(exponent)}"
    return sign + text


def _transform_hook_data(data: object) -> tuple[str, str | None]:
    if isinstance(data, str):
        return f"{DATA_PREFIX} {data}", None
    fields: Mapping[str, object] = data if isinstance(data, dict) else {}
    text = fields.get("text")
    html: str | None = None
    if isinstance(text, str):
        plain = text
    else:
        dump = js_stringify(data, indent=2)
        plain = f"{DATA_PREFIX}\n\n```json\n\n{dump}\n\n```"
        html = f"<p>{DATA_PREFIX}</p><p><pre><code class={_CODE_CLASS}>{dump}</code></pre></p>"
    given_html = fields.get("html")
    if isinstance(given_html, str):
        html = given_html
    username = fields.get("username")
    if isinstance(username, str):
        plain = f"**{username}**: {plain}"
        if html:
            html = f"<strong>{username}</strong>: {html}"
    return plain, html


def _fit(content: dict[str, object]) -> dict[str, object]:
    # Ours, not hookshot's: its size estimate ignores JSON escaping and UTF-8 width, so it can
    # build events the homeserver refuses (M_TOO_LARGE). Trim further in the same order.
    if _json_bytes(content) <= MAX_CONTENT_BYTES:
        return content
    content.pop(wire.WEBHOOK_DATA_KEY, None)
    if _json_bytes(content) <= MAX_CONTENT_BYTES:
        return content
    content.pop("formatted_body", None)
    content.pop("format", None)
    if _json_bytes(content) <= MAX_CONTENT_BYTES:
        return content
    body = str(content["body"])
    content["body"] = ""
    budget = MAX_CONTENT_BYTES - _json_bytes(content) - len(ELLIPSIS.encode())
    content["body"] = _byte_prefix(body, budget) + ELLIPSIS
    return content


def _byte_prefix(text: str, budget: int) -> str:
    # Longest prefix whose JSON-escaped UTF-8 form fits `budget` bytes (cost grows with length).
    low, high = 0, min(len(text), max(budget, 0))
    while low < high:
        middle = (low + high + 1) // 2
        if _json_bytes(text[:middle]) - 2 <= budget:
            low = middle
        else:
            high = middle - 1
    return text[:low]


def _json_bytes(value: object) -> int:
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(encoded.encode("utf-8", "surrogatepass"))


def _sanitise(data: object, depth: int, breadth: int) -> object:
    if data is None or isinstance(data, bool | str):
        return data
    if isinstance(data, float):
        if math.isfinite(data) and data.is_integer():
            # JavaScript sees an integer and keeps the number; canonical JSON limits its range.
            return int(data) if abs(data) <= MAX_SAFE_INTEGER else js_number(data)
        return js_number(data)
    if isinstance(data, int):
        return data if abs(data) <= MAX_SAFE_INTEGER else str(data)
    if depth > SANITIZE_MAX_DEPTH or breadth > SANITIZE_MAX_BREADTH:
        return js_stringify(data)
    if isinstance(data, list | tuple):
        return [_sanitise(item, depth + 1, index) for index, item in enumerate(data)]
    if isinstance(data, dict):
        # Object entries are counted from 1 in JavaScript's key order.
        return {
            key: _sanitise(data[key], depth + 1, index)
            for index, key in enumerate(_js_keys(data), start=1)
        }
    raise TypeError(f"not a JSON value: {type(data).__name__}")


def _write(value: object, indent: int | None, level: int, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, str):
        out.append(_js_quote(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(js_number(value) if math.isfinite(value) else "null")
    elif isinstance(value, dict | list | tuple):
        is_dict = isinstance(value, dict)
        open_mark, close_mark = ("{", "}") if is_dict else ("[", "]")
        keys: list[object] = list(_js_keys(value)) if isinstance(value, dict) else []
        items = [value[k] for k in keys] if isinstance(value, dict) else list(value)
        if not items:
            out.append(open_mark + close_mark)
            return
        inner = "" if indent is None else "\n" + " " * (indent * (level + 1))
        out.append(open_mark)
        for index, item in enumerate(items):
            out.append(("," if index else "") + inner)
            if is_dict:
                out.append(_js_quote(str(keys[index])) + (":" if indent is None else ": "))
            _write(item, indent, level + 1, out)
        out.append(("" if indent is None else "\n" + " " * (indent * level)) + close_mark)
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def _js_quote(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    # JavaScript escapes lone surrogates (Python would emit text that is not valid UTF-8).
    if _SURROGATE.search(quoted):
        quoted = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)
    return quoted


def _js_keys(obj: Mapping[str, object]) -> list[str]:
    # JavaScript orders integer-like keys (array indices) first, numerically, then the rest.
    index_keys = [
        k for k in obj if len(k) <= 10 and _ARRAY_INDEX.fullmatch(k) and int(k) < 2**32 - 1
    ]
    if not index_keys:
        return list(obj)
    numeric = set(index_keys)
    return sorted(index_keys, key=int) + [k for k in obj if k not in numeric]


def _js_truthy(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, dict | list | tuple):
        return True
    if isinstance(value, str):
        return value != ""
    if isinstance(value, int | float):
        return value == value and value != 0
    return True


def _utf16_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_prefix(text: str, units: int) -> str:
    head = text[:units]
    if head.isascii():
        return head
    cut = head.encode("utf-16-le", "surrogatepass")[: 2 * units].decode(
        "utf-16-le", "surrogatepass"
    )
    # JavaScript's slice may split a surrogate pair; drop the orphaned half (not valid UTF-8).
    if cut and "\ud800" <= cut[-1] <= "\udbff":
        cut = cut[:-1]
    return cut
