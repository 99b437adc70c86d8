"""Declarative templates (`services/generic/transform/template.py`): syntax, rendering, errors.
The syntax is documented in `docs/templates.md`; the rows here follow it."""

from __future__ import annotations

import json

import pytest
from support.paths import CORPORA

from hookshot.services.generic.transform import TemplateError, TransformResult, compile_template

ALERTS = json.loads((CORPORA / "formats" / "alertmanager.mixed.json").read_text())
DATA: dict[str, object] = {
    "status": "firing",
    "name": "disk_usage*high",
    "count": 3,
    "ratio": 0.25,
    "ok": False,
    "empty": "",
    "none": None,
    "tags": ["a", "b"],
    "labels": {"team": "ops", "zone": "eu-1"},
    "url": "https://example.org/a?b=1&c=<2>",
    "html": "<i>x</i>",
    "items": [{"n": "one", "s": "up"}, {"n": "two", "s": "down"}, {"n": "three", "s": "up"}],
    "weird key": "spaced",
}

RENDER = [
    # (template plain, expected plain, expected html)
    ("{{ $.status }}", "firing", "<p>firing</p>"),
    ("Status: **{{ $.status }}**", "Status: **firing**", "<p>Status: <strong>firing</strong></p>"),
    # Values never become markup: `*` and `<` in the payload are shown as they are.
    ("{{ $.name }}", "disk_usage*high", "<p>disk_usage*high</p>"),
    ("{{ $.html }}", "<i>x</i>", "<p>&lt;i&gt;x&lt;/i&gt;</p>"),
    ("{{ $.html | raw }}", "<i>x</i>", "<p><i>x</i></p>"),
    ("numbers {{ $.count }} {{ $.ratio }} {{ $.ok }}", "numbers 3 0.25 false", None),
    ("[{{ $.missing }}][{{ $.none }}][{{ $.empty }}]", "[][][]", None),
    ('{{ $.missing | default("n/a") }}', "n/a", None),
    ("{{ $.none | default('-') }} {{ $.empty | default('-') }}", "- -", None),
    ("{{ $.status | default('-') }}", "firing", None),
    ("{{ $.tags }}", "a, b", None),
    ("{{ $.tags | join(' / ') }}", "a / b", None),
    ("{{ $.items[*].n | join }}", "one, two, three", None),
    ("{{ $.items[*].n | join('') }}", "onetwothree", None),
    ("{{ $.items[?(@.s == 'up')].n | join }}", "one, three", None),
    ("{{ $.items[?(@.s == 'up' && @.n != 'one')].n }}", "three", None),
    ("{{ $.items[?(@.n =~ 't.*')].n }}", "two, three", None),
    ("{{ $.items[0].n }} {{ $.items[-1].n }}", "one three", None),
    ("{{ $.items[*].n | first }}-{{ $.items[*].n | last }}", "one-three", None),
    ("{{ $.items | count }} {{ $.items[*] | count }} {{ $.missing | count }}", "3 3 0", None),
    ("{{ $.items.`len` }}", "3", None),
    ("{{ $..s | join }}", "up, down, up", None),
    ("{{ $.labels }}", '{"team":"ops","zone":"eu-1"}', None),
    ("{{ $.tags | json }}", '["a","b"]', None),
    ("{{ $.labels.`keys` | join }}", "team, zone", None),
    ('{{ $["weird key"] }}', "spaced", None),
    (
        "{{ $.status | upper }} {{ $.status | capitalize }} {{ 'ABC' | lower }}",
        "FIRING Firing abc",
        None,
    ),
    ("{{ $.name | truncate(6) }}", "disk_…", None),
    ("{{ $.name | replace('_', ' ') | upper }}", "DISK USAGE*HIGH", None),
    # Literals: a way to write "{{" and "}}" in text.
    ("{{ '{{' }} {{ \"}}\" }}", "{{ }}", None),
    ("a}}b", "a}}b", None),
    ("{{ 'it\\'s' }}", "it's", None),
    # Links and code keep the value literal and escaped in HTML.
    (
        "[open]({{ $.url }})",
        "[open](https://example.org/a?b=1&c=<2>)",
        '<p><a href="https://example.org/a?b=1&amp;c=&lt;2&gt;">open</a></p>',
    ),
    ("`{{ $.html }}`", "`<i>x</i>`", "<p><code>&lt;i&gt;x&lt;/i&gt;</code></p>"),
]


