"""Built-in formats: a hook's `"format": "<name>"` renders a known service's webhook as a
readable notice, with no script or template to write.

- `alertmanager`: Prometheus Alertmanager `webhook_config` (payload version 4);
- `grafana`: Grafana Alerting's webhook contact point (the same alert groups, plus silence,
  dashboard, panel and image links and the values that fired);
- `uptime-kuma`: Uptime Kuma's webhook notification (`{heartbeat, monitor, msg}`);
- `sentry`: Sentry's issue alert, metric alert and issue webhooks (integration platform) and
  the legacy per-project WebHooks plugin.

Each renders a plain body (markdown-flavoured, values as sent) and matching HTML (values
escaped). A payload of the wrong shape raises `TransformError` saying what was expected.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import quote

from hookshot.core.threads import MAX_KEY_LENGTH
from hookshot.services.generic.format import js_number
from hookshot.services.generic.transform.result import TransformError, TransformResult

# Most alerts listed in one message; the rest are counted.
MAX_ALERTS: Final = 20
# Alertmanager's "not ended yet" timestamp.
_ZERO_TIME: Final = "0001-01-01T00:00:00Z"

_SEVERITY_BADGES: Final = {
    "critical": "🔴",
    "error": "🔴",
    "high": "🔴",
    "warning": "🟠",
    "medium": "🟠",
    "info": "🔵",
    "low": "🔵",
}


@dataclass
class _Doc:
    """Builds the plain body and the HTML side by side; values are escaped in HTML only."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)

    def text(self, value: str) -> _Doc:
        self.plain.append(value)
        self.html.append(html.escape(value, quote=False))
        return self

    def markup(self, plain: str, markup: str) -> _Doc:
        self.plain.append(plain)
        self.html.append(markup)
        return self

    def bold(self, value: str) -> _Doc:
        return self.markup(f"**{value}**", f"<strong>{html.escape(value, quote=False)}</strong>")

    def code(self, value: str) -> _Doc:
        return self.markup(f"`{value}`", f"<code>{html.escape(value, quote=False)}</code>")

    def link(self, label: str, url: str) -> _Doc:
        safe = html.escape(url)
        return self.markup(
            url if label == url else f"[{label}]({url})",
            f'<a href="{safe}">{html.escape(label, quote=False)}</a>',
        )

    def links(self, pairs: list[tuple[str, str]]) -> _Doc:
        for index, (label, url) in enumerate(pairs):
            if index:
                self.text(" | ")
            self.link(label, url)
        return self

    def result(self) -> TransformResult:
        return TransformResult(plain="".join(self.plain), html="".join(self.html))


def render_format(name: str, data: object) -> TransformResult:
    """Render `data` (a decoded webhook body) with built-in format `name`."""
    renderer = _RENDERERS.get(name)
    if renderer is None:
        raise TransformError(f"Unknown format {name!r} (known: {', '.join(FORMATS)})")
    if not isinstance(data, Mapping):
        raise TransformError(f"Format {name!r} needs a JSON object body")
    return renderer(data)


def _alertmanager(data: Mapping[str, object]) -> TransformResult:
    return _alert_group(data, "an Alertmanager", grafana=False)


def _grafana(data: Mapping[str, object]) -> TransformResult:
    return _alert_group(data, "a Grafana Alerting", grafana=True)


def _alert_group(data: Mapping[str, object], service: str, *, grafana: bool) -> TransformResult:
    alerts = [a for a in _list(data.get("alerts")) if isinstance(a, Mapping)]
    if not alerts and not isinstance(data.get("alerts"), list):
        raise TransformError(f"Not {service} webhook: it has no alerts list")
    firing = [a for a in alerts if _str(a.get("status")) != "resolved"]
    resolved = [a for a in alerts if _str(a.get("status")) == "resolved"]
    doc = _Doc().markup("", "<p>")
    doc.text("🔥 " if firing else "✅ ").bold(_group_title(data, len(firing))).markup("", "</p>")
    external = _str(data.get("externalURL"))
    common = _labels(data.get("commonLabels"))
    shown = 0
    for heading, group in (("Firing", firing), ("Resolved", resolved)):
        if not group or shown >= MAX_ALERTS:
            continue
        if firing and resolved:
            doc.markup(f"\n\n{heading}:", f"<p>{heading}:</p>")
        else:
            doc.markup("\n", "")
        doc.markup("", "<ul>")
        for alert in group[: MAX_ALERTS - shown]:
            doc.markup("\n- ", "<li>")
            _alert_line(doc, alert, external, common, grafana=grafana)
            doc.markup("", "</li>")
            shown += 1
        doc.markup("", "</ul>")
    hidden = len(alerts) - shown + _int(data.get("truncatedAlerts"))
    if hidden > 0:
        more = f"…and {hidden} more alert{'s' if hidden != 1 else ''}"
        doc.markup(f"\n\n{more}", f"<p>{html.escape(more)}</p>")
    result = doc.result()
    key = _alert_thread_key(data, alerts)
    if key is None:
        return result
    return replace(result, thread_key=key, thread_edit_root=not firing)


