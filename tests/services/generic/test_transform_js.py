"""JavaScript transformation functions (`hookshot.services.generic.transform.js`).

Rows marked "hookshot" come from hookshot's own tests (`tests/connections/GenericHook.spec.ts`)
or docs (`docs/setup/webhooks.md`); the contrib rows run hookshot's published example
functions (`contrib/jsTransformationFunctions/`) unchanged. The others follow
`src/generic/WebhookTransformer.ts` or mark where we deliberately differ."""

from __future__ import annotations

import json
import threading
import time

import pytest
from support.paths import CORPORA

from hookshot.services.generic.transform import (
    TRANSFORM_FAILED_TEXT,
    Mentions,
    TransformError,
    TransformResult,
    WebhookResponse,
    compile_check,
    run_transformation,
)
from hookshot.services.generic.transform.js import DEFAULT_TIMEOUT_MS

QUESTION = {"question": "What is the meaning of life?", "answer": 42}
ANSWER = "The answer to 'What is the meaning of life?' is 42"
COUNTER_V2 = """
if (data.counter === undefined) {
  // The API didn't give us a counter, send no message.
  result = {empty: true, version: "v2"};
} else if (data.counter > data.maxValue) {
    result = {plain: `**Oh no!** The counter has gone over by ${data.counter - data.maxValue}`, version: "v2"};
} else {
    result = {plain: `*Everything is fine*, the counter is under by ${data.maxValue - data.counter}`, version: "v2"};
}
"""  # noqa: E501
COUNTER_V1 = """
if (data.counter > data.maxValue) {
    result = `**Oh no!** The counter has gone over by ${data.counter - data.maxValue}`
} else {
    result = `*Everything is fine*, the counter is under by ${data.maxValue - data.counter}`
}
"""

# contrib/jsTransformationFunctions/alertmanager.js (sloppy mode, assigns undeclared globals).
ALERTMANAGER_JS = r"""
function statusBadge(status, severity) {
    let statusColor;
    if (status === "resolved") {
        return `<font color='green'><b>[RESOLVED]</b></font>`;
    }
    switch(severity) {
        case 'resolved':
        case 'critical':
            return `<font color='red'><b>[FIRING - CRITICAL]</b></font>`;
        case 'warning':
            return `<font color='orange'><b>[FIRING - WARNING]</b></font>`;
        default:
            return `<b>[${status.toUpperCase()}]</b>`;
    }
}
function silenceLink(alert, externalURL) {
    filters = []
    for (const [label, val] of Object.entries(alert.labels)) {
        filters.push(encodeURIComponent(`${label}="${val}"`));
    }
    return `<a href="${externalURL}#silences/new?filter={${filters.join(",")}}">silence</a>`;
}
if (!data.alerts) {
    result = {
        version: 'v2',
        empty: true,
    };
    return;
}
const plainErrors = [];
const htmlErrors = [];
const { externalURL, alerts } = data;
for (const alert of data.alerts) {
    plainErrors.push(`**[${alert.status.toUpperCase()} - ${alert.labels.severity}]** - ${alert.labels.alertname}: ${alert.annotations.description} [source](${alert.generatorURL})`);
    htmlErrors.push(`${statusBadge(alert.status, alert.labels.severity)}<br/>${alert.labels.alertname}: ${alert.annotations.description}<br/><a href="${alert.generatorURL}">source</a> | ${silenceLink(alert, externalURL)}`)
    result = {
        version: 'v2',
        plain: plainErrors.join(`\n\n`),
        html: htmlErrors.join(`<br/><br/>`),
        msgtype: 'm.text'
    };
}
"""  # noqa: E501
# contrib/jsTransformationFunctions/format-as-code.js
FORMAT_AS_CODE_JS = """
result = {
        plain: `\\`\\`\\`\\n${data.text}\\n\\`\\`\\``,
        version: "v2"
    };
"""
# contrib/jsTransformationFunctions/gitlab-pipeline.js
GITLAB_PIPELINE_JS = r"""
if (data.object_kind === "pipeline") {
    color = "white";
    if (data.object_attributes.status === "success") {
        color = "#00ff00";
    } else if (data.object_attributes.status === "failed") {
        color = "red";
    }
    text = `[<strong><a href="${data.project.web_url}">${data.project.path_with_namespace}</a></strong>]<br>`;
    text += `CI pipeline <font color="${color}">${data.object_attributes.detailed_status}</font> <strong><a href="${data.project.web_url}/-/pipelines/${data.object_attributes.id}">#${data.object_attributes.id}</a></strong> ref <em>${data.object_attributes.ref}</em> (commit <a href="${data.project.web_url}/-/commit/${data.commit.id}"><code>${data.commit.id.slice(0,7)}</code></a> "<em>${data.commit.message}</em>")<br>`;
    if ("builds" in data) {
        text += "<ol>";
        for (build of data.builds) {
            text += `<li><a href="${data.project.web_url}/-/jobs/${build.id}">#${build.id}</a> <em>${build.name}</em>`;
            if (build.runner) {
                text += ` on runner <em>${build.runner.description}</em>`;
            }
            text += "</li>";
        }
        text += "</ol>";
    }
    type = data.build_status === "failed" ? "m.text" : "m.notice";
    result = {
        plain: text,
        html: text,
        version: "v2",
        msgtype: type
    }
} else {
    result = {
        plain: "unsupported event, see message JSON source",
        version: "v2",
        msgtype: "m.notice"
    }
}
"""  # noqa: E501