@pytest.mark.parametrize(("template", "plain", "html"), RENDER)
def test_render(template: str, plain: str, html: str | None) -> None:
    result = compile_template({"plain": template}).render(DATA)
    assert result.plain == plain
    if html is not None:
        assert result.html == html


def test_html_template_escapes_values() -> None:
    template = compile_template(
        {
            "plain": "{{ $.html }}",
            "html": '<b>{{ $.html }}</b> <a href="{{ $.url }}">x</a> {{ $.html | raw }}',
            "msgtype": "m.{{ $.missing | default('text') }}",
        }
    )
    assert template.render(DATA) == TransformResult(
        plain="<i>x</i>",
        html='<b>&lt;i&gt;x&lt;/i&gt;</b> <a href="https://example.org/a?b=1&amp;c=&lt;2&gt;">'
        "x</a> <i>x</i>",
        msgtype="m.text",
    )


def test_alertmanager_example() -> None:
    # The example from docs/templates.md, over a real Alertmanager group.
    template = compile_template(
        {
            "plain": "**{{ $.commonLabels.alertname }}** is {{ $.status | upper }}: "
            "{{ $.alerts[?(@.status == 'firing')].labels.instance | join(', ') }}",
            "empty_if": "$.status == 'resolved'",
        }
    )
    assert template.render(ALERTS) == TransformResult(
        plain="**DiskSpaceLow** is FIRING: db-1.example.org:9100",
        html="<p><strong>DiskSpaceLow</strong> is FIRING: db-1.example.org:9100</p>",
    )
    assert template.render(ALERTS | {"status": "resolved"}) == TransformResult()


@pytest.mark.parametrize(
    ("condition", "empty"),
    [
        ("$.status == 'firing'", True),
        ("$.status != 'firing'", False),
        ('$.status == "resolved"', False),
        ("$.count == 3", True),
        ("$.ratio == 0.25", True),
        ("$.ok == false", True),
        ("$.ok", False),
        ("$.status", True),
        ("$.empty", False),
        ("$.missing", False),
        ("$.missing == null", True),
        ("$.none == null", True),
        ("$.items[?(@.s == 'down')]", True),
        ("$.items[?(@.s == 'gone')]", False),
        ("$.items[*].s | first == 'up'", True),
        ("$.tags | count == 2", True),
        (["$.missing", "$.count == 3"], True),
        ([], False),
    ],
)
def test_empty_if(condition: str | list[str], empty: bool) -> None:
    result = compile_template({"plain": "x", "empty_if": condition}).render(DATA)
    assert result.empty is empty


def test_render_never_raises_on_odd_payloads() -> None:
    template = compile_template({"plain": "{{ $.a.b[3].c | default('?') }} {{ $.x | join }}"})
    odd: list[object] = [None, "text", 5, [], {"a": "not an object"}, {"a": {"b": 7}}]
    for data in odd:
        assert template.render(data).plain == "? "


def test_long_values_are_cut() -> None:
    result = compile_template({"plain": "{{ $.v }}"}).render({"v": "x" * 20000})
    assert result.plain == "x" * 16384 + "…"