def _alert_thread_key(data: Mapping[str, object], alerts: list[Mapping[str, object]]) -> str | None:
    """One alert: its fingerprint; a group of several: the group's key (the fingerprints of
    a group change as alerts join it, its key does not)."""
    if len(alerts) == 1 and _str(alerts[0].get("fingerprint")):
        return f"alert:{_str(alerts[0].get('fingerprint'))}"[:MAX_KEY_LENGTH]
    group = _str(data.get("groupKey"))
    return f"alert-group:{group}"[:MAX_KEY_LENGTH] if group else None


def _group_title(data: Mapping[str, object], firing: int) -> str:
    # Alertmanager's default title: [STATUS:count] group values (other common values).
    status = _str(data.get("status")) or ("firing" if firing else "resolved")
    title = f"[{status.upper()}{f':{firing}' if status == 'firing' else ''}]"
    group = _labels(data.get("groupLabels"))
    common = _labels(data.get("commonLabels"))
    values = [group[key] for key in sorted(group)]
    extra = [common[key] for key in sorted(common) if key not in group]
    if values:
        title += " " + " ".join(values)
    if extra:
        title += f" ({' '.join(extra)})"
    return title


def _alert_line(
    doc: _Doc,
    alert: Mapping[str, object],
    external: str,
    common: dict[str, str],
    *,
    grafana: bool,
) -> None:
    labels = _labels(alert.get("labels"))
    annotations = _labels(alert.get("annotations"))
    severity = labels.get("severity", "").lower()
    badge = _SEVERITY_BADGES.get(severity)
    resolved = _str(alert.get("status")) == "resolved"
    if badge and not resolved:
        doc.text(f"{badge} ")
    doc.bold(labels.get("alertname") or "alert")
    if "instance" in labels:
        doc.text(" on ").code(labels["instance"])
    summary = annotations.get("summary") or annotations.get("description") or ""
    if summary:
        doc.text(f": {summary}")
    # The labels that tell this alert from the rest of its group.
    facts = [
        f"{key}={labels[key]}"
        for key in sorted(labels)
        if key not in common and key not in ("alertname", "instance", "severity")
    ]
    if severity:
        facts.append(severity)
    when = _when(alert, resolved)
    if when:
        facts.append(when)
    if grafana:
        values = _grafana_values(alert)
        if values:
            facts.append(values)
    if facts:
        doc.text(f" ({', '.join(facts)})")
    links: list[tuple[str, str]] = []
    for label, url in (
        ("source", _str(alert.get("generatorURL"))),
        ("runbook", annotations.get("runbook_url", "")),
        ("dashboard", _str(alert.get("dashboardURL")) if grafana else ""),
        ("panel", _str(alert.get("panelURL")) if grafana else ""),
        ("image", _str(alert.get("imageURL")) if grafana else ""),
    ):
        if _is_http(url):
            links.append((label, url))
    if not resolved:
        silence = (
            _str(alert.get("silenceURL")) if grafana else _silence_url(external, alert, labels)
        )
        if _is_http(silence):
            links.append(("silence", silence))
    if links:
        doc.text(" — ").links(links)


def _silence_url(external: str, alert: Mapping[str, object], labels: dict[str, str]) -> str:
    if not _is_http(external) or not labels:
        return ""
    # The Alertmanager UI's "new silence" form, prefilled with this alert's labels.
    matchers = ",".join(f'{key}="{labels[key]}"' for key in sorted(labels))
    return f"{external.rstrip('/')}/#/silences/new?filter={quote('{' + matchers + '}')}"


