"""Built-in formats (`hookshot.services.generic.transform.formats`) over the sample payloads in
`tests/corpora/formats/` (see its README for where each shape comes from): exact text."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest
from support.paths import CORPORA

from hookshot.services.generic.transform import (
    FORMATS,
    TransformError,
    TransformResult,
    render_format,
)
from hookshot.services.generic.transform.formats import MAX_ALERTS

SAMPLES = CORPORA / "formats"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return data


# (sample file, plain body, HTML); the format is the file name's first part.
EXPECTED = [
    (
        "alertmanager.firing.json",
        (
            "🔥 **[FIRING:2] InstanceDown (node critical)**\n\n- 🔴 **InstanceDown** on "
            "`web-1.example.org:9100`: Instance web-1.example.org:9100 down (critical, "
            "since 2024-05-14 08:12 UTC) — "
            "[source](http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3"
            "D+0&g0.tab=1) | "
            "[silence](http://alertmanager.example.org:9093/#/silences/new?filt"
            "er=%7Balertname%3D%22InstanceDown%22%2Cinstance%3D%22web-1.example"
            ".org%3A9100%22%2Cjob%3D%22node%22%2Cseverity%3D%22critical%22%7D)\n- 🔴 "
            "**InstanceDown** on `web-2.example.org:9100`: Instance "
            "web-2.example.org:9100 down (critical, since 2024-05-14 08:13 UTC) — "
            "[source](http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3"
            "D+0&g0.tab=1) | "
            "[silence](http://alertmanager.example.org:9093/#/silences/new?filt"
            "er=%7Balertname%3D%22InstanceDown%22%2Cinstance%3D%22web-2.example"
            ".org%3A9100%22%2Cjob%3D%22node%22%2Cseverity%3D%22critical%22%7D)"
        ),
        (
            "<p>🔥 <strong>[FIRING:2] InstanceDown (node critical)</strong></p><ul><li>🔴 "
            "<strong>InstanceDown</strong> on <code>web-1.example.org:9100</code>: "
            "Instance web-1.example.org:9100 down (critical, since 2024-05-14 08:12 UTC) "
            "— <a "
            'href="http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3D+0'
            '&amp;g0.tab=1">source</a> | <a '
            'href="http://alertmanager.example.org:9093/#/silences/new?filter=%'
            "7Balertname%3D%22InstanceDown%22%2Cinstance%3D%22web-1.example.org"
            '%3A9100%22%2Cjob%3D%22node%22%2Cseverity%3D%22critical%22%7D">sile'
            "nce</a></li><li>🔴 <strong>InstanceDown</strong> on "
            "<code>web-2.example.org:9100</code>: Instance web-2.example.org:9100 down "
            "(critical, since 2024-05-14 08:13 UTC) — <a "
            'href="http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3D+0'
            '&amp;g0.tab=1">source</a> | <a '
            'href="http://alertmanager.example.org:9093/#/silences/new?filter=%'
            "7Balertname%3D%22InstanceDown%22%2Cinstance%3D%22web-2.example.org"
            '%3A9100%22%2Cjob%3D%22node%22%2Cseverity%3D%22critical%22%7D">sile'
            "nce</a></li></ul>"
        ),
    ),
    (
        "alertmanager.mixed.json",
        (
            "🔥 **[FIRING:1] DiskSpaceLow (node /var/lib/postgresql warning)**\n\n"
            "Firing:\n- 🟠 **DiskSpaceLow** on `db-1.example.org:9100`: Disk "
            "/var/lib/postgresql is 91% full (warning, since 2024-05-14 10:02 UTC) — "
            "[source](http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3"
            "D+0&g0.tab=1) | "
            "[silence](http://alertmanager.example.org:9093/#/silences/new?filt"
            "er=%7Balertname%3D%22DiskSpaceLow%22%2Cinstance%3D%22db-1.example."
            "org%3A9100%22%2Cjob%3D%22node%22%2Cmountpoint%3D%22/var/lib/postgr"
            "esql%22%2Cseverity%3D%22warning%22%7D)\n\nResolved:\n- **DiskSpaceLow** on "
            "`db-2.example.org:9100`: Disk /var/lib/postgresql is 92% full (warning, "
            "lasted 28m 30s) — "
            "[source](http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3"
            "D+0&g0.tab=1)\n\n…and 3 more alerts"
        ),
        (
            "<p>🔥 <strong>[FIRING:1] DiskSpaceLow (node /var/lib/postgresql "
            "warning)</strong></p><p>Firing:</p><ul><li>🟠 <strong>DiskSpaceLow</strong> "
            "on <code>db-1.example.org:9100</code>: Disk /var/lib/postgresql is 91% full "
            "(warning, since 2024-05-14 10:02 UTC) — <a "
            'href="http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3D+0'
            '&amp;g0.tab=1">source</a> | <a '
            'href="http://alertmanager.example.org:9093/#/silences/new?filter=%'
            "7Balertname%3D%22DiskSpaceLow%22%2Cinstance%3D%22db-1.example.org%"
            "3A9100%22%2Cjob%3D%22node%22%2Cmountpoint%3D%22/var/lib/postgresql"
            '%22%2Cseverity%3D%22warning%22%7D">silence</a></li></ul><p>Resolve'
            "d:</p><ul><li><strong>DiskSpaceLow</strong> on "
            "<code>db-2.example.org:9100</code>: Disk /var/lib/postgresql is 92% full "
            "(warning, lasted 28m 30s) — <a "
            'href="http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3D+0'
            '&amp;g0.tab=1">source</a></li></ul><p>…and 3 more alerts</p>'
        ),
    ),
    (
        "alertmanager.resolved.json",
        (
            "✅ **[RESOLVED] InstanceDown (web-1.example.org:9100 node critical)**\n\n- "
            "**InstanceDown** on `web-1.example.org:9100`: Instance "
            "web-1.example.org:9100 down (critical, lasted 1h 7m) — "
            "[source](http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3"
            "D+0&g0.tab=1)"
        ),
        (
            "<p>✅ <strong>[RESOLVED] InstanceDown (web-1.example.org:9100 node "
            "critical)</strong></p><ul><li><strong>InstanceDown</strong> on "
            "<code>web-1.example.org:9100</code>: Instance web-1.example.org:9100 down "
            "(critical, lasted 1h 7m) — <a "
            'href="http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3D+0'
            '&amp;g0.tab=1">source</a></li></ul>'
        ),
    ),
    (
        "grafana.firing.json",
        (
            "🔥 **[FIRING:2] (Disk IO saturation storage)**\n\n- **Disk IO saturation**: "
            "Disk IO saturation in zone fra-1 (zone=fra-1, since 2024-06-03 09:41 UTC, "
            "B=97.81, C=1) — "
            "[source](https://grafana.example.org/alerting/grafana/ad7f2c1k9q8w"
            "0e/view?orgId=1) | [runbook](https://wiki.example.org/runbooks/storage) | "
            "[silence](https://grafana.example.org/alerting/silence/new?alertma"
            "nager=grafana&matcher=alertname%3DDisk+IO+saturation&matcher=team%"
            "3Dstorage&matcher=zone%3Dfra-1&orgId=1)\n- **Disk IO saturation**: Disk IO "
            "saturation in zone ams-2 (zone=ams-2, since 2024-06-03 09:43 UTC, B=93.2, "
            "C=1) — "
            "[source](https://grafana.example.org/alerting/grafana/ad7f2c1k9q8w"
            "0e/view?orgId=1) | [runbook](https://wiki.example.org/runbooks/storage) | "
            "[silence](https://grafana.example.org/alerting/silence/new?alertma"
            "nager=grafana&matcher=alertname%3DDisk+IO+saturation&matcher=team%"
            "3Dstorage&matcher=zone%3Dams-2&orgId=1)"
        ),
        (
            "<p>🔥 <strong>[FIRING:2] (Disk IO saturation "
            "storage)</strong></p><ul><li><strong>Disk IO saturation</strong>: Disk IO "
            "saturation in zone fra-1 (zone=fra-1, since 2024-06-03 09:41 UTC, B=97.81, "
            "C=1) — <a "
            'href="https://grafana.example.org/alerting/grafana/ad7f2c1k9q8w0e/'
            'view?orgId=1">source</a> | <a '
            'href="https://wiki.example.org/runbooks/storage">runbook</a> | <a '
            'href="https://grafana.example.org/alerting/silence/new?alertmanage'
            "r=grafana&amp;matcher=alertname%3DDisk+IO+saturation&amp;matcher=t"
            'eam%3Dstorage&amp;matcher=zone%3Dfra-1&amp;orgId=1">silence</a></l'
            "i><li><strong>Disk IO saturation</strong>: Disk IO saturation in zone ams-2 "
            "(zone=ams-2, since 2024-06-03 09:43 UTC, B=93.2, C=1) — <a "
            'href="https://grafana.example.org/alerting/grafana/ad7f2c1k9q8w0e/'
            'view?orgId=1">source</a> | <a '
            'href="https://wiki.example.org/runbooks/storage">runbook</a> | <a '
            'href="https://grafana.example.org/alerting/silence/new?alertmanage'
            "r=grafana&amp;matcher=alertname%3DDisk+IO+saturation&amp;matcher=t"
            'eam%3Dstorage&amp;matcher=zone%3Dams-2&amp;orgId=1">silence</a></li></ul>'
        ),
    ),
    (
        "grafana.resolved.json",
        (
            "✅ **[RESOLVED] API latency p99 Production (checkout warning)**\n\n- **API "
            "latency p99**: p99 latency of checkout is above 800 ms (warning, lasted 42m "
            "30s, A=612.5, C=0) — "
            "[source](https://grafana.example.org/alerting/grafana/fdm2kq1x0yx3"
            "4c/view?orgId=1) | "
            "[runbook](https://wiki.example.org/runbooks/checkout-latency) | "
            "[dashboard](https://grafana.example.org/d/checkout-overview?orgId=1) | "
            "[panel](https://grafana.example.org/d/checkout-overview?orgId=1&vi"
            "ewPanel=4) | "
            "[image](https://grafana.example.org/public/img/attachments/9a8Kc2.png)"
        ),
        (
            "<p>✅ <strong>[RESOLVED] API latency p99 Production (checkout "
            "warning)</strong></p><ul><li><strong>API latency p99</strong>: p99 latency "
            "of checkout is above 800 ms (warning, lasted 42m 30s, A=612.5, C=0) — <a "
            'href="https://grafana.example.org/alerting/grafana/fdm2kq1x0yx34c/'
            'view?orgId=1">source</a> | <a '
            'href="https://wiki.example.org/runbooks/checkout-latency">runbook</a> | '
            "<a "
            'href="https://grafana.example.org/d/checkout-overview?orgId=1">das'
            "hboard</a> | <a "
            'href="https://grafana.example.org/d/checkout-overview?orgId=1&amp;'
            'viewPanel=4">panel</a> | <a '
            'href="https://grafana.example.org/public/img/attachments/9a8Kc2.pn'
            'g">image</a></li></ul>'
        ),
    ),
    (
        "sentry.event_alert.json",
        (
            "🐛 **Very Important Alert Rule!**: [ReferenceError: heck is not "
            "defined](https://sentry.io/organizations/test-org/issues/111754017"
            "6/events/e4874d664c3540c1a32eab185f12c5ab/)\nerror in `?(<anonymous>)` · "
            "environment production"
        ),
        (
            "<p>🐛 <strong>Very Important Alert Rule!</strong>: <a "
            'href="https://sentry.io/organizations/test-org/issues/1117540176/e'
            'vents/e4874d664c3540c1a32eab185f12c5ab/">ReferenceError: heck is not '
            "defined</a><br>error in <code>?(&lt;anonymous&gt;)</code> · environment "
            "production</p>"
        ),
    ),
    (
        "sentry.issue.created.json",
        (
            "🐛 Issue created: [FRONT-END-9 ReferenceError: blooopy is not "
            "defined](https://sentry.io/organizations/test-org/issues/1170820242/)\n"
            "error in `?(runner)` · project front-end · 1 event, 1 user"
        ),
        (
            "<p>🐛 Issue created: <a "
            'href="https://sentry.io/organizations/test-org/issues/1170820242/"'
            ">FRONT-END-9 ReferenceError: blooopy is not defined</a><br>error in "
            "<code>?(runner)</code> · project front-end · 1 event, 1 user</p>"
        ),
    ),
    (
        "sentry.metric_alert.critical.json",
        (
            "🔴 [Critical: Too many "
            "errors](https://sentry.io/organizations/baz/alerts/rules/details/7/)\n1523 "
            "events in the last 10 minutes\nFilter: level:error\nThreshold: 1000"
        ),
        (
            "<p>🔴 <a "
            'href="https://sentry.io/organizations/baz/alerts/rules/details/7/"'
            ">Critical: Too many errors</a><br>1523 events in the last 10 "
            "minutes<br>Filter: level:error<br>Threshold: 1000</p>"
        ),
    ),
    (
        "sentry.metric_alert.resolved.json",
        (
            "✅ [Resolved: Too many "
            "errors](https://sentry.io/organizations/baz/alerts/1/)\n1000 events in the "
            "last 10 minutes\nFilter: level:error"
        ),
        (
            '<p>✅ <a href="https://sentry.io/organizations/baz/alerts/1/">Resolved: '
            "Too many errors</a><br>1000 events in the last 10 minutes<br>Filter: "
            "level:error</p>"
        ),
    ),
    (
        "sentry.plugin.json",
        (
            "🐛 **Backend API**: [KeyError: "
            "'customer_id'](https://sentry.example.org/organizations/example/is"
            "sues/541485531/?referrer=webhooks_plugin)\nerror in `app.handlers.orders in "
            "create_order` · rule Notify on new issues · environment production"
        ),
        (
            "<p>🐛 <strong>Backend API</strong>: <a "
            'href="https://sentry.example.org/organizations/example/issues/5414'
            "85531/?referrer=webhooks_plugin\">KeyError: 'customer_id'</a><br>error in "
            "<code>app.handlers.orders in create_order</code> · rule Notify on new "
            "issues · environment production</p>"
        ),
    ),
    (
        "uptime-kuma.down.json",
        (
            "🔴 **Example Shop** is down: Request failed with status code 503\n"
            "https://shop.example.org/health · 2024-09-25 01:51:35 (Europe/Berlin)"
        ),
        (
            "<p>🔴 <strong>Example Shop</strong> is down: Request failed with status code "
            "503<br><a "
            'href="https://shop.example.org/health">https://shop.example.org/he'
            "alth</a> · 2024-09-25 01:51:35 (Europe/Berlin)</p>"
        ),
    ),
    (
        "uptime-kuma.port-down.json",
        (
            "🔴 **Mail relay** is down: connect ECONNREFUSED 192.0.2.25:587\n"
            "`smtp.example.org:587` · 2024-09-25 06:02:11 (UTC)"
        ),
        (
            "<p>🔴 <strong>Mail relay</strong> is down: connect ECONNREFUSED "
            "192.0.2.25:587<br><code>smtp.example.org:587</code> · 2024-09-25 06:02:11 "
            "(UTC)</p>"
        ),
    ),
    (
        "uptime-kuma.test.json",
        ("My Matrix Webhook Testing"),
        ("My Matrix Webhook Testing"),
    ),
    (
        "uptime-kuma.up.json",
        (
            "✅ **Example Shop** is up: 200 - OK (187 ms)\n"
            "https://shop.example.org/health · 2024-09-25 01:58:35 (Europe/Berlin)"
        ),
        (
            "<p>✅ <strong>Example Shop</strong> is up: 200 - OK (187 ms)<br><a "
            'href="https://shop.example.org/health">https://shop.example.org/he'
            "alth</a> · 2024-09-25 01:58:35 (Europe/Berlin)</p>"
        ),
    ),
]


@pytest.mark.parametrize(("sample", "plain", "html"), EXPECTED, ids=[row[0] for row in EXPECTED])
def test_samples(sample: str, plain: str, html: str) -> None:
    result = render_format(sample.split(".")[0], load(sample))
    # Thread keys are checked on their own below.
    assert replace(result, thread_key=None, thread_edit_root=False) == TransformResult(
        plain=plain, html=html
    )


def test_every_sample_has_a_row_and_every_format_a_sample() -> None:
    files = sorted(path.name for path in SAMPLES.glob("*.json"))
    assert files == [row[0] for row in EXPECTED]
    assert {name.split(".")[0] for name in files} == set(FORMATS)
    assert FORMATS == ("alertmanager", "grafana", "uptime-kuma", "sentry")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "nagios",
            {},
            "Unknown format 'nagios' (known: alertmanager, grafana, uptime-kuma, sentry)",
        ),
        ("alertmanager", ["not", "an", "object"], "Format 'alertmanager' needs a JSON object body"),
        (
            "alertmanager",
            {"status": "firing"},
            "Not an Alertmanager webhook: it has no alerts list",
        ),
        ("grafana", {"title": "x"}, "Not a Grafana Alerting webhook: it has no alerts list"),
        (
            "uptime-kuma",
            {"foo": 1},
            "Not an Uptime Kuma webhook: it has no heartbeat, monitor or msg",
        ),
        (
            "sentry",
            {"action": "created", "data": {}},
            "Not a Sentry webhook: expected an issue alert, metric alert, issue or plugin payload",
        ),
    ],
)
def test_wrong_shapes(name: str, data: object, message: str) -> None:
    with pytest.raises(TransformError) as caught:
        render_format(name, data)
    assert str(caught.value) == message


def test_many_alerts_are_capped() -> None:
    data = load("alertmanager.firing.json")
    alert = data["alerts"][0]
    data["alerts"] = [copy.deepcopy(alert) for _ in range(MAX_ALERTS + 5)]
    data["truncatedAlerts"] = 2
    result = render_format("alertmanager", data)
    assert result.plain is not None and result.html is not None
    assert result.plain.count("\n- ") == MAX_ALERTS
    assert result.plain.endswith("\n\n…and 7 more alerts")
    assert result.html.count("<li>") == MAX_ALERTS
    assert result.html.endswith("<p>…and 7 more alerts</p>")


def test_payload_values_are_escaped_in_html() -> None:
    data = load("uptime-kuma.down.json")
    data["monitor"] = dict(data["monitor"], name="<script>x</script>")
    result = render_format("uptime-kuma", data)
    assert result.html is not None
    assert "<script>" not in result.html
    assert "<strong>&lt;script&gt;x&lt;/script&gt;</strong>" in result.html
    assert result.plain is not None and "**<script>x</script>**" in result.plain


def test_uptime_kuma_states() -> None:
    data = load("uptime-kuma.up.json")
    heartbeat = dict(data["heartbeat"])
    for status, start in (
        (2, "🟡 **Example Shop** is pending"),
        (3, "🔧 **Example Shop** is under maintenance"),
    ):
        data["heartbeat"] = heartbeat | {"status": status}
        result = render_format("uptime-kuma", data)
        assert result.plain is not None and result.plain.startswith(start)


def test_sentry_issue_actions() -> None:
    data = load("sentry.issue.created.json")
    data["action"] = "resolved"
    result = render_format("sentry", data)
    assert result.plain is not None
    assert result.plain.startswith("✅ Issue resolved: [FRONT-END-9 ReferenceError")


def test_alerts_carry_a_thread_key_and_resolved_edits_the_root() -> None:
    firing = load("alertmanager.firing.json")
    one = {**firing, "alerts": [{**firing["alerts"][0], "fingerprint": "abc"}]}
    result = render_format("alertmanager", one)
    assert result.thread_key == "alert:abc" and not result.thread_edit_root
    done = {**one, "status": "resolved", "alerts": [{**one["alerts"][0], "status": "resolved"}]}
    resolved = render_format("alertmanager", done)
    assert resolved.thread_key == "alert:abc" and resolved.thread_edit_root
    group = render_format("grafana", {**firing, "groupKey": "{}:{a=1}"})
    assert len(firing["alerts"]) > 1 and group.thread_key == "alert-group:{}:{a=1}"