PIPELINE = {
    "object_kind": "pipeline",
    "object_attributes": {"id": 31, "ref": "main", "status": "failed", "detailed_status": "failed"},
    "project": {"web_url": "https://gitlab.example.com/g/p", "path_with_namespace": "g/p"},
    "commit": {"id": "bcbb5ec396a2c0f828686f14fac9b80b780504f2", "message": "Fix <tests>"},
    "builds": [{"id": 380, "name": "test", "runner": {"description": "shared"}}],
}
PIPELINE_HTML = (
    '[<strong><a href="https://gitlab.example.com/g/p">g/p</a></strong>]<br>CI pipeline '
    '<font color="red">failed</font> <strong><a href="https://gitlab.example.com/g/p/-/pipelines/31">'
    "#31</a></strong> ref <em>main</em> (commit <a "
    'href="https://gitlab.example.com/g/p/-/commit/bcbb5ec396a2c0f828686f14fac9b80b780504f2">'
    '<code>bcbb5ec</code></a> "<em>Fix <tests></em>")<br><ol><li>'
    '<a href="https://gitlab.example.com/g/p/-/jobs/380">#380</a> <em>test</em> on runner '
    "<em>shared</em></li></ol>"
)


def plain(
    text: str,
    *,
    html: str | None = None,
    msgtype: str | None = None,
    mentions: Mentions | None = None,
    url_previews: bool | None = None,
) -> TransformResult:
    return TransformResult(
        plain=text, html=html, msgtype=msgtype, mentions=mentions, url_previews=url_previews
    )