def _when(alert: Mapping[str, object], resolved: bool) -> str:
    started = _time(alert.get("startsAt"))
    if resolved:
        ended = _time(alert.get("endsAt"))
        if started and ended and ended >= started:
            return f"lasted {_duration(ended - started)}"
        return ""
    return f"since {started:%Y-%m-%d %H:%M} UTC" if started else ""


def _grafana_values(alert: Mapping[str, object]) -> str:
    values = alert.get("values")
    if isinstance(values, Mapping) and values:
        return ", ".join(f"{key}={_number(values[key])}" for key in sorted(values))
    return _str(alert.get("valueString"))


def _uptime_kuma(data: Mapping[str, object]) -> TransformResult:
    message = _str(data.get("msg"))
    heartbeat = data.get("heartbeat")
    monitor = data.get("monitor")
    if not isinstance(heartbeat, Mapping) or not isinstance(monitor, Mapping):
        # Test notifications carry only `msg`.
        if message:
            return _Doc().text(message).result()
        raise TransformError("Not an Uptime Kuma webhook: it has no heartbeat, monitor or msg")
    status = heartbeat.get("status")
    badge, state = {0: ("🔴", "down"), 1: ("✅", "up"), 2: ("🟡", "pending")}.get(
        status if isinstance(status, int) else -1, ("🔧", "under maintenance")
    )
    doc = _Doc().text(f"{badge} ").bold(_str(monitor.get("name")) or "Monitor")
    doc.text(f" is {state}")
    detail = _str(heartbeat.get("msg"))
    if detail:
        doc.text(f": {detail}")
    ping = heartbeat.get("ping")
    if state == "up" and isinstance(ping, int | float) and not isinstance(ping, bool):
        doc.text(f" ({_number(ping)} ms)")
    target = _monitor_target(monitor)
    when = _str(heartbeat.get("localDateTime")) or _str(heartbeat.get("time"))
    zone = _str(heartbeat.get("timezone"))
    if target or when:
        doc.markup("\n", "<br>")
        if _is_http(target):
            doc.link(target, target)
        elif target:
            doc.code(target)
        if when:
            doc.text(" · " if target else "").text(f"{when} ({zone})" if zone else when)
    return _paragraph(doc.result())


def _monitor_target(monitor: Mapping[str, object]) -> str:
    url = _str(monitor.get("url"))
    if _is_http(url) and url not in ("http://", "https://"):
        return url
    host = _str(monitor.get("hostname"))
    port = monitor.get("port")
    if host and isinstance(port, int) and not isinstance(port, bool):
        return f"{host}:{port}"
    return host


def _sentry(data: Mapping[str, object]) -> TransformResult:
    payload = data.get("data")
    action = _str(data.get("action"))
    if isinstance(payload, Mapping):
        if isinstance(payload.get("event"), Mapping):
            return _sentry_event_alert(payload)
        if isinstance(payload.get("metric_alert"), Mapping):
            return _sentry_metric_alert(action, payload)
        if isinstance(payload.get("issue"), Mapping):
            return _sentry_issue(action, payload)
    if "project_name" in data or "culprit" in data:
        return _sentry_plugin(data)
    raise TransformError(
        "Not a Sentry webhook: expected an issue alert, metric alert, issue or plugin payload"
    )


def _sentry_event_alert(payload: Mapping[str, object]) -> TransformResult:
    event = _mapping(payload.get("event"))
    rule = _str(payload.get("triggered_rule"))
    title = _str(event.get("title")) or _str(event.get("message")) or "Sentry event"
    doc = _Doc().text("🐛 ")
    if rule:
        doc.bold(rule).text(": ")
    _title_link(doc, title, _str(event.get("web_url")))
    tags = {
        _str(pair[0]): _str(pair[1])
        for pair in _list(event.get("tags"))
        if isinstance(pair, list) and len(pair) == 2
    }
    _sentry_facts(
        doc,
        level=_str(event.get("level")),
        culprit=_str(event.get("culprit")),
        extra=[f"{key} {tags[key]}" for key in ("environment", "release") if tags.get(key)],
    )
    return _paragraph(doc.result())


