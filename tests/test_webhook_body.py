"""Generic webhook body parsing (`hookshot.webhooks.body`): what each Content-Type gives the
hook, and what is refused with which status. Expected shapes follow hookshot's express
parsers (`src/generic/Router.ts`) and its tests (`tests/generic/GenericWebhooksRouterTest.ts`)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from hookshot.errors import WebhookError
from hookshot.webhooks.body import parse_body, query_to_body

CORPORA = Path(__file__).parent / "corpora"


def _nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<foo>&xxe;</foo>"""

GITHUB_PUSH = (CORPORA / "github" / "push.none.1.json").read_text()


@pytest.mark.parametrize(
    ("content_type", "raw", "expected"),
    [
        # JSON (body-parser json, strict)
        ("application/json", b'{"a": 1, "b": [true, null, 1.5]}', {"a": 1, "b": [True, None, 1.5]}),
        ("application/json; charset=utf-8", b"[1, 2]", [1, 2]),
        ("Application/JSON; Charset=UTF-8", b"{}", {}),
        ("application/json", b'\xef\xbb\xbf{"a": "\xc3\xa9"}', {"a": "é"}),
        ("application/json; charset=utf-16", '{"a": 1}'.encode("utf-16"), {"a": 1}),
        ("application/json", b'{"a": 1, "a": 2}', {"a": 2}),
        ("application/json", b'{"e": "\\ud83d\\ude00"}', {"e": "😀"}),
        ("application/json", b"", {}),
        ("application/json", _nested(64), json.loads(_nested(64))),
        # +json types are parsed too (hookshot hands them to the hook as {}).
        ("application/vnd.api+json", b'{"data": []}', {"data": []}),
        # Form data (body-parser urlencoded, extended: false -> Node querystring)
        (
            "application/x-www-form-urlencoded",
            b"a=1&b=two+words&c=%C3%A9",
            {"a": "1", "b": "two words", "c": "é"},
        ),
        ("application/x-www-form-urlencoded", b"a=1&a=2&a=3", {"a": ["1", "2", "3"]}),
        ("application/x-www-form-urlencoded", b"flag&=x&&", {"flag": "", "": "x"}),
        ("application/x-www-form-urlencoded", b"%zz=%&bad=%ff", {"%zz": "%", "bad": "\ufffd"}),
        (
            "application/x-www-form-urlencoded; charset=UTF-8",
            b"helloworld=bar",
            {"helloworld": "bar"},
        ),
        ("application/x-www-form-urlencoded", b"", {}),
        ("application/x-www-form-urlencoded", b"&".join([b"k=v"] * 1000), {"k": ["v"] * 1000}),
        (
            "application/x-www-form-urlencoded",
            b"payload=" + quote_plus(GITHUB_PUSH).encode(),
            {"payload": GITHUB_PUSH},
        ),
        # Text (text/*)
        ("text/plain", b"Hello world", "Hello world"),
        ("text/plain;charset=UTF-8", b"Hello world", "Hello world"),
        ("text/plain; charset=iso-8859-1", b"caf\xe9", "café"),
        ("text/csv", b"a,b\n1,2\n", "a,b\n1,2\n"),
        ("text/plain", b"\xef\xbb\xbfhi", "hi"),
        ("text/plain", b"", ""),
        # XML (xml2js defaults)
        ("application/xml", b"<helloworld>bar</helloworld>", {"helloworld": "bar"}),
        (
            "text/xml",
            b'<?xml version="1.0"?><alert severity="high"><name>disk</name><name>cpu</name>'
            b"<empty/><blank>  </blank></alert>",
            {
                "alert": {
                    "$": {"severity": "high"},
                    "name": ["disk", "cpu"],
                    "empty": [""],
                    "blank": ["  "],
                }
            },
        ),
        (
            "application/xml",
            b"<a>hello <b>x</b> world</a>",
            {"a": {"_": "hello  world", "b": ["x"]}},
        ),
        ("application/xml", b'<a x="1">t</a>', {"a": {"_": "t", "$": {"x": "1"}}}),
        ("application/xml", b'<a x="1"/>', {"a": {"$": {"x": "1"}}}),
        ("application/xml", b"<a>&lt;&amp;&#x41;</a>", {"a": "<&A"}),
        ("application/xml", b"<a><![CDATA[<b>]]></a>", {"a": "<b>"}),
        ("application/xml", b"<a><![CDATA[ ]]></a>", {"a": " "}),
        ("application/xml", b"<a><!-- note -->x<?pi y?></a>", {"a": "x"}),
        (
            "application/atom+xml",
            b'<ns:a xmlns:ns="urn:x"><ns:b>1</ns:b></ns:a>',
            {"ns:a": {"$": {"xmlns:ns": "urn:x"}, "ns:b": ["1"]}},
        ),
        (
            "application/xml; charset=iso-8859-1",
            b'<?xml version="1.0" encoding="ISO-8859-1"?><a>caf\xe9</a>',
            {"a": "café"},
        ),
        ("application/xml", b"", None),
        ("text/xml", b"  \n", None),
        # No parser ran: hookshot's hook gets {}; we keep that for empty bodies only.
        (None, b"", {}),
        ("", b"", {}),
        ("image/png", b"", {}),
    ],
)
def test_parse_body(content_type: str | None, raw: bytes, expected: object) -> None:
    assert parse_body(content_type, raw) == expected


