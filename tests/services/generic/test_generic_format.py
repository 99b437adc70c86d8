"""The message for a generic webhook without a transformation function
(`hookshot.services.generic.format`) and the markdown renderer behind it.

Rows marked "hookshot" are copied from hookshot's own expectations
(`tests/connections/GenericHook.spec.ts`, `spec/generic-hooks.spec.ts`); the others follow
its source (`src/Connections/GenericHook.ts`) or mark where we deliberately differ."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from support.paths import CORPORA

from hookshot import wire
from hookshot.core.markdown import js_trim, render_markdown, render_markdown_inline
from hookshot.services.generic.body import parse_body, query_to_body
from hookshot.services.generic.format import (
    MAX_CONTENT_BYTES,
    js_number,
    js_stringify,
    render_generic,
    sanitise_for_matrix_json,
    webhook_display_name,
)

DATA = wire.WEBHOOK_DATA_KEY
HTML = wire.HTML_FORMAT
CODE = '<code class=\\"language-json\\">'


def notice(body: str, html: str | None = None, **extra: object) -> dict[str, object]:
    content: dict[str, object] = {"msgtype": "m.notice", "body": body}
    if html is not None:
        content["formatted_body"] = html
        content["format"] = HTML
    content.update({DATA if k == "data" else k: v for k, v in extra.items()})
    return content


def dumped(dump: str, **extra: object) -> dict[str, object]:
    """The "Received webhook data" message for a JSON dump."""
    return notice(
        f"Received webhook data:\n\n```json\n\n{dump}\n\n```",
        f"<p>Received webhook data:</p><p><pre>{CODE}{dump}</code></pre></p>",
        **extra,
    )


def nest(levels: int, leaf: object) -> object:
    for _ in range(levels):
        leaf = {"a": leaf}
    return leaf


WIDE = {f"k{i}": {"v": i} for i in range(1, 52)} | {"k52": 0.5}
WIDE_SAFE = {f"k{i}": {"v": i} for i in range(1, 51)} | {"k51": '{"v":51}', "k52": "0.5"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            {"simple": "data"},
            dumped('{\n  "simple": "data"\n}', data={"simple": "data"}),
            id="hookshot-simple",
        ),
        pytest.param(
            {"text": "simple-message"},
            notice("simple-message", "<p>simple-message</p>", data={"text": "simple-message"}),
            id="hookshot-text",
        ),
        pytest.param(
            {"text": "**bold-message** _italic-message_"},
            notice(
                "**bold-message** _italic-message_",
                "<p><strong>bold-message</strong> <em>italic-message</em></p>",
                data={"text": "**bold-message** _italic-message_"},
            ),
            id="hookshot-markdown",
        ),
        pytest.param(
            {"text": "# Oh wow\n\n`some-code`"},
            notice(
                "# Oh wow\n\n`some-code`",
                "<h1>Oh wow</h1>\n<p><code>some-code</code></p>",
                data={"text": "# Oh wow\n\n`some-code`"},
            ),
            id="hookshot-markdown-newlines",
        ),
        pytest.param(
            {"text": "simple-message", "html": "<b>simple-message</b>"},
            notice(
                "simple-message",
                "<b>simple-message</b>",
                data={"text": "simple-message", "html": "<b>simple-message</b>"},
            ),
            id="hookshot-html",
        ),
        pytest.param(
            {"username": "Bobs-integration", "type": 42},
            notice(
                '**Bobs-integration**: Received webhook data:\n\n```json\n\n{\n  "username": '
                '"Bobs-integration",\n  "type": 42\n}\n\n```',
                "<strong>Bobs-integration</strong>: <p>Received webhook data:</p><p><pre>"
                f'{CODE}{{\n  "username": "Bobs-integration",\n  "type": 42\n}}</code></pre></p>',
                data={"username": "Bobs-integration", "type": 42},
            ),
            id="hookshot-username",
        ),
        pytest.param(
            "Hello world",
            notice(
                "Received webhook data: Hello world",
                "<p>Received webhook data: Hello world</p>",
                data="Hello world",
            ),
            id="hookshot-e2e-text-body",
        ),
        pytest.param(
            {"text": "hi *there*", "username": "bot"},
            notice(
                "**bot**: hi *there*",
                "<p><strong>bot</strong>: hi <em>there</em></p>",
                data={"text": "hi *there*", "username": "bot"},
            ),
            id="username-prefixes-markdown-only",
        ),
        pytest.param(
            {"text": "t", "html": "<b>t</b>", "username": "u"},
            notice(
                "**u**: t",
                "<strong>u</strong>: <b>t</b>",
                data={"text": "t", "html": "<b>t</b>", "username": "u"},
            ),
            id="username-prefixes-html",
        ),
        pytest.param(
            {"text": "**a**", "html": ""},
            notice("**a**", "<p><strong>a</strong></p>", data={"text": "**a**", "html": ""}),
            id="empty-html-falls-back-to-markdown",
        ),
        pytest.param(
            {"text": ""}, notice("", data={"text": ""}), id="empty-text-has-no-formatted-body"
        ),
        pytest.param(
            {"text": "<script>x</script>"},
            notice(
                "<script>x</script>",
                "<p>&lt;script&gt;x&lt;/script&gt;</p>",
                data={"text": "<script>x</script>"},
            ),
            id="raw-html-in-markdown-is-escaped",
        ),
        pytest.param(
            {"text": 5, "username": ["x"]},
            dumped(
                '{\n  "text": 5,\n  "username": [\n    "x"\n  ]\n}',
                data={"text": 5, "username": ["x"]},
            ),
            id="non-string-fields-are-data",
        ),
        pytest.param([1, "a"], dumped('[\n  1,\n  "a"\n]', data=[1, "a"]), id="array"),
        pytest.param({}, dumped("{}", data={}), id="empty-object-is-attached"),
        pytest.param(
            {"a": [], "b": {}},
            dumped('{\n  "a": [],\n  "b": {}\n}', data={"a": [], "b": {}}),
            id="empty-containers",
        ),
        pytest.param(None, dumped("null"), id="empty-xml-null-is-not-attached"),
        pytest.param(
            "",
            notice("Received webhook data: ", "<p>Received webhook data:</p>"),
            id="empty-text-body-is-not-attached",
        ),
        pytest.param(
            {"b": 1, "10": 2, "2": 3, "a": 4, "01": 5},
            dumped(
                '{\n  "2": 3,\n  "10": 2,\n  "b": 1,\n  "a": 4,\n  "01": 5\n}',
                data={"2": 3, "10": 2, "b": 1, "a": 4, "01": 5},
            ),
            id="javascript-key-order",
        ),
        pytest.param(
            {"9" * 5000: 1, "4294967295": 2, "4294967294": 3},
            dumped(
                f'{{\n  "4294967294": 3,\n  "{"9" * 5000}": 1,\n  "4294967295": 2\n}}',
                data={"9" * 5000: 1, "4294967295": 2, "4294967294": 3},
            ),
            id="array-index-keys-stop-below-2**32-1",
        ),
        pytest.param(
            {"s": 'é 😀 \u2028 \x01 "q" \\ /'},
            dumped(
                '{\n  "s": "é 😀 \u2028 \\u0001 \\"q\\" \\\\ /"\n}',
                data={"s": 'é 😀 \u2028 \x01 "q" \\ /'},
            ),
            id="javascript-string-escaping",
        ),
        pytest.param(
            {"int": 1.0, "exp": 1e2, "f": 0.5, "small": 1.5e-7, "neg": -0.0, "max": 2**53 - 1},
            dumped(
                '{\n  "int": 1,\n  "exp": 100,\n  "f": 0.5,\n  "small": 1.5e-7,\n  "neg": 0,\n'
                '  "max": 9007199254740991\n}',
                data={
                    "int": 1,
                    "exp": 100,
                    "f": "0.5",
                    "small": "1.5e-7",
                    "neg": 0,
                    "max": 2**53 - 1,
                },
            ),
            id="javascript-numbers",
        ),
        pytest.param(
            {"big": 1e21, "huge": 12345678901234567890, "inf": float("inf")},
            dumped(
                '{\n  "big": 1e+21,\n  "huge": 12345678901234567890,\n  "inf": null\n}',
                data={"big": "1e+21", "huge": "12345678901234567890", "inf": "Infinity"},
            ),
            # hookshot would send 1e+21 and 12345678901234567000 as numbers (refused by
            # canonical JSON) and print the second rounded.
            id="ours-out-of-range-numbers-become-strings",
        ),
    ],
)
def test_render_generic(data: object, expected: dict[str, object]) -> None:
    assert render_generic(data, include_hook_body=True) == expected


def test_include_hook_body_false_omits_the_data() -> None:
    # hookshot spec "should allow disabling hook data in matrix events".
    assert render_generic("Hello world", include_hook_body=False) == notice(
        "Received webhook data: Hello world", "<p>Received webhook data: Hello world</p>"
    )
    assert DATA not in render_generic({"simple": "data"}, include_hook_body=False)


@pytest.mark.parametrize(
    ("data", "webhook_data"),
    [
        # hookshot "will handle a message containing floats"
        ({"simple": 1.2345}, {"simple": "1.2345"}),
        (nest(4, 1.2345), nest(4, "1.2345")),
        (
            {"an_array_of": [1.2345, 6.789], "floats": True},
            {"an_array_of": ["1.2345", "6.789"], "floats": True},
        ),
        # Containers deeper than 10 (root is 0) become compact JSON text, floats and all.
        (nest(12, 1.5), nest(11, '{"a":1.5}')),
        (nest(10, [0.5]), nest(10, ["0.5"])),
        (nest(11, [0.5]), nest(11, "[0.5]")),
        # Object entries count from 1: the 51st on is stringified, but scalars still converted.
        (WIDE, WIDE_SAFE),
        ([[0.5]] * 53, [["0.5"]] * 51 + ["[0.5]"] * 2),
        ({"nan": float("nan"), "ninf": float("-inf")}, {"nan": "NaN", "ninf": "-Infinity"}),
        ({"t": True, "n": None, "i": -(2**53) + 1}, {"t": True, "n": None, "i": -(2**53) + 1}),
        ({"i": 2**53, "f": 2.0**53}, {"i": "9007199254740992", "f": "9007199254740992"}),
    ],
)
def test_sanitise_for_matrix_json(data: object, webhook_data: object) -> None:
    assert sanitise_for_matrix_json(data) == webhook_data


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.5, "1.5"),
        (123.0, "123"),
        (-0.1, "-0.1"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e16, "10000000000000000"),
        (2.0**60, "1152921504606847000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (5e-324, "5e-324"),
        (-0.0, "0"),
        (float("inf"), "Infinity"),
        (float("nan"), "NaN"),
    ],
)
def test_js_number(value: float, text: str) -> None:
    assert js_number(value) == text


def test_js_stringify_compact_and_lone_surrogates() -> None:
    value = {"b": [1, {"c": None}], "1": "\ud800"}
    assert js_stringify(value) == '{"1":"\\ud800","b":[1,{"c":null}]}'


def _js_float(text: str) -> float | int:
    # JSON.parse reads 1417566161.0 as the integer 1417566161.
    value = float(text)
    return int(value) if value.is_integer() else value


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _keys(value: object) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in _keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


def _corpus(kind: str) -> list[Path]:
    return sorted((CORPORA / kind).glob("*.json"))


@pytest.mark.parametrize(
    "path",
    # A GitHub and a GitLab push as generic bodies; the rest of those corpora are for their
    # own formatters (some are too large or hold floats, which this oracle does not cover).
    [*_corpus("generic"), CORPORA / "github/push.none.1.json", CORPORA / "gitlab/push.none.1.json"],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_corpus_payloads(path: Path) -> None:
    raw = path.read_bytes()
    data = parse_body("application/json", raw)
    # With integer-valued floats as JavaScript reads them, Python's indent=2 dump is JS's.
    as_js = json.loads(raw, parse_float=_js_float)
    # The oracle holds when no non-integer numbers or integer-like keys are left.
    assert not any(isinstance(v, float) for v in _leaves(as_js))
    assert not any(k.isdigit() for k in _keys(as_js))
    dump = json.dumps(as_js, indent=2, ensure_ascii=False)
    assert render_generic(data, include_hook_body=True) == dumped(dump, data=as_js)


def test_docker_hub_float_timestamps_print_as_integers() -> None:
    data = parse_body(
        "application/json", (CORPORA / "generic" / "dockerhub.push.1.json").read_bytes()
    )
    content = render_generic(data, include_hook_body=True)
    assert '"pushed_at": 1417566161,\n' in str(content["body"])
    hook_data = content[DATA]
    assert isinstance(hook_data, dict)
    assert hook_data["push_data"]["pushed_at"] == 1417566161
    assert hook_data["repository"]["date_created"] == 1417494799


def test_github_form_encoded_push() -> None:
    text = (CORPORA / "github" / "push.none.1.json").read_text()
    raw = b"payload=" + quote_plus(text).encode()
    data = parse_body("application/x-www-form-urlencoded", raw)
    dump = json.dumps({"payload": text}, indent=2, ensure_ascii=False)
    assert render_generic(data, include_hook_body=True) == dumped(dump, data={"payload": text})


def test_get_hook_query() -> None:
    data = query_to_body([("text", "hello **world**")])
    assert render_generic(data, include_hook_body=True) == notice(
        "hello **world**", "<p>hello <strong>world</strong></p>", data={"text": "hello **world**"}
    )


def _utf8_size(content: dict[str, object]) -> int:
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


@pytest.mark.parametrize(
    ("data", "keys", "body"),
    [
        # hookshot's limit is 61440 JS chars over body + formatted_body + webhook data.
        pytest.param(
            {"blob": "x" * 25_000},
            {"msgtype", "body", "formatted_body", "format"},
            None,
            id="drops-webhook-data",
        ),
        pytest.param({"blob": "x" * 35_000}, {"msgtype", "body"}, None, id="drops-html"),
        pytest.param(
            {"blob": "x" * 70_000},
            {"msgtype", "body"},
            ('Received webhook data:\n\n```json\n\n{\n  "blob": "' + "x" * 70_000)[:30_720] + "…",
            id="cuts-body",
        ),
        pytest.param(
            "a" * (10 * 1024 * 1024 - 1),
            {"msgtype", "body"},
            ("Received webhook data: " + "a" * 30_720)[:30_720] + "…",
            id="hookshot-e2e-larger-body",
        ),
        # The cut counts UTF-16 units like JavaScript, but never splits a surrogate pair.
        pytest.param(
            {"text": "😀" * 40_000}, {"msgtype", "body"}, "😀" * 15_360 + "…", id="utf16-cut"
        ),
        pytest.param(
            {"text": "a" + "😀" * 40_000},
            {"msgtype", "body"},
            "a" + "😀" * 15_359 + "…",
            id="ours-cut-keeps-surrogate-pairs",
        ),
    ],
)
def test_size_guard(data: object, keys: set[str], body: str | None) -> None:
    content = render_generic(data, include_hook_body=True)
    assert set(content) == keys
    if body is not None:
        assert content["body"] == body
    assert _utf8_size(content) <= MAX_CONTENT_BYTES


def test_ours_size_guard_counts_utf8_bytes() -> None:
    # hookshot counts 25000 CJK characters as 25000 and keeps body and HTML (150 kB in UTF-8,
    # refused by the homeserver); we drop the HTML and cut the body to fit.
    content = render_generic({"text": "漢" * 25_000}, include_hook_body=True)
    envelope = len(b'{"msgtype":"m.notice","body":""}')
    kept = (MAX_CONTENT_BYTES - envelope - len("…".encode())) // 3
    assert content == notice("漢" * kept + "…")


def test_ours_size_guard_counts_json_escapes() -> None:
    # Each quote is 2 characters in the dump and 4 bytes once the event is JSON: hookshot's
    # estimate (54k) keeps body, HTML and data, a 90 kB event the homeserver refuses.
    data = {"q": '"' * 9_000}
    dump = js_stringify(data, indent=2)
    content = render_generic(data, include_hook_body=True)
    full = dumped(dump)
    hookshot_estimate = len(str(full["body"])) + len(str(full["formatted_body"]))
    assert hookshot_estimate + len(js_stringify(data)) < 61_440
    assert content == notice(str(full["body"]))
    assert _utf8_size(content) <= MAX_CONTENT_BYTES


def test_webhook_display_name() -> None:
    assert webhook_display_name("Alerts") == "Alerts (Webhook)"
    assert webhook_display_name("Alerts", suffix="") == "Alerts"


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("**bold**", "<p><strong>bold</strong></p>"),
        ("a\nb", "<p>a\nb</p>"),
        ("<b>x</b>", "<p>&lt;b&gt;x&lt;/b&gt;</p>"),
        ("https://example.org", "<p>https://example.org</p>"),
        ("~~gone~~", "<p><s>gone</s></p>"),
        ('"quotes" -- (c)', "<p>&quot;quotes&quot; -- (c)</p>"),
        (
            "a | b\n--|--\n1 | 2",
            "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n<tbody>\n"
            "<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>",
        ),
        ("```json\n{}\n```", '<pre><code class="language-json">{}\n</code></pre>'),
        ("", ""),
    ],
)
def test_render_markdown(text: str, html: str) -> None:
    assert render_markdown(text) == html


def test_render_markdown_inline() -> None:
    assert render_markdown_inline("**a** <i>\n\nb") == "<strong>a</strong> &lt;i&gt;\n\nb"


def test_js_trim_matches_javascript() -> None:
    # JavaScript trims U+FEFF but not U+001F; Python's strip() does the opposite.
    assert js_trim("\ufeff\u00a0 x \x1f\n") == "x \x1f"