CONTRACT = [
    # hookshot: V1TFFunction / V2TFFunction / V2TFFunctionWithReturn.
    (
        "hookshot v1 string",
        "result = `The answer to '${data.question}' is ${data.answer}`;",
        QUESTION,
        plain(f"Received webhook: {ANSWER}"),
    ),
    (
        "hookshot v2 object",
        "result = {plain: `The answer to '${data.question}' is ${data.answer}`, version: 'v2'}",
        QUESTION,
        plain(ANSWER),
    ),
    (
        "hookshot v2 with top-level return",
        "result = {plain: `The answer to '${data.question}' is ${data.answer}`, version: 'v2'};"
        " return;",
        QUESTION,
        plain(ANSWER),
    ),
    (
        "hookshot mentions (extra keys dropped)",
        'result = {plain: "Test test", mentions: { room: true, user_ids: ["@foo:bar"],'
        " ignored_data: true}, version: 'v2'}",
        {},
        plain("Test test", mentions=Mentions(user_ids=("@foo:bar",), room=True)),
    ),
    (
        "hookshot url preview hints",
        'result = {"version":"v2","hints":{"showUrlPreviews":false},"plain":"hello world"}',
        {},
        plain("hello world", url_previews=False),
    ),
    (
        "hookshot docs v2 over",
        COUNTER_V2,
        {"counter": 5, "maxValue": 4},
        plain("**Oh no!** The counter has gone over by 1"),
    ),
    (
        "hookshot docs v2 under",
        COUNTER_V2,
        {"counter": 3, "maxValue": 4},
        plain("*Everything is fine*, the counter is under by 1"),
    ),
    ("hookshot docs v2 empty", COUNTER_V2, {"maxValue": 4}, TransformResult()),
    (
        "hookshot docs v1",
        COUNTER_V1,
        {"counter": 5, "maxValue": 4},
        plain("Received webhook: **Oh no!** The counter has gone over by 1"),
    ),
    # v1: any non-string, non-object result is "No content" (undefined, numbers, booleans).
    ("no result", "const x = 1;", {}, plain("No content")),
    ("number result", "result = 5", {}, plain("No content")),
    ("false result", "result = false", {}, plain("No content")),
    ("bigint result", "result = 10n", {}, plain("No content")),
    ("function result", "result = () => 1", {}, plain("No content")),
    ("empty string is still v1", 'result = ""', {}, plain("Received webhook: ")),
    # `var result` inside the function is local, exactly as in hookshot.
    ("var result is local", 'var result = "x"', {}, plain("No content")),
    (
        "globals",
        "result = `${HookshotApiVersion} ${typeof data}`",
        {},
        plain("Received webhook: v2 object"),
    ),
    ("string body", "result = data.toUpperCase()", "hello", plain("Received webhook: HELLO")),
    (
        "floats intact",
        "result = `${data.x * 2} ${data.y}`",
        {"x": 1.25, "y": 0.1},
        plain("Received webhook: 2.5 0.1"),
    ),
    (
        "big integers as JS",
        "result = String(data.n)",
        {"n": 2**64},
        plain("Received webhook: 18446744073709552000"),
    ),
    (
        "html, msgtype",
        'result = {version: "v2", plain: "p", html: "<b>h</b>", msgtype: "m.text"}',
        {},
        plain("p", html="<b>h</b>", msgtype="m.text"),
    ),
    (
        "empty html and msgtype fall back",
        'result = {version:"v2", plain:"p", html:"", msgtype:""}',
        {},
        plain("p"),
    ),
    (
        "empty with webhook response",
        'result = {version: "v2", empty: true, webhookResponse: {body: "{\\"ok\\":1}",'
        ' contentType: "application/json", statusCode: 202}}',
        {},
        TransformResult(webhook_response=WebhookResponse('{"ok":1}', "application/json", 202)),
    ),
    ("empty is truthiness", 'result = {version: "v2", empty: 1}', {}, TransformResult()),
    (
        "falsy webhookResponse ignored",
        'result = {version:"v2", plain:"p", webhookResponse: 0}',
        {},
        plain("p"),
    ),
    (
        "truthy non-object mentions is {}",
        'result = {version:"v2", plain:"p", mentions: "x"}',
        {},
        plain("p", mentions=Mentions()),
    ),
    # Ours: non-string user ids are dropped (hookshot sends them on).
    (
        "user_ids keep strings",
        'result = {version:"v2", plain:"p", mentions:{user_ids:["@a:b", 3]}}',
        {},
        plain("p", mentions=Mentions(user_ids=("@a:b",))),
    ),
    # Ours: a returned value counts when `result` is left undefined (hookshot ignores it).
    ("return value", 'return {version: "v2", plain: "r"}', {}, plain("r")),
    ("result wins over return", 'result = "a"; return "b"', {}, plain("Received webhook: a")),
    # Ours: a trailing line comment does not swallow hookshot's closing `})();`.
    ("trailing comment", 'result = "x" // done', {}, plain("Received webhook: x")),
    # Ours: JSON.parse keeps "__proto__" an ordinary key, it does not become the prototype.
    (
        "__proto__ stays a key",
        "result = data",
        {"__proto__": {"version": "v2"}, "plain": "p"},
        "Result returned from transformation didn't specify version = v2",
    ),
    (
        "NUL and lone surrogates",
        'result = {version:"v2", plain:"a\\u0000b\\ud800"}',
        {},
        plain("a\x00b\ufffd"),
    ),
]

