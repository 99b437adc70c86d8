"""Config loading: hookshot's layout, its defaults and legacy keys, and problems by key."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.paths import ROOT

from hookshot.config import (
    Config,
    ConfigProblems,
    Listener,
    load_config,
    parse_config,
    parse_size,
)
from hookshot.core.permissions import Level, check_permission
from hookshot.core.rate_limit import RateLimit
from hookshot.errors import ConfigError


def minimal(**sections: Any) -> dict[str, Any]:
    """The smallest valid config, with `sections` replacing or adding top-level keys."""
    raw: dict[str, Any] = {
        "bridge": {"domain": "localhost", "url": "http://localhost:8008", "port": 9993},
        "listeners": [{"port": 9000, "resources": ["webhooks"]}],
        "generic": {"enabled": True, "urlPrefix": "http://localhost:9000/webhook/"},
        "permissions": [{"actor": "localhost", "services": [{"service": "*", "level": "admin"}]}],
    }
    raw.update(sections)
    return {k: v for k, v in raw.items() if v is not None}


def problems_of(raw: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, str]:
    with pytest.raises(ConfigProblems) as caught:
        parse_config(raw, env=env)
    found = {p.key: p.message for p in caught.value.problems}
    assert len(found) == len(caught.value.problems), "one problem per key"
    return found


# --- the sample and hookshot's own layout -----------------------------------------------------


def test_sample_loads_cleanly() -> None:
    config = load_config(ROOT / "config.sample.yml")
    assert config.warnings == ()
    assert config.bridge.domain == "localhost"
    assert config.bridge.url == "http://localhost:8008"
    assert config.webhook_base_url == "http://localhost:9000/webhook/"
    assert config.listener_for("webhooks") == Listener(9000, ("webhooks", "metrics"), "127.0.0.1")
    assert config.storage.path == "./data/hookshot.db"
    assert config.enabled_services == ("generic",)
    assert check_permission(config.permissions, "@me:localhost", "webhooks", Level.ADMIN)


HOOKSHOT_STYLE = """
bridge:
  domain: matrix.acme.test
  url: http://localhost:8008
  mediaUrl: https://matrix.acme.test
  port: 9993
  bindAddress: 127.0.0.1
passFile: ./passkey.pem
logging:
  level: INFO
  colorize: true
  json: false
  timestampFormat: HH:mm:ss:SSS
listeners:
  - port: 9000
    bindAddress: 0.0.0.0
    resources: [webhooks]
  - port: 9001
    bindAddress: 127.0.0.1
    resources: [metrics, provisioning]
  - port: 9002
    bindAddress: 0.0.0.0
    prefix: /widgets/
    resources: [widgets]
github:
  auth: {id: 123, privateKeyFile: github-key.pem}
  webhook: {secret: secrettoken}
gitlab:
  instances: {gitlab.com: {url: "https://gitlab.com"}}
  webhook: {secret: secrettoken, publicUrl: "https://hooks.acme.test/hookshot/"}
  commentDebounceMs: 5000
feeds: {enabled: false, pollIntervalSeconds: 600}
generic:
  enabled: true
  outbound: true
  enableHttpGet: false
  urlPrefix: https://hooks.acme.test/webhook
  userIdPrefix: _webhooks_
  allowJsTransformationFunctions: false
  waitForComplete: false
  maxExpiryTime: 30d
  sendExpiryNotice: false
  payloadSizeLimit: 10mb
  includeHookBody: false
bot:
  displayname: Hookshot Bot
  avatar: mxc://half-shot.uk/2876e89ccade4cb615e210c458e2a7a6883fe17d
serviceBots:
  - {localpart: feeds, displayname: Feeds, prefix: "!feeds", service: feeds}
metrics: {enabled: true}
cache: {redisUri: "redis://localhost:6379"}
widgets:
  addToAdminRooms: false
  publicUrl: https://hooks.acme.test/widgetapi/v1/static/
  branding: {widgetTitle: Hookshot Configuration}
sentry: {dsn: "https://key@o0.ingest.sentry.io/0", environment: production}
encryption: {storagePath: ./cryptostore}
permissions:
  - actor: "*"
    services: [{service: "*", level: commands}]
  - actor: "!TlZdPIYrhwNvXlBiEk:acme.test"
    services: [{service: github, level: manageConnections}]
  - actor: support.acme.test
    services: [{service: jira, level: login}, {service: github, level: commands}]
  - actor: "@alice:acme.test"
    services: [{service: "*", level: admin}]