def _sentry_metric_alert(action: str, payload: Mapping[str, object]) -> TransformResult:
    badge = {"critical": "🔴", "warning": "🟠", "resolved": "✅"}.get(action, "📈")
    alert = _mapping(payload.get("metric_alert"))
    rule = _mapping(alert.get("alert_rule"))
    title = (
        _str(payload.get("description_title"))
        or _str(rule.get("name"))
        or _str(alert.get("title"))
        or "Metric alert"
    )
    doc = _Doc().text(f"{badge} ")
    _title_link(doc, title, _str(payload.get("web_url")))
    # The documented sample carries an escaped "\n"; show either as a line break.
    text = _str(payload.get("description_text")).replace("\\n", "\n")
    for line in filter(None, (part.strip() for part in text.split("\n"))):
        doc.markup("\n", "<br>").text(line)
    return _paragraph(doc.result())


def _sentry_issue(action: str, payload: Mapping[str, object]) -> TransformResult:
    issue = _mapping(payload.get("issue"))
    short = _str(issue.get("shortId"))
    title = _str(issue.get("title")) or "Sentry issue"
    verb = {"archived": "archived", "unresolved": "unresolved", "assigned": "assigned"}.get(
        action, action or "updated"
    )
    badge = "✅" if action == "resolved" else "🐛"
    doc = _Doc().text(f"{badge} Issue {verb}: ")
    url = _str(issue.get("web_url")) or _str(issue.get("permalink"))
    _title_link(doc, f"{short} {title}" if short else title, url)
    project = _mapping(issue.get("project"))
    extra: list[str] = []
    if _str(project.get("slug")):
        extra.append(f"project {_str(project.get('slug'))}")
    count = _str(issue.get("count"))
    if count:
        users = _int(issue.get("userCount"))
        extra.append(f"{count} event{'s' if count != '1' else ''}, {users} user")
        extra[-1] += "s" if users != 1 else ""
    assignee = _mapping(issue.get("assignedTo"))
    if action == "assigned" and _str(assignee.get("name")):
        extra.append(f"assigned to {_str(assignee.get('name'))}")
    _sentry_facts(
        doc, level=_str(issue.get("level")), culprit=_str(issue.get("culprit")), extra=extra
    )
    return _paragraph(doc.result())


def _sentry_plugin(data: Mapping[str, object]) -> TransformResult:
    event = _mapping(data.get("event"))
    title = _str(event.get("title")) or _str(data.get("message")) or "Sentry event"
    doc = _Doc().text("🐛 ")
    project = _str(data.get("project_name")) or _str(data.get("project"))
    if project:
        doc.bold(project).text(": ")
    _title_link(doc, title, _str(data.get("url")))
    rules = [_str(rule) for rule in _list(data.get("triggering_rules")) if _str(rule)]
    extra = [f"rule {', '.join(rules)}"] if rules else []
    environment = _str(event.get("environment"))
    if environment:
        extra.append(f"environment {environment}")
    _sentry_facts(
        doc, level=_str(data.get("level")), culprit=_str(data.get("culprit")), extra=extra
    )
    return _paragraph(doc.result())


def _title_link(doc: _Doc, title: str, url: str) -> None:
    if _is_http(url):
        doc.link(title, url)
    else:
        doc.bold(title)


def _sentry_facts(doc: _Doc, *, level: str, culprit: str, extra: list[str]) -> None:
    if not (level or culprit or extra):
        return
    doc.markup("\n", "<br>")
    if level:
        doc.text(level)
    if culprit:
        doc.text(" in " if level else "in ").code(culprit)
    if extra:
        doc.text((" · " if level or culprit else "") + " · ".join(extra))


def _paragraph(result: TransformResult) -> TransformResult:
    return TransformResult(plain=result.plain, html=f"<p>{result.html}</p>")


def _labels(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): _str(item) for key, item in value.items() if item is not None}


def _str(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, Mapping | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    return str(value)


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _str(value)
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        # Alert values come with 15 digits; four significant ones read better.
        return js_number(float(f"{value:.4g}"))
    return js_number(float(value)) if isinstance(value, float) else str(value)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _is_http(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def _time(value: object) -> datetime | None:
    text = _str(value)
    if not text or text == _ZERO_TIME:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes and not days else []
    parts += [f"{seconds}s"] if seconds and not (days or hours) else []
    return " ".join(parts) or "0s"


_RENDERERS: Final[dict[str, Callable[[Mapping[str, object]], TransformResult]]] = {
    "alertmanager": _alertmanager,
    "grafana": _grafana,
    "uptime-kuma": _uptime_kuma,
    "sentry": _sentry,
}
FORMATS: Final = tuple(_RENDERERS)