FAILURES = [
    (
        "hookshot invalid script",
        "bibble bobble",
        QUESTION,
        "Transformation failed to run: SyntaxError: expecting ';' (line 1, column 8)",
    ),
    (
        "null result",
        "result = null",
        {},
        "Result returned from transformation didn't specify version = v2",
    ),
    (
        "no version",
        'result = {plain: "p"}',
        {},
        "Result returned from transformation didn't specify version = v2",
    ),
    (
        "array result",
        "result = []",
        {},
        "Result returned from transformation didn't specify version = v2",
    ),
    (
        "no plain",
        'result = {version: "v2"}',
        {},
        "Result returned from transformation didn't provide a string value for plain",
    ),
    (
        "html not string",
        'result = {version: "v2", plain: "p", html: 1}',
        {},
        "Result returned from transformation didn't provide a string value for html",
    ),
    (
        "html null",
        'result = {version: "v2", plain: "p", html: null}',
        {},
        "Result returned from transformation didn't provide a string value for html",
    ),
    (
        "msgtype not string",
        'result = {version: "v2", plain: "p", msgtype: ["m.text"]}',
        {},
        "Result returned from transformation didn't provide a string value for msgtype",
    ),
    (
        "response body",
        'result = {version: "v2", empty: true, webhookResponse: {statusCode: 200}}',
        {},
        "Result returned from transformation didn't provide a string value for "
        "webhookResponse.body",
    ),
    (
        "response not object",
        'result = {version: "v2", plain: "p", webhookResponse: "ok"}',
        {},
        "Result returned from transformation didn't provide a string value for "
        "webhookResponse.body",
    ),
    (
        "response content type",
        'result = {version: "v2", plain: "p", webhookResponse: {body: "", contentType: 1}}',
        {},
        "Result returned from transformation didn't provide a contentType value for msgtype",
    ),
    # Ours: hookshot's check never fires; we require an HTTP status.
    (
        "response status",
        'result = {version: "v2", plain: "p", webhookResponse: {body: "", statusCode: 99}}',
        {},
        "Result returned from transformation didn't provide a number value for "
        "webhookResponse.statusCode",
    ),
    (
        "response status float",
        'result = {version: "v2", plain: "p", webhookResponse: {body: "", statusCode: 200.5}}',
        {},
        "Result returned from transformation didn't provide a number value for "
        "webhookResponse.statusCode",
    ),
    (
        "mentions.room",
        'result = {version: "v2", plain: "p", mentions: {room: "yes"}}',
        {},
        "Result returned from transformation provided an invalid mentions.room",
    ),
    (
        "mentions.user_ids",
        'result = {version: "v2", plain: "p", mentions: {user_ids: "@a:b"}}',
        {},
        "Result returned from transformation provided an invalid mentions.user_ids",
    ),
    (
        "hints",
        'result = {version: "v2", plain: "p", hints: {showUrlPreviews: "no"}}',
        {},
        "Result returned from transformation provided an invalid hints.showUrlPreviews",
    ),
    (
        "reference error",
        "\n\n  foo.bar",
        {},
        "Transformation failed to run: ReferenceError: foo is not defined (line 3, column 3)",
    ),
    (
        "data is read-only",
        "data = 1",
        {},
        "Transformation failed to run: TypeError: 'data' is read-only (line 1, column 1)",
    ),
    ("thrown string", 'throw "boom"', {}, "Transformation failed to run: boom"),
    (
        "thrown error",
        'throw new Error("bad input")',
        {},
        "Transformation failed to run: Error: bad input (line 1, column 11)",
    ),
    (
        "circular result",
        "result = {version: 'v2'}; result.self = result",
        {},
        "Transformation failed to run: TypeError: circular reference",
    ),
]


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [row[1:] for row in CONTRACT],
    ids=[row[0] for row in CONTRACT],
)
def test_contract(source: str, data: object, expected: TransformResult | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(TransformError) as caught:
            run_transformation(source, data)
        assert str(caught.value) == expected
    else:
        assert run_transformation(source, data) == expected


@pytest.mark.parametrize(
    ("source", "data", "message"),
    [row[1:] for row in FAILURES],
    ids=[row[0] for row in FAILURES],
)
def test_failures(source: str, data: object, message: str) -> None:
    with pytest.raises(TransformError) as caught:
        run_transformation(source, data)
    assert str(caught.value) == message


def test_hookshot_room_messages() -> None:
    # hookshot's expected events: formatted_body is markdown of plain when html is missing.
    v1 = run_transformation(
        "result = `The answer to '${data.question}' is ${data.answer}`;", QUESTION
    )
    assert v1.message_content() == {
        "msgtype": "m.notice",
        "body": f"Received webhook: {ANSWER}",
        "format": "org.matrix.custom.html",
        "formatted_body": f"<p>Received webhook: {ANSWER}</p>",
    }
    mentions = run_transformation(
        'result = {plain: "Test test", mentions: { room: true, user_ids: ["@foo:bar"],'
        " ignored_data: true}, version: 'v2'}",
        {},
    )
    assert mentions.message_content() == {
        "msgtype": "m.notice",
        "body": "Test test",
        "format": "org.matrix.custom.html",
        "formatted_body": "<p>Test test</p>",
        "m.mentions": {"room": True, "user_ids": ["@foo:bar"]},
    }
    hints = run_transformation(
        'result = {"version":"v2","hints":{"showUrlPreviews":false},"plain":"hello world"}', {}
    )
    assert hints.message_content()["com.beeper.linkpreviews"] == []
    assert TRANSFORM_FAILED_TEXT == (
        "Webhook received but failed to process via transformation function"
    )


def test_contrib_alertmanager() -> None:
    data = {
        "externalURL": "http://am:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "Down", "severity": "critical"},
                "annotations": {"description": "web-1 is down"},
                "generatorURL": "http://prom/graph",
            },
            {
                "status": "resolved",
                "labels": {"alertname": "Disk", "severity": "warning"},
                "annotations": {"description": "disk ok"},
                "generatorURL": "http://prom/g2",
            },
        ],
    }
    silence = "%3D%22"
    assert run_transformation(ALERTMANAGER_JS, data) == TransformResult(
        plain="**[FIRING - critical]** - Down: web-1 is down [source](http://prom/graph)\n\n"
        "**[RESOLVED - warning]** - Disk: disk ok [source](http://prom/g2)",
        html="<font color='red'><b>[FIRING - CRITICAL]</b></font><br/>Down: web-1 is down<br/>"
        '<a href="http://prom/graph">source</a> | <a href="http://am:9093#silences/new?filter='
        f'{{alertname{silence}Down%22,severity{silence}critical%22}}">silence</a><br/><br/>'
        "<font color='green'><b>[RESOLVED]</b></font><br/>Disk: disk ok<br/>"
        '<a href="http://prom/g2">source</a> | <a href="http://am:9093#silences/new?filter='
        f'{{alertname{silence}Disk%22,severity{silence}warning%22}}">silence</a>',
        msgtype="m.text",
    )
    assert run_transformation(ALERTMANAGER_JS, {"status": "firing"}) == TransformResult()