@pytest.mark.parametrize(
    ("content_type", "raw", "status", "message"),
    [
        # Malformed JSON: hookshot answers 500, we answer 400.
        ("application/json", b'{"a": 1,}', 400, "Invalid JSON: Expecting property name"),
        ("application/json", b'{"a": ', 400, "Invalid JSON: Expecting value"),
        ("application/json", b'{"a": 1} x', 400, "Invalid JSON: Extra data"),
        ("application/json", b'{"a": NaN}', 400, "Invalid JSON"),
        ("application/json", b'{"a": -Infinity}', 400, "Invalid JSON"),
        ("application/json", b'{"n": ' + b"9" * 5000 + b"}", 400, "Invalid JSON"),
        ("application/json", b'"just a string"', 400, "JSON body must be an object or an array"),
        ("application/json", b"42", 400, "JSON body must be an object or an array"),
        ("application/json", b" \n ", 400, "JSON body must be an object or an array"),
        ("application/json", b'{"a": "\xff"}', 400, "Body is not valid UTF-8"),
        ("application/json", b'{"a": "\xed\xa0\x80"}', 400, "Body is not valid UTF-8"),
        ("application/json", b'{"a": "\\ud800"}', 400, "unpaired UTF-16 surrogate"),
        ("application/json", b'{"\\udfff": 1}', 400, "unpaired UTF-16 surrogate"),
        ("application/json", _nested(65), 400, "JSON nested deeper than 64 levels"),
        ("application/json", _nested(10_000), 400, "JSON nested deeper than 64 levels"),
        ("application/json", _nested(200_000), 400, "JSON nested deeper than 64 levels"),
        ("application/json; charset=iso-8859-1", b"{}", 415, 'Unsupported charset "iso-8859-1"'),
        ("application/json; charset=utf-99", b"{}", 415, 'Unsupported charset "utf-99"'),
        # Form data
        ("application/x-www-form-urlencoded", b"&".join([b"k=v"] * 1001), 413, "Too many"),
        ("application/x-www-form-urlencoded; charset=latin1", b"a=b", 415, "charset"),
        ("application/x-www-form-urlencoded", b"a=\xff", 400, "Body is not valid UTF-8"),
        # Text
        ("text/plain", b"caf\xe9", 400, "Body is not valid UTF-8"),
        ("text/plain; charset=klingon", b"x", 415, 'Unsupported charset "klingon"'),
        # XML
        ("application/xml", b"<a><b></a>", 400, "Invalid XML: mismatched tag"),
        ("application/xml", b"<a>", 400, "Invalid XML: no element found"),
        ("application/xml", b"<a/><b/>", 400, "Invalid XML: junk after document element"),
        ("application/xml", b"text", 400, "Invalid XML: syntax error"),
        ("application/xml", b"<a>&nbsp;</a>", 400, "Invalid XML: undefined entity"),
        ("application/xml", b"<a>\xff</a>", 400, "Body is not valid UTF-8"),
        ("application/xml", b"<a><_>x</_></a>", 400, "element name '_'"),
        ("application/xml", BILLION_LAUGHS, 400, "XML DOCTYPE declarations are not allowed"),
        ("application/xml", XXE, 400, "XML DOCTYPE declarations are not allowed"),
        ("text/xml", b"<!DOCTYPE a><a/>", 400, "XML DOCTYPE declarations are not allowed"),
        ("application/xml", b"<a>" * 10_000, 400, "XML nested deeper than 31 elements"),
        # Content types no parser takes (hookshot silently hands the hook {}).
        (None, b'{"a": 1}', 415, "Missing Content-Type header"),
        ("  ", b"x", 415, "Missing Content-Type header"),
        (
            "application/octet-stream",
            b"\x00",
            415,
            "Unsupported Content-Type: application/octet-stream",
        ),
        (
            "multipart/form-data; boundary=x",
            b"--x--",
            415,
            "Unsupported Content-Type: multipart/form-data",
        ),
        ("json", b"{}", 415, "Unsupported Content-Type: json"),
    ],
)
def test_parse_body_refused(
    content_type: str | None, raw: bytes, status: int, message: str
) -> None:
    with pytest.raises(WebhookError) as caught:
        parse_body(content_type, raw)
    assert caught.value.status == status
    assert message in caught.value.message


