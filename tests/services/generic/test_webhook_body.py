"""Generic webhook body parsing (`hookshot.services.generic.body`): what each Content-Type gives the
hook, and what is refused with which status. Expected shapes follow hookshot's express
parsers (`src/generic/Router.ts`) and its tests (`tests/generic/GenericWebhooksRouterTest.ts`)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from support.paths import CORPORA

from hookshot.errors import WebhookError
from hookshot.services.generic.body import parse_body, query_to_body


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
        ("application/json", b"\xef\xbb\xbf", {}),
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


INVALID_JSON = "Invalid JSON"
NOT_CONTAINER = "JSON body must be an object or an array"
NOT_UTF8 = "Body is not valid UTF-8"
TOO_DEEP = "JSON nested too deeply (limit 64 levels)"
SURROGATE = "JSON contains an unpaired UTF-16 surrogate"
INVALID_XML = "Invalid XML"
DOCTYPE = "XML with a DOCTYPE is refused"


# Every refusal parse_body makes, with its exact status and text (the sender's delivery log
# shows it verbatim).
@pytest.mark.parametrize(
    ("content_type", "raw", "status", "message"),
    [
        # Malformed JSON: hookshot answers 500, we answer 400.
        ("application/json", b"not json", 400, INVALID_JSON),
        ("application/json", b"{not json", 400, INVALID_JSON),
        ("application/json", b'{"a": 1,}', 400, INVALID_JSON),
        ("application/json", b'{"a": ', 400, INVALID_JSON),
        ("application/json", b'{"a": 1} x', 400, INVALID_JSON),
        ("application/json", b"{'a': 1}", 400, INVALID_JSON),
        ("application/json", b'{"a": "tab\there"}', 400, INVALID_JSON),
        ("application/json", b'{"a": "\\x41"}', 400, INVALID_JSON),
        ("application/json", b"42 43", 400, INVALID_JSON),
        ("application/json", b"nul", 400, INVALID_JSON),
        ("application/json", b" \n ", 400, INVALID_JSON),
        ("application/json", b'{"a": NaN}', 400, "Invalid JSON: NaN is not valid JSON"),
        ("application/json", b"[Infinity]", 400, "Invalid JSON: Infinity is not valid JSON"),
        (
            "application/json",
            b'{"a": -Infinity}',
            400,
            "Invalid JSON: -Infinity is not valid JSON",
        ),
        # Valid JSON that is refused.
        ("application/json", b'"just a string"', 400, NOT_CONTAINER),
        ("application/json", b"42", 400, NOT_CONTAINER),
        ("application/json", b" -1.5e3 ", 400, NOT_CONTAINER),
        ("application/json", b"true", 400, NOT_CONTAINER),
        ("application/json", b"null", 400, NOT_CONTAINER),
        (
            "application/json",
            b'{"n": ' + b"9" * 5000 + b"}",
            400,
            "JSON integer too long (limit 4300 digits)",
        ),
        ("application/json", b'{"a": "\\ud800"}', 400, SURROGATE),
        ("application/json", b'{"\\udfff": 1}', 400, SURROGATE),
        ("application/json", b'[["\\ude00\\ud83d"]]', 400, SURROGATE),
        ("application/json", _nested(65), 400, TOO_DEEP),
        ("application/json", _nested(10_000), 400, TOO_DEEP),
        ("application/json", _nested(200_000), 400, TOO_DEEP),
        ("application/json", b'{"a": ' * 65 + b"1" + b"}" * 65, 400, TOO_DEEP),
        # JSON bytes and charsets
        ("application/json", b'{"a": "\xff"}', 400, NOT_UTF8),
        ("application/json", b'{"a": "\xed\xa0\x80"}', 400, NOT_UTF8),
        ("application/json", b"\xff\xfe not utf-8 \xc3\x28", 400, NOT_UTF8),
        ("application/json; charset=utf-16", b"{\x00\x00\xd8", 400, "Body is not valid UTF-16"),
        (
            "application/json; charset=iso-8859-1",
            b"{}",
            415,
            "Unsupported charset for JSON: iso-8859-1",
        ),
        ("application/json; charset=utf-99", b"{}", 415, "Unsupported charset: utf-99"),
        # Form data
        (
            "application/x-www-form-urlencoded",
            b"&".join([b"k=v"] * 1001),
            413,
            "Too many form parameters (limit 1000)",
        ),
        (
            "application/x-www-form-urlencoded; charset=latin1",
            b"a=b",
            415,
            "Unsupported charset for form data: latin1",
        ),
        ("application/x-www-form-urlencoded", b"a=\xff", 400, NOT_UTF8),
        # Text
        ("text/plain", b"caf\xe9", 400, NOT_UTF8),
        ("text/plain; charset=klingon", b"x", 415, "Unsupported charset: klingon"),
        # XML
        ("application/xml", b"<a><b></a>", 400, INVALID_XML),
        ("application/xml", b"<a>", 400, INVALID_XML),
        ("application/xml", b"<a/><b/>", 400, INVALID_XML),
        ("application/xml", b"text", 400, INVALID_XML),
        ("application/xml", b"<a>&nbsp;</a>", 400, INVALID_XML),
        ("application/xml", b"<a>\xff</a>", 400, NOT_UTF8),
        ("application/xml; charset=klingon", b"<a/>", 415, "Unsupported charset: klingon"),
        ("application/xml", b"<a><_>x</_></a>", 400, "XML element name '_' is not supported"),
        ("application/xml", BILLION_LAUGHS, 400, DOCTYPE),
        ("application/xml", XXE, 400, DOCTYPE),
        ("text/xml", b"<!DOCTYPE a><a/>", 400, DOCTYPE),
        (
            "application/xml",
            b"<a>" * 10_000,
            400,
            "XML nested too deeply (limit 31 elements)",
        ),
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
    assert (caught.value.status, caught.value.message) == (status, message)


def test_max_depth_is_configurable() -> None:
    assert parse_body("application/json", _nested(3), max_depth=3) == [[[]]]
    with pytest.raises(WebhookError, match=r"^JSON nested too deeply \(limit 2 levels\)$"):
        parse_body("application/json", _nested(3), max_depth=2)
    assert parse_body("application/xml", b"<a><b/></a>", max_depth=5) == {"a": {"b": [""]}}
    with pytest.raises(WebhookError, match=r"^XML nested too deeply \(limit 2 elements\)$"):
        parse_body("application/xml", b"<a><b><c/></b></a>", max_depth=5)


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