def test_contrib_format_as_code() -> None:
    assert run_transformation(FORMAT_AS_CODE_JS, {"text": "zpool degraded"}) == plain(
        "```\nzpool degraded\n```"
    )


def test_contrib_gitlab_pipeline() -> None:
    assert run_transformation(GITLAB_PIPELINE_JS, PIPELINE) == plain(
        PIPELINE_HTML, html=PIPELINE_HTML, msgtype="m.notice"
    )
    push = json.loads((CORPORA / "gitlab" / "push.none.1.json").read_text())
    assert run_transformation(GITLAB_PIPELINE_JS, push) == plain(
        "unsupported event, see message JSON source", msgtype="m.notice"
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("result = 1", None),
        ("return {version: 'v2', plain: 'x'}", None),
        ("result = 1 // trailing comment", None),
        (
            "bibble bobble",
            "Could not compile transformation function: SyntaxError: expecting ';' "
            "(line 1, column 8)",
        ),
        (
            "\n\nlet a = ;",
            "Could not compile transformation function: SyntaxError: unexpected token in "
            "expression: ';' (line 3, column 9)",
        ),
        (
            "new.target",
            "Could not compile transformation function: SyntaxError: new.target only allowed "
            "within functions (line 1, column 5)",
        ),
        ("x\x00", "Could not compile transformation function: the script contains a NUL character"),
        (
            "x\ud800",
            "Could not compile transformation function: the script contains invalid Unicode "
            "(a lone surrogate)",
        ),
    ],
)
def test_compile_check(source: str, expected: str | None) -> None:
    assert compile_check(source) == expected