def test_max_depth_is_configurable() -> None:
    assert parse_body("application/json", _nested(3), max_depth=3) == [[[]]]
    with pytest.raises(WebhookError, match="deeper than 2 levels"):
        parse_body("application/json", _nested(3), max_depth=2)


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(CORPORA) for p in CORPORA.glob("*/*.json")), ids=str
)
def test_corpus_bodies_parse_as_json(path: Path) -> None:
    raw = (CORPORA / path).read_bytes()
    assert parse_body("application/json", raw) == json.loads(raw)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ([], {}),
        ({"a": "1", "b": ""}, {"a": "1", "b": ""}),
        ([("a", "1"), ("a", "2")], {"a": ["1", "2"]}),
        ([("a[b]", "c"), ("a[d]", "e")], {"a": {"b": "c", "d": "e"}}),
        ([("a[]", "1"), ("a[]", "2")], {"a": ["1", "2"]}),
        ([("a[1]", "y"), ("a[0]", "x")], {"a": ["x", "y"]}),
        ([("a[2]", "z")], {"a": ["z"]}),
        ([("a[21]", "x")], {"a": {"21": "x"}}),
        (
            [("a[b][c][d][e][f][g][h]", "v")],
            {"a": {"b": {"c": {"d": {"e": {"f": {"[g][h]": "v"}}}}}}},
        ),
        ([("a", "1"), ("a[b]", "2")], {"a": ["1", {"b": "2"}]}),
        ([("a[]", "1"), ("a[x]", "2")], {"a": {"0": "1", "x": "2"}}),
        ([("a[b]", "1"), ("a[b]", "")], {"a": {"b": ["1", ""]}}),
        ([("__proto__", "x"), ("a[__proto__]", "y")], {"a": {}}),
        ([("a[" + "9" * 5000 + "]", "x")], {"a": {"9" * 5000: "x"}}),
        ([("", "x"), ("text", "hello **world**")], {"text": "hello **world**"}),
        ([("k", str(i)) for i in range(1001)], {"k": [str(i) for i in range(1000)]}),
    ],
)
def test_query_to_body(
    query: dict[str, str] | list[tuple[str, str]], expected: dict[str, object]
) -> None:
    assert query_to_body(query) == expected