ERRORS = [
    (
        {"plain": "{{ $.a | nope }}"},
        "template.plain: {{ $.a | nope }}: unknown filter 'nope' (known: capitalize, count, "
        "default, first, join, json, last, lower, raw, replace, truncate, upper)",
    ),
    (
        {"plain": "ok {{ $.a[ }}"},
        "template.plain: {{ $.a[ }}: invalid JSONPath '$.a[': Parse error near the end of string!",
    ),
    (
        {"plain": "{{ a.b }}"},
        "template.plain: {{ a.b }}: use a JSONPath starting with $, or a literal",
    ),
    ({"plain": "hi {{ $.a"}, "template.plain: {{ $.a: missing closing }}"),
    (
        {"plain": "{{ $.a | default(x) }}"},
        "template.plain: {{ $.a | default(x) }}: default: argument 'x' is not a literal",
    ),
    (
        {"plain": "{{ $.a | truncate('x') }}"},
        "template.plain: {{ $.a | truncate('x') }}: truncate: argument 'x' must be an integer",
    ),
    (
        {"plain": "{{ $.a | truncate }}"},
        "template.plain: {{ $.a | truncate }}: truncate: takes 1 argument",
    ),
    (
        {"plain": "{{ $.a | join(', ', 2) }}"},
        "template.plain: {{ $.a | join(', ', 2) }}: join: takes at most 1 argument",
    ),
    (
        {"plain": "{{ $.a | upper(1) }}"},
        "template.plain: {{ $.a | upper(1) }}: upper: takes 0 arguments",
    ),
    ({"plain": "{{ $.a | $.b }}"}, "template.plain: {{ $.a | $.b }}: '$.b' is not a filter"),
    ({"plain": "{{ }}"}, "template.plain: {{ }}: empty placeholder"),
    (
        {"plain": "{{ $.a[?(@.x == 1 & @.y == 2)] }}"},
        "template.plain: {{ $.a[?(@.x == 1 & @.y == 2)] }}: The `&` operator in filters is "
        "deprecated. It will be removed in version 2.0.0. Use `&&` instead.",
    ),
    (
        {"plain": "{{ $.a[?(@.s == up)] }}"},
        "template.plain: {{ $.a[?(@.s == up)] }}: An unquoted word as a comparison operand is "
        "deprecated. Support for unquoted words will be removed in version 2.0.0. Write `'up'` "
        "instead.",
    ),
    (
        {"plain": "x", "html": "{{ $.a | nope }}"},
        "template.html: {{ $.a | nope }}: unknown filter 'nope' (known: capitalize, count, "
        "default, first, join, json, last, lower, raw, replace, truncate, upper)",
    ),
    (
        {"plain": "x", "msgtype": "{{ $. }}"},
        "template.msgtype: {{ $. }}: invalid JSONPath '$.': Parse error near the end of string!",
    ),
    ({"plain": "x", "empty_if": "$.a == b"}, "template.empty_if: '$.a == b': 'b' is not a literal"),
    (
        {"plain": "x", "empty_if": "$.a == 1 == 2"},
        "template.empty_if: '$.a == 1 == 2': use one == or != per condition",
    ),
    (
        {"plain": "x", "empty_if": 3},
        "template.empty_if: must be a condition or a list of conditions",
    ),
    (
        {"plain": "x", "foo": 1},
        "template.foo: unknown key (use plain, html, msgtype, empty_if, threadKey)",
    ),
    ({"plain": ""}, "template.plain: must be a non-empty string"),
    ({"html": "x"}, "template.plain: must be a non-empty string"),
    ({"plain": "x", "html": 1}, "template.html: must be a string"),
    ({"plain": "x", "msgtype": ["m.text"]}, "template.msgtype: must be a string"),
]


@pytest.mark.parametrize(("spec", "message"), ERRORS)
def test_errors_name_the_placeholder(spec: dict[str, object], message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        compile_template(spec)
    assert str(caught.value) == message


def test_error_attributes() -> None:
    with pytest.raises(TemplateError) as caught:
        compile_template({"plain": "a {{ $.x | nope }} b"})
    assert caught.value.field == "plain"
    assert caught.value.placeholder == "{{ $.x | nope }}"
    with pytest.raises(TemplateError):
        compile_template("not a mapping")  # type: ignore[arg-type]


def test_filter_regexes_run_in_linear_time() -> None:
    # `=~` runs on RE2: this pattern and value would hold Python's re for hours.
    template = compile_template({"plain": "{{ $.items[?(@.n =~ '^(a+)+$')].n | default('none') }}"})
    data = {"items": [{"n": "a" * 40 + "!"}, {"n": "aaa"}]}
    assert template.render(data).plain == "aaa"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"plain": "{{ $.items[?(@.n =~ '(?=a)a')].n }}"}, "template.plain: the regex '=~' cannot"),
        (
            {"plain": "x", "empty_if": "$.items[?(@.n =~ '(a)\\1')]"},
            "template.empty_if: the regex '=~' uses",
        ),
    ],
)
def test_filter_regexes_re2_cannot_run_are_refused(spec: dict[str, object], message: str) -> None:
    with pytest.raises(TemplateError) as err:
        compile_template(spec)
    assert str(err.value).startswith(message)