def test_compile_check_does_not_run_the_script() -> None:
    start = time.perf_counter()
    assert compile_check("while (true) {}") is None
    assert time.perf_counter() - start < 0.1


# Sandbox: each attack is contained with a clear error and the next request is served.
SANDBOX = [
    ("infinite loop", "while (true) {}", "Transformation timed out after 200 ms"),
    (
        "loop that catches",
        "while (true) { try { while (true) {} } catch (e) {} }",
        "Transformation timed out after 200 ms",
    ),
    (
        "loop in finally",
        "try { while (true) {} } finally { result = 'escaped' }",
        "Transformation timed out after 200 ms",
    ),
    (
        "catastrophic regex",
        "result = /(a+)+$/.test('a'.repeat(40) + 'b')",
        "Transformation timed out after 200 ms",
    ),
    (
        "loop in toJSON",
        "result = {toJSON() { while (true) {} }}",
        "Transformation timed out after 200 ms",
    ),
    (
        "memory bomb",
        "const a = []; while (true) { a.push('x'.repeat(1000) + a.length) }",
        "Transformation ran out of memory (limit 16 MiB)",
    ),
    (
        "memory bomb of objects",
        "const a = []; while (true) { a.push({n: a.length}) }",
        "Transformation ran out of memory (limit 16 MiB)",
    ),
    (
        "huge string",
        "const s = 'x'.repeat(2 ** 29)",
        "Transformation ran out of memory (limit 16 MiB)",
    ),
    (
        "bigint bomb",
        "let x = 3n; for (;;) x = x * x",
        "Transformation failed to run: RangeError: BigInt is too large to allocate "
        "(line 1, column 30)",
    ),
    (
        "deep recursion",
        "function f() { return f() + 1 }; f()",
        "Transformation failed to run: RangeError: Maximum call stack size exceeded "
        "(line 1, column 23)",
    ),
    (
        "require",
        "const fs = require('fs')",
        "Transformation failed to run: ReferenceError: require is not defined (line 1, column 12)",
    ),
    (
        "fetch",
        "fetch('http://127.0.0.1/')",
        "Transformation failed to run: ReferenceError: fetch is not defined (line 1, column 1)",
    ),
    (
        "process",
        "process.exit(1)",
        "Transformation failed to run: ReferenceError: process is not defined (line 1, column 1)",
    ),
    (
        "static import",
        "import fs from 'fs'",
        "Transformation failed to run: SyntaxError: Unexpected identifier 'fs' (line 1, column 8)",
    ),
    (
        "blocking wait",
        "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000)",
        "Transformation failed to run: TypeError: cannot block in this thread (line 1, column 33)",
    ),
]