"""


def test_hookshot_style_config_loads() -> None:
    config = parse_config(yaml.safe_load(HOOKSHOT_STYLE))
    assert config.github is not None
    assert config.github.webhook_secret == "secrettoken"
    assert config.github.app_id == "123"
    assert config.github.private_key_file == "github-key.pem"
    assert "github" in config.enabled_services
    # Values hookshot reads, read the same way.
    assert config.logging.level == "info"
    assert config.bridge.media_url == "https://matrix.acme.test"
    assert config.generic is not None
    assert config.generic.hook_url("abc") == "https://hooks.acme.test/webhook/abc"
    assert config.generic.max_expiry_time == timedelta(days=30)
    assert config.generic.payload_size_limit == 10 * 1024 * 1024
    assert config.generic.include_hook_body is False
    assert config.generic.outbound is True
    assert config.metrics is not None
    assert config.metrics.enabled
    assert config.cache is not None
    assert config.cache.redis_uri == "redis://localhost:6379"
    assert config.queue is None
    # Listeners: provisioning is gone from hookshot 7, prefixes lose their trailing slash.
    assert [lst.resources for lst in config.listeners] == [
        ("webhooks",),
        ("metrics",),
        ("widgets",),
    ]
    widgets = config.listener_for("widgets")
    assert widgets is not None
    assert widgets.prefix == "/widgets"
    # Sections we do not serve yet are kept raw and warned about, never fatal.
    assert config.gitlab is not None
    assert config.gitlab.instances == {"gitlab.com": "https://gitlab.com"}
    assert config.gitlab.comment_debounce_ms == 5000
    assert config.gitlab.public_url == "https://hooks.acme.test/hookshot/"
    assert config.gitlab.instance_for_url("https://gitlab.com/a/b") == "gitlab.com"
    assert config.widgets is not None and config.widgets.public_url.startswith("https://")
    for name in ("serviceBots", "sentry", "encryption"):
        assert name in config.unsupported
        assert any(w.startswith(f"{name} is not supported yet") for w in config.warnings)
    # feeds is a service of ours now; `enabled: false` leaves it off, without a warning.
    assert "feeds" not in config.unsupported and "feeds" not in config.services
    assert not any(w.startswith("feeds") for w in config.warnings)
    assert any("provisioning" in w for w in config.warnings)
    assert set(config.enabled_services) == {"generic", "genericOutbound", "github", "gitlab"}
    assert check_permission(config.permissions, "@sam:support.acme.test", "jira", "login")
    assert not check_permission(config.permissions, "@sam:support.acme.test", "github", "login")


def test_config_is_frozen() -> None:
    config = parse_config(minimal())
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.bridge.port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.unsupported["github"] = {}  # type: ignore[index]


# --- defaults ---------------------------------------------------------------------------------


def test_defaults_match_hookshot() -> None:
    config = parse_config(minimal(permissions=None))
    assert config.logging.level == "info"
    assert config.logging.json is False
    assert config.pass_file == "./passkey.pem"
    assert config.bridge.bind_address == "127.0.0.1"
    assert config.listeners[0].bind_address == "127.0.0.1"
    assert config.listeners[0].prefix == ""
    generic = config.generic
    assert generic is not None
    assert generic.payload_size_limit == 1024 * 1024
    assert generic.include_hook_body is True
    assert (generic.enable_http_get, generic.wait_for_complete, generic.outbound) == (
        False,
        False,
        False,
    )
    assert generic.max_expiry_time is None
    assert generic.user_id_prefix is None
    # No permissions: the bridge's own domain is admin everywhere, with a warning.
    assert check_permission(config.permissions, "@u:localhost", "github", "admin")
    assert not check_permission(config.permissions, "@u:elsewhere", "github", "commands")
    assert any(w.startswith("permissions is not set") for w in config.warnings)


def test_url_prefix_gets_a_trailing_slash() -> None:
    config = parse_config(
        minimal(generic={"enabled": True, "urlPrefix": "https://hooks.acme.test/hooks"})
    )
    assert config.webhook_base_url == "https://hooks.acme.test/hooks/"


# --- problems ---------------------------------------------------------------------------------


def test_every_problem_is_reported_at_once() -> None:
    raw = minimal(
        bridge={"domain": "", "url": "localhost:8008", "port": "abc"},
        generic={"enabled": "yes please", "urlPrefix": "/webhook/"},
        logging={"level": "verbose"},
        permissions=[{"actor": "@nobody", "services": [{"service": "github", "level": "root"}]}],
    )
    assert problems_of(raw) == {
        "bridge.domain": "is required",
        "bridge.url": "must be an absolute http(s) URL",
        "bridge.port": "must be a port number from 1 to 65535, not 'abc'",
        "logging.level": "must be one of error, warn, info, debug, trace",
        "permissions.0.actor": "'@nobody' is not a user id (@user:server)",
        "permissions.0.services.0.level": (
            "must be one of commands, login, notifications, manageConnections, admin, not 'root'"
        ),
        "generic.enabled": "must be true or false, not a string",
        "generic.urlPrefix": "must be an absolute http(s) URL",
    }


def test_problems_render_with_their_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(minimal(bridge={"domain": "localhost", "url": "http://localhost:8008"}))
    assert isinstance(caught.value, ConfigProblems)
    assert caught.value.key == "bridge.port"
    assert str(caught.value) == "1 problem in the config:\n  bridge.port: is required"


@pytest.mark.parametrize(
    ("raw", "key", "message"),
    [
        (minimal(bridge=None), "bridge", "is required (domain, url, port)"),
        (minimal(bridge=["localhost"]), "bridge", "must be a mapping, not a list"),
        (minimal(listeners={"port": 9000}), "listeners", "must be a list, not a mapping"),
        (minimal(listeners=["9000"]), "listeners.0", "must be a mapping, not a string"),
        (
            minimal(listeners=[{"port": "abc", "resources": ["webhooks"]}]),
            "listeners.0.port",
            "must be a port number from 1 to 65535, not 'abc'",
        ),
        (
            minimal(listeners=[{"port": 70000, "resources": ["webhooks"]}]),
            "listeners.0.port",
            "must be a port number from 1 to 65535, not 70000",
        ),
        (
            minimal(listeners=[{"port": True, "resources": ["webhooks"]}]),
            "listeners.0.port",
            "must be a port number from 1 to 65535, not True",
        ),
        (
            minimal(listeners=[{"resources": ["webhooks"]}]),
            "listeners.0.port",
            "is required",
        ),
        (
            minimal(listeners=[{"port": 9000, "resources": "webhooks"}]),
            "listeners.0.resources",
            "must be a list, not a string",
        ),
        (
            minimal(listeners=[{"port": 9000, "resources": ["webhook"]}]),
            "listeners.0.resources.0",
            "must be one of webhooks, widgets, metrics, not 'webhook'",
        ),
        (
            minimal(listeners=[{"port": 9000, "prefix": "hooks", "resources": ["webhooks"]}]),
            "listeners.0.prefix",
            "must be a path starting with /",
        ),
        (
            minimal(listeners=[]),
            "listeners",
            "at least one listener is required (e.g. for webhooks)",
        ),
        (
            minimal(listeners=[{"port": 9001, "resources": ["metrics"]}]),
            "listeners",
            "generic.enabled needs a listener with the webhooks resource",
        ),
        (
            minimal(bridge={"domain": "example.com", "url": "http://localhost:8008", "port": 9993}),
            "bridge.domain",
            "example.com is the sample's placeholder; use your server name",
        ),
        (
            minimal(bridge={"domain": "https://x.org", "url": "http://localhost:8008", "port": 1}),
            "bridge.domain",
            "must be the homeserver's server name, e.g. matrix.org",
        ),
        (
            minimal(generic={"enabled": True}),
            "generic.urlPrefix",
            "is required: the public URL hooks are reached at",
        ),
        (
            minimal(generic={"enabled": True, "urlPrefix": "https://example.com/webhook/"}),
            "generic.urlPrefix",
            "example.com is the sample's placeholder; use your own host",
        ),
        (
            minimal(generic={"enabled": True, "urlPrefix": "ftp://hooks.acme.test/"}),
            "generic.urlPrefix",
            "must be an absolute http(s) URL",
        ),
        (
            minimal(generic={"enabled": True, "urlPrefix": "https://h.acme.test/w?x=1"}),
            "generic.urlPrefix",
            "must not have a query or fragment (hook ids are appended)",
        ),
        (
            minimal(
                generic={"enabled": True, "urlPrefix": "http://h.test/", "userIdPrefix": "Web"}
            ),
            "generic.userIdPrefix",
            "may only hold a-z, 0-9 and . _ = - / +",
        ),
        (
            minimal(generic={"enabled": False, "urlPrefix": "http://h.test/"}),
            "generic.enabled",
            "no service is enabled; set generic.enabled: true (or configure github/gitlab)",
        ),
        (minimal(permissions="everyone"), "permissions", "must be a list, not a string"),
        (
            minimal(permissions=[{"actor": "*"}]),
            "permissions.0.services",
            "must be a list, not empty",
        ),
        (
            minimal(permissions=[{"actor": "*", "services": [{"service": "github"}]}]),
            "permissions.0.services.0.level",
            "is required",
        ),
        (
            minimal(permissions=[{"actor": "!nope", "services": []}, {"actor": "#perm"}]),
            "permissions.1.actor",
            "'#perm' is not a room alias (#alias:server)",
        ),
        (
            minimal(permissions=[{"actor": "!abc:", "services": []}]),
            "permissions.0.actor",
            "'!abc:' is not a room id (!opaque:server)",
        ),
        (minimal(passFile=["a"]), "passFile", "must be a string, not a list"),
        (
            minimal(cache={"redisUri": "localhost:6379"}),
            "cache.redisUri",
            ("must be a redis://, rediss:// or unix:// URI"),
        ),
        (
            minimal(experimentalEncryption={"storagePath": "x"}),
            "experimentalEncryption",
            ("this key is now called `encryption`; rename it"),
        ),
    ],
)
def test_problem_table(raw: dict[str, Any], key: str, message: str) -> None:
    assert problems_of(raw).get(key) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1 fortnight", "'1 fortnight' is not a duration (examples: 30m, 12h, 7d, 2w)"),
        ("30", "'30' is not a duration (examples: 30m, 12h, 7d, 2w)"),
        ("0d", "must be longer than zero"),
        (30, "must be a duration string such as 30d"),
    ],
)
def test_max_expiry_time_problems(value: object, message: str) -> None:
    generic = {"enabled": True, "urlPrefix": "http://h.test/", "maxExpiryTime": value}
    assert problems_of(minimal(generic=generic)) == {"generic.maxExpiryTime": message}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("1h 30m", timedelta(minutes=90)),
        ("2 weeks", timedelta(weeks=2)),
    ],
)
def test_max_expiry_time(value: str, expected: timedelta) -> None:
    generic = {"enabled": True, "urlPrefix": "http://h.test/", "maxExpiryTime": value}
    config = parse_config(minimal(generic=generic))
    assert config.generic is not None
    assert config.generic.max_expiry_time == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1mb", 1048576), ("500kb", 512000), ("1.5MB", 1572864), ("1gb", 1024**3), (2048, 2048)],
)
def test_payload_size_limit(value: str | int, expected: int) -> None:
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", ["1 mb", "10", "1tb", "mb", "-1mb", 0, True, ["1mb"]])
def test_payload_size_limit_problems(value: object) -> None:
    generic = {"enabled": True, "urlPrefix": "http://h.test/", "payloadSizeLimit": value}
    assert problems_of(minimal(generic=generic))["generic.payloadSizeLimit"].startswith("must be")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, RateLimit(10, 100)),
        ({"perSecond": 2, "burst": 20}, RateLimit(2, 20)),
        ({"burst": 50}, RateLimit(10, 50)),  # unset fields keep the default
        ({"perSecond": 5.0}, RateLimit(5, 100)),
        ({"perSecond": 0}, RateLimit(0, 100)),  # explicitly off
    ],
)
def test_hook_rate_limit(value: object, expected: RateLimit) -> None:
    generic = {"enabled": True, "urlPrefix": "http://h.test/", "rateLimit": value}
    config = parse_config(minimal(generic=generic))
    assert config.generic is not None
    assert config.generic.rate_limit == expected
    assert config.generic.rate_limit.active == bool(expected.per_second)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10, "must be an object {perSecond, burst}"),
        ({"perSecond": "10/s"}, "perSecond must be a whole number"),
        ({"perSecond": 0.5}, "perSecond must be a whole number"),
        ({"burst": 0.5}, "burst must be a whole number"),
        ({"persecond": 10}, "has unknown field(s) persecond"),
    ],
)
def test_hook_rate_limit_problems(value: object, message: str) -> None:
    generic = {"enabled": True, "urlPrefix": "http://h.test/", "rateLimit": value}
    assert problems_of(minimal(generic=generic))["generic.rateLimit"].startswith(message)


# --- listeners --------------------------------------------------------------------------------


def test_legacy_listener_keys_become_listeners_with_warnings() -> None:
    raw = minimal(
        listeners=None,
        webhook={"port": 9000, "bindAddress": "0.0.0.0"},
        metrics={"enabled": True, "port": 9001, "bindAddress": "127.0.0.1"},
        widgets={"port": 9002, "publicUrl": "https://h.acme.test/widgetapi/v1/static/"},
    )
    config = parse_config(raw)
    assert config.listeners == (
        Listener(9000, ("webhooks",), "0.0.0.0"),
        Listener(9001, ("metrics",), "127.0.0.1"),
        Listener(9002, ("widgets",), "127.0.0.1"),
    )
    for key in ("webhook.port", "metrics.port", "widgets.port"):
        assert any(w.startswith(f"{key} is deprecated") for w in config.warnings)
    assert config.metrics is not None
    assert config.metrics.enabled


def test_legacy_listeners_add_to_listeners() -> None:
    raw = minimal(metrics={"enabled": True, "port": 9001})
    config = parse_config(raw)
    assert [lst.port for lst in config.listeners] == [9000, 9001]
    assert config.listener_for("metrics") == Listener(9001, ("metrics",))
    assert config.listener_for("widgets") is None


@pytest.mark.parametrize(
    ("listeners", "key", "message"),
    [
        (
            [{"port": 9000, "resources": ["webhooks"]}, {"port": 9000, "resources": ["metrics"]}],
            "listeners.1",
            "port 9000 is already used by listeners.0",
        ),
        (
            [{"port": 9000, "resources": ["webhooks"]}, {"port": 9993, "resources": ["metrics"]}],
            "listeners.1",
            "port 9993 is already used by bridge.port",
        ),
        (
            [
                {"port": 9000, "bindAddress": "0.0.0.0", "resources": ["webhooks"]},
                {"port": 9000, "bindAddress": "10.1.2.3", "resources": ["metrics"]},
            ],
            "listeners.1",
            "port 9000 is already used by listeners.0",
        ),
    ],
)
def test_port_clashes(listeners: list[dict[str, Any]], key: str, message: str) -> None:
    assert problems_of(minimal(listeners=listeners)) == {key: message}


def test_same_port_on_distinct_addresses_is_fine() -> None:
    listeners = [
        {"port": 9000, "bindAddress": "127.0.0.1", "resources": ["webhooks"]},
        {"port": 9000, "bindAddress": "10.1.2.3", "resources": ["metrics"]},
    ]
    config = parse_config(minimal(listeners=listeners))
    assert len(config.listeners_for("webhooks")) == 1


def test_port_may_be_a_numeric_string() -> None:
    config = parse_config(minimal(listeners=[{"port": "9000", "resources": ["webhooks"]}]))
    assert config.listeners[0].port == 9000


# --- warnings, not failures -------------------------------------------------------------------


def test_unknown_keys_are_warnings() -> None:
    raw = minimal(
        goNebMigrator={"apiUrl": "x"},
        frobnicate=True,
        generic={
            "enabled": True,
            "urlPrefix": "http://h.test/",
            "urlprefix": "typo",
            "disallowedIpRanges": ["127.0.0.0/8"],
        },
    )
    config = parse_config(raw)
    assert "frobnicate is not a known key and is ignored" in config.warnings
    assert "generic.urlprefix is not a known key and is ignored" in config.warnings
    assert "generic.disallowedIpRanges is not supported yet and is ignored" in config.warnings
    assert any(w.startswith("goNebMigrator:") for w in config.warnings)
    assert "frobnicate" not in config.unsupported


def test_permission_oddities_are_warnings() -> None:
    raw = minimal(
        permissions=[
            {"actor": "#room:acme.test", "services": [{"service": "github", "level": "admin"}]},
            {"actor": "not a server", "services": [{"service": "slack", "level": "login"}]},
        ]
    )
    config = parse_config(raw)
    assert not any("#room:acme.test" in w for w in config.warnings)  # aliases are actors
    assert any("'not a server' is not" in w for w in config.warnings)
    assert any("unknown service 'slack'" in w for w in config.warnings)


# --- queue and cache --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("queue", "queue_uri", "cache_uri"),
    [
        ({"redisUri": "redis://q:6379"}, "redis://q:6379", None),
        ({"host": "q", "port": 6380}, "redis://q:6380", None),
        ({"monolithic": True, "host": "q"}, None, "redis://q:6379"),
        ({"monolithic": False, "redisUri": "redis://q:1"}, "redis://q:1", "redis://q:1"),
    ],
)
def test_queue_forms(queue: dict[str, Any], queue_uri: str | None, cache_uri: str | None) -> None:
    config = parse_config(minimal(queue=queue))
    assert (config.queue.redis_uri if config.queue else None) == queue_uri
    assert (config.cache.redis_uri if config.cache else None) == cache_uri
    deprecated = any(w.startswith("queue.monolithic is deprecated") for w in config.warnings)
    assert deprecated is ("monolithic" in queue)


def test_queue_from_hookshot_env() -> None:
    env = {"CFG_QUEUE_MONOLITHIC": "false", "CFG_QUEUE_HOST": "redis", "CFG_QUEUE_POST": "7000"}
    config = parse_config(minimal(), env=env)
    assert config.queue is not None
    assert config.queue.redis_uri == "redis://redis:7000"
    assert problems_of(minimal(), env={"CFG_QUEUE_MONOLITHIC": "no"}) == {
        "env:CFG_QUEUE_HOST": "CFG_QUEUE_MONOLITHIC was set but host was not"
    }
    # Without env, the variables are not read at all.
    assert parse_config(minimal()).queue is None


# --- files ------------------------------------------------------------------------------------


def _static(key: str) -> dict[str, Any]:
    return {
        "connectionType": "uk.half-shot.matrix-hookshot.generic.hook",
        "stateKey": key,
        "roomId": "!room:localhost",
        "state": {"name": f"hook {key}"},
    }


def test_load_config_merges_files_like_hookshot(tmp_path: Path) -> None:
    base = minimal(connections=[_static("a")])
    extra = {"logging": {"level": "debug"}, "connections": [_static("b")]}
    (tmp_path / "a.yml").write_text(yaml.safe_dump(base))
    (tmp_path / "b.yml").write_text(yaml.safe_dump(extra))
    config = load_config(tmp_path / "a.yml", tmp_path / "b.yml")
    assert config.logging.level == "debug"
    assert [c.state_key for c in config.connections] == ["a", "b"]


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        (
            {**_static("x"), "connectionType": "uk.half-shot.matrix-hookshot.github.repository"},
            "connections.0.connectionType",
        ),
        ({**_static("x"), "roomId": "#alias:hs"}, "connections.0.roomId"),
        ({**_static("x"), "state": "nope"}, "connections.0.state"),
        ({"roomId": "!r:hs", "state": {}}, "connections.0.stateKey"),
    ],
)
def test_static_connection_problems(entry: dict[str, Any], key: str) -> None:
    assert key in problems_of(minimal(connections=[entry]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bridge: [unclosed", "is not valid YAML at line 1"),
        ("- a list", "must hold a mapping of sections, not a list"),
    ],
)
def test_load_config_file_problems(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.yml"
    path.write_text(text)
    with pytest.raises(ConfigProblems) as caught:
        load_config(path)
    assert caught.value.problems[0].message == message
    assert caught.value.problems[0].key == str(path)


def test_load_config_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(minimal(bridge=None)))
    with pytest.raises(ConfigProblems) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"1 problem in the config in {path}:")
    with pytest.raises(ConfigProblems, match="cannot read"):
        load_config(tmp_path / "missing.yml")


def test_empty_file_reports_missing_bridge(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("")
    with pytest.raises(ConfigProblems) as caught:
        load_config(path)
    assert "bridge" in {p.key for p in caught.value.problems}


def test_config_can_be_built_directly() -> None:
    # Other modules' tests build Config by hand; the defaults must make that easy.
    from hookshot.config import BridgeConfig

    config = Config(bridge=BridgeConfig("localhost", "http://localhost:8008", 9993))
    assert config.listener_for("webhooks") is None
    assert config.webhook_base_url is None


@pytest.mark.parametrize(
    ("github", "key", "message"),
    [
        ({}, "github.webhook", "is required"),
        ({"webhook": {}}, "github.webhook.secret", "is required"),
        ({"webhook": {"secret": 5}}, "github.webhook.secret", "must be a string"),
        (
            {"webhook": {"secret": "s"}, "auth": {"id": True, "privateKeyFile": "k.pem"}},
            "github.auth.id",
            "numeric id",
        ),
        ({"webhook": {"secret": "s"}, "auth": {"id": 1}}, "github.auth.privateKeyFile", "required"),
        (
            {"webhook": {"secret": "s"}, "enterpriseUrl": "ftp://ghe"},
            "github.enterpriseUrl",
            "http",
        ),
    ],
)
def test_github_section_problems(github: dict[str, Any], key: str, message: str) -> None:
    found = problems_of(minimal(github=github))
    assert key in found, found
    assert message in found[key]


def test_github_section_switches_github_on() -> None:
    config = parse_config(minimal(github={"webhook": {"secret": "s3cret"}}))
    assert config.github is not None and config.github.webhook_secret == "s3cret"
    assert config.github.app_id is None
    assert "github" in config.enabled_services
    assert not any(w.startswith("github") for w in config.warnings)


@pytest.mark.parametrize(
    ("gitlab", "key", "message"),
    [
        ({"webhook": {"secret": "s"}}, "gitlab.instances", "is required"),
        (
            {"instances": {"x": {}}, "webhook": {"secret": "s"}},
            "gitlab.instances.x.url",
            "required",
        ),
        (
            {"instances": {"x": {"url": "nope"}}, "webhook": {"secret": "s"}},
            "gitlab.instances.x.url",
            "http",
        ),
        ({"instances": {}}, "gitlab.webhook", "is required"),
        (
            {"instances": {}, "webhook": {"secret": "s"}, "commentDebounceMs": "soon"},
            "gitlab.commentDebounceMs",
            "milliseconds",
        ),
    ],
)
def test_gitlab_section_problems(gitlab: dict[str, Any], key: str, message: str) -> None:
    found = problems_of(minimal(gitlab=gitlab))
    assert key in found, found
    assert message in found[key]


# --- shutdown and logging (ours) ---------------------------------------------------------------


def test_shutdown_grace_defaults_to_ten_seconds_and_is_checked() -> None:
    assert parse_config(minimal()).shutdown.grace_seconds == 10.0
    assert parse_config(minimal(shutdown={"graceSeconds": 2.5})).shutdown.grace_seconds == 2.5
    for bad in (-1, "10", True, 4000):
        assert problems_of(minimal(shutdown={"graceSeconds": bad})) == {
            "shutdown.graceSeconds": "must be a number of seconds from 0 to 3600"
        }


@pytest.mark.parametrize(
    ("logging", "json_lines", "access"),
    [
        ({}, False, False),
        ({"json": True}, True, False),
        ({"format": "json"}, True, False),
        ({"format": "JSON", "json": True}, True, False),
        ({"format": "text"}, False, False),
        ({"accessLog": True}, False, True),
    ],
)
def test_logging_json_and_access_log(
    logging: dict[str, Any], json_lines: bool, access: bool
) -> None:
    config = parse_config(minimal(logging=logging))
    assert (config.logging.json, config.logging.access_log) == (json_lines, access)


def test_logging_format_must_be_known_and_agree_with_json() -> None:
    assert problems_of(minimal(logging={"format": "xml"})) == {
        "logging.format": "must be json or text"
    }
    assert problems_of(minimal(logging={"format": "text", "json": True})) == {
        "logging.format": "says text but logging.json says True"
    }


def test_digest_defaults_and_bounds() -> None:
    config = parse_config(minimal())
    assert (config.digest.threshold, config.digest.max_events) == (20, 200)
    config = parse_config(minimal(digest={"threshold": 5, "maxEvents": 50}))
    assert (config.digest.threshold, config.digest.max_events) == (5, 50)
    for bad in (1, 1001, "20", True, 2.5):
        assert problems_of(minimal(digest={"threshold": bad, "maxEvents": bad})) == {
            "digest.threshold": "must be a whole number from 2 to 1000",
            "digest.maxEvents": "must be a whole number from 2 to 1000",
        }