@pytest.mark.parametrize(
    ("source", "message"), [row[1:] for row in SANDBOX], ids=[row[0] for row in SANDBOX]
)
def test_sandbox_contains(source: str, message: str) -> None:
    # Only the loops may use up the time limit; the rest get room to fail their own way.
    timeout_ms = 200 if "timed out" in message else 5000
    with pytest.raises(TransformError) as caught:
        run_transformation(source, {}, timeout_ms=timeout_ms, memory_mb=16)
    # QuickJS throws null when even its out-of-memory error cannot be allocated.
    assert str(caught.value) in (message, f"{message}, or the script threw null")
    # The next request is served normally.
    assert run_transformation("result = `${data.n + 1}`", {"n": 1}) == plain("Received webhook: 2")


def test_dynamic_import_loads_nothing() -> None:
    # No module loader: import() gives a promise that never resolves to a module, and pending
    # jobs are not run (as in hookshot), so the callbacks never fire.
    source = """
        globalThis.result = "untouched";
        import('/etc/passwd').then(() => { globalThis.result = "loaded" },
                                   (e) => { globalThis.result = "rejected" });
        const p = import('os');
        return;
    """
    assert run_transformation(source, {}) == plain("Received webhook: untouched")
    names = "fetch process require module exports std os setTimeout XMLHttpRequest WebAssembly"
    check = "result = `" + " ".join(f"${{typeof {name}}}" for name in names.split()) + "`"
    assert run_transformation(check, {}) == plain(
        "Received webhook: " + " ".join(["undefined"] * len(names.split()))
    )


def test_no_state_between_requests() -> None:
    polluting = """
        Object.prototype.version = "v2";
        Object.prototype.plain = "polluted";
        Array.prototype.join = () => "hijacked";
        globalThis.leak = "secret";
        JSON.stringify = () => '["string", "hijacked"]';
        result = "done";
    """
    # The wrapper took JSON.stringify before the script ran, so the result is still read.
    assert run_transformation(polluting, {}) == plain("Received webhook: done")
    clean = run_transformation(
        "result = `${({}).plain} ${[1, 2].join('-')} ${typeof leak} ${({}).version}`", {}
    )
    assert clean == plain("Received webhook: undefined 1-2 undefined undefined")
    # A prototype polluted by one request is not seen by a result built in the next.
    run_transformation("Object.prototype.x = 1; result = 'a'", {})
    assert run_transformation("result = String(({}).x)", {}) == plain("Received webhook: undefined")


def test_js_releases_the_gil() -> None:
    # A runaway script must not stall the rest of the bridge (the event loop thread).
    ticks = 0
    done = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        with pytest.raises(TransformError):
            run_transformation("while (true) {}", {}, timeout_ms=300)
    finally:
        done.set()
        thread.join()
    assert ticks > 100


def test_default_limits_and_arguments() -> None:
    assert DEFAULT_TIMEOUT_MS == 500
    with pytest.raises(ValueError, match="timeout_ms"):
        run_transformation("result = 1", {}, timeout_ms=0)
    with pytest.raises(ValueError, match="memory_mb"):
        run_transformation("result = 1", {}, memory_mb=0)
    with pytest.raises(TypeError):
        run_transformation("result = 1", {"x": b"bytes"})


def test_body_larger_than_the_memory_cap() -> None:
    with pytest.raises(TransformError) as caught:
        run_transformation("result = 1", {"x": "y" * (3 * 1024 * 1024)}, memory_mb=2)
    assert str(caught.value).startswith("Transformation ran out of memory (limit 2 MiB)")
