"""The bridge config: hookshot's `config.yml` layout, read into typed, frozen sections.

`parse_config()` validates everything once and raises `ConfigProblems` listing every problem
found, each under its dotted key (`listeners.0.port: must be a number from 1 to 65535`).
Sections of hookshot's config that we do not act on yet (github, gitlab, widgets, …) are kept
raw in `Config.unsupported` with a warning, so a hookshot config loads unchanged; keys nobody
knows are warned about too. Warnings are returned in `Config.warnings`, never logged here.

Our own addition is the optional `storage` section (embedded SQLite path).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

import yaml

from hookshot.core import digest
from hookshot.core.permissions import (
    ANY,
    SERVER_NAME,
    SERVICES,
    ActorPermission,
    Level,
    ServicePermission,
    canonical_service,
    default_permissions,
    room_actor_problem,
)
from hookshot.errors import ConfigError
from hookshot.services.generic.config import GenericConfig
from hookshot.services.github.config import GitHubConfig
from hookshot.services.gitlab.config import GitLabConfig
from hookshot.widget.settings import WidgetSettings, parse_widget_settings

# --- vocabulary -------------------------------------------------------------------------------

RESOURCES: Final[tuple[str, ...]] = ("webhooks", "widgets", "metrics")
# Accepted in `listeners[].resources` but served by nobody: hookshot 7 removed the provisioning
# API and its sample still lists it; its defaults mention "modules".
IGNORED_RESOURCES: Final[tuple[str, ...]] = ("provisioning", "modules")

# Hookshot sections we accept and keep raw until we implement them.
UNSUPPORTED_SECTIONS: Final[tuple[str, ...]] = (
    "figma",
    "jira",
    "openProject",
    "challengeHound",
    "sentry",
    "encryption",
    "serviceBots",
    "messaging",
)
# Sections hookshot itself removed and only warns about.
REMOVED_SECTIONS: Final[dict[str, str]] = {
    "provisioning": "the provisioning API was removed in hookshot 7; remove `provisioning`",
    "goNebMigrator": "the GoNEB migrator was removed from hookshot; remove `goNebMigrator`",
}

DEFAULT_BIND_ADDRESS: Final = "127.0.0.1"
DEFAULT_PASS_FILE: Final = "./passkey.pem"
DEFAULT_STORAGE_PATH: Final = "./data/hookshot.db"
# Seconds SIGTERM waits for in-flight requests and sends (`shutdown.graceSeconds`).
DEFAULT_SHUTDOWN_GRACE: Final = 10.0
LOG_LEVELS: Final[tuple[str, ...]] = ("error", "warn", "info", "debug", "trace")

# RFC 2606 names used by hookshot's sample config; a real deployment never has them.
_PLACEHOLDER_DOMAINS: Final = ("example.com", "example.org", "example.net")
_WILDCARD_ADDRESSES: Final = frozenset({"0.0.0.0", "::", "[::]", "*", ""})

# --- errors -----------------------------------------------------------------------------------


class ConfigProblems(ConfigError):
    """Every problem found in one config (or registration), each a `ConfigError` with its key."""

    def __init__(
        self,
        problems: Sequence[ConfigError],
        *,
        source: str | None = None,
        what: str = "config",
    ) -> None:
        if not problems:
            raise ValueError("ConfigProblems needs at least one problem")
        super().__init__(problems[0].key, problems[0].message)
        self.problems: tuple[ConfigError, ...] = tuple(problems)
        self.source = source
        self.what = what

    def __str__(self) -> str:
        where = f" in {self.source}" if self.source else ""
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the {self.what}{where}:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


# --- sections ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    """`bridge`: the homeserver we serve and where its appservice requests reach us."""

    domain: str
    url: str
    port: int
    bind_address: str = DEFAULT_BIND_ADDRESS
    media_url: str | None = None


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    """`logging`: level is one of LOG_LEVELS, lower case."""

    level: str = "info"
    json: bool = False
    # None: decide by whether the output is a terminal.
    colorize: bool | None = None
    # Hookshot's fecha tokens (e.g. `HH:mm:ss:SSS`); kept for the log formatter to translate.
    timestamp_format: str | None = None
    # Ours: one line per HTTP request (uvicorn's access log); off, as hookshot logs none.
    access_log: bool = False


@dataclass(frozen=True, slots=True)
class Listener:
    """One HTTP listener and the resources (route groups) it serves, under `prefix`."""

    port: int
    resources: tuple[str, ...]
    bind_address: str = DEFAULT_BIND_ADDRESS
    # "" or a path starting with "/" without a trailing one; routes are mounted under it.
    prefix: str = ""

    def serves(self, resource: str) -> bool:
        """Whether `resource` is mounted on this listener."""
        return resource in self.resources


@dataclass(frozen=True, slots=True)
class StaticConnection:
    """`connections[]` (hookshot 7.3): a connection from the config, not from room state."""

    connection_type: str
    state_key: str
    room_id: str
    state: Mapping[str, object]


# Static connections hookshot supports (generic hooks); others are refused at load.
STATIC_CONNECTION_TYPES: Final = ("uk.half-shot.matrix-hookshot.generic.hook",)


@dataclass(frozen=True, slots=True)
class BotConfig:
    """`bot`: profile of the bridge bot; None leaves the profile alone."""

    displayname: str | None = None
    avatar: str | None = None


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """`metrics`: Prometheus metrics (served by a listener with the `metrics` resource)."""

    enabled: bool = False


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """`queue`: Redis for the job queues (scale-out roles)."""

    redis_uri: str
    # Ours: key prefix, so several bridges (or test runs) can share one Redis.
    prefix: str = "hookshot:"
    # Ours: seconds after which a dead consumer's in-flight job is handed to a live one.
    lease_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class CacheConfig:
    """`cache`: Redis for dedupe keys, sessions and other shared state."""

    redis_uri: str


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """`storage` (ours, not hookshot's): the embedded SQLite database file."""

    path: str = DEFAULT_STORAGE_PATH


@dataclass(frozen=True, slots=True)
class ShutdownConfig:
    """`shutdown` (ours): how long SIGTERM/SIGINT waits for requests and sends in flight;
    what is still running then stays queued for the next start."""

    grace_seconds: float = DEFAULT_SHUTDOWN_GRACE


@dataclass(frozen=True, slots=True)
class DigestConfig:
    """`digest` (ours): the bridge's threshold for connections with `digest: true` (a digest
    is sent when more than this many of one connection's messages wait in a room) and how
    many messages one digest stands for at most."""

    threshold: int = digest.DEFAULT_THRESHOLD
    max_events: int = digest.DEFAULT_MAX_EVENTS


@dataclass(frozen=True)
class Config:
    """The whole validated config. Build it with `parse_config` or `load_config`."""

    bridge: BridgeConfig
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    pass_file: str = DEFAULT_PASS_FILE
    listeners: tuple[Listener, ...] = ()
    permissions: tuple[ActorPermission, ...] = ()
    widgets: WidgetSettings | None = None
    connections: tuple[StaticConnection, ...] = ()
    bot: BotConfig = field(default_factory=BotConfig)
    metrics: MetricsConfig | None = None
    queue: QueueConfig | None = None
    cache: CacheConfig | None = None
    storage: StorageConfig = field(default_factory=StorageConfig)
    shutdown: ShutdownConfig = field(default_factory=ShutdownConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    # Settings of the services on the Service interface (services/__init__.py), by name;
    # a configured service's entry is present (its section was given).
    services: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    # Raw hookshot sections we accept but do not act on yet, by top-level key.
    unsupported: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = ()

    def listeners_for(self, resource: str) -> tuple[Listener, ...]:
        """Every listener serving `resource` (hookshot mounts it on each of them)."""
        return tuple(listener for listener in self.listeners if listener.serves(resource))

    def listener_for(self, resource: str) -> Listener | None:
        """The first listener serving `resource`, or None."""
        found = self.listeners_for(resource)
        return found[0] if found else None

    @property
    def webhook_base_url(self) -> str | None:
        """Public base of hook URLs (`generic.urlPrefix` with a trailing "/"), if configured."""
        return self.generic.url_prefix if self.generic else None

    @property
    def generic(self) -> GenericConfig | None:
        """The `generic` section's settings (the generic service's, see services/generic)."""
        found = self.services.get("generic")
        return found if isinstance(found, GenericConfig) else None

    @property
    def github(self) -> GitHubConfig | None:
        """The `github` section's settings (the GitHub service's, see services/github)."""
        found = self.services.get("github")
        return found if isinstance(found, GitHubConfig) else None

    @property
    def gitlab(self) -> GitLabConfig | None:
        """The `gitlab` section's settings (the GitLab service's, see services/gitlab)."""
        found = self.services.get("gitlab")
        return found if isinstance(found, GitLabConfig) else None

    @property
    def enabled_services(self) -> tuple[str, ...]:
        """Service kinds switched on, named as hookshot names them (supported or not)."""
        return _enabled_services(self.unsupported, self.services)


# --- readers ----------------------------------------------------------------------------------


class _Sink:
    """Collects problems and warnings so one run reports all of them."""

    def __init__(self) -> None:
        self.problems: list[ConfigError] = []
        self.warnings: list[str] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(ConfigError(key, message))

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def _type_name(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


class _Reader:
    """Typed access to one mapping of the config; records problems instead of raising."""

    def __init__(self, raw: Mapping[Any, object], path: str, sink: _Sink) -> None:
        self.raw = raw
        self.path = path
        self.sink = sink
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str) -> object:
        """The raw value, None when absent or null (hookshot treats both as unset)."""
        self.used.add(name)
        return self.raw.get(name)

    def problem(self, name: str, message: str) -> None:
        self.sink.problem(self.key(name), message)

    def required_text(self, name: str) -> str:
        value = self.get(name)
        if value is None or value == "":
            self.problem(name, "is required")
            return ""
        if not isinstance(value, str):
            self.problem(name, f"must be a string, not {_type_name(value)}")
            return ""
        return value

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            self.problem(name, f"must be a string, not {_type_name(value)}")
            return default
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(name, f"must be true or false, not {_type_name(value)}")
            return default
        return value

    def port(self, name: str, *, required: bool = False) -> int | None:
        value = self.get(name)
        if value is None:
            if required:
                self.problem(name, "is required")
            return None
        port = _as_port(value)
        if port is None:
            self.problem(name, f"must be a port number from 1 to 65535, not {value!r}")
        return port

    def section(self, name: str) -> _Reader | None:
        value = self.get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.problem(name, f"must be a mapping, not {_type_name(value)}")
            return None
        return _Reader(value, self.key(name), self.sink)

    def warn_unknown(self, ignored: Collection[str] = ()) -> None:
        """Warn about keys nobody read; `ignored` ones are known but have no effect here."""
        for name in self.raw:
            name_s = str(name)
            if name_s in self.used:
                continue
            if name_s in ignored:
                self.sink.warn(f"{self.key(name_s)} is not supported yet and is ignored")
            else:
                self.sink.warn(f"{self.key(name_s)} is not a known key and is ignored")


# What a service's `parse_config` reads its section with (services/base.py).
Section = _Reader


def parse_instances(section: _Reader, example: str) -> dict[str, str]:
    """`instances: {<name>: {url}}` of a forge's section: name -> base URL, no trailing "/"."""
    instances: dict[str, str] = {}
    raw = section.section("instances")
    if raw is None:
        section.problem("instances", f"is required: {{name: {{url: {example}}}}}")
        return instances
    for name in list(raw.raw):
        inst = raw.section(str(name))
        if inst is None:
            continue
        url = inst.required_text("url")
        if url and (why := check_http_url(url)):
            inst.problem("url", why)
        elif url:
            instances[str(name)] = url.rstrip("/")
        inst.warn_unknown()
    return instances


def _as_port(value: object) -> int | None:
    # Numeric strings too: Node's listen() takes them, and templated configs produce them.
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 1 <= value <= 65535:
        return value
    return None


def _is_placeholder_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in _PLACEHOLDER_DOMAINS)


def check_http_url(value: str) -> str | None:
    """Why `value` is not an absolute http(s) URL we can use, or None when it is."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return "must be an absolute http(s) URL"
    if parts.scheme not in ("http", "https") or not host:
        return "must be an absolute http(s) URL"
    if _is_placeholder_host(host):
        return f"{host} is the sample's placeholder; use your own host"
    return None


def _server_host(server_name: str) -> str:
    if server_name.startswith("["):
        return server_name[: server_name.find("]") + 1]
    return server_name.partition(":")[0]


# --- durations and sizes ---------------------------------------------------------------------

_SIZE: Final = re.compile(r"^(\d+(?:\.\d+)?)(kb|mb|gb)$", re.IGNORECASE)
# The `bytes` package that hookshot's body parser uses counts in powers of 1024.
_SIZE_UNITS: Final = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}


def parse_size(value: str | int) -> int:
    """Bytes in a size like hookshot's `payloadSizeLimit` (`1mb`, `500kb`; 1024-based)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value > 0:
            return value
        raise ValueError("must be larger than zero")
    match = _SIZE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError("must be a size such as '1mb', '500kb' or '10mb'")
    size = math.floor(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])
    if size <= 0:
        raise ValueError("must be larger than zero")
    return size


# --- section parsers --------------------------------------------------------------------------


def _parse_bridge(root: _Reader) -> BridgeConfig:
    sec = root.section("bridge")
    if sec is None:
        if root.raw.get("bridge") is None:
            root.problem("bridge", "is required (domain, url, port)")
        return BridgeConfig(domain="", url="", port=0)
    domain = sec.required_text("domain")
    if domain:
        if not SERVER_NAME.match(domain):
            sec.problem("domain", "must be the homeserver's server name, e.g. matrix.org")
        elif _is_placeholder_host(_server_host(domain)):
            sec.problem("domain", f"{domain} is the sample's placeholder; use your server name")
    url = sec.required_text("url")
    if url and (why := check_http_url(url)):
        sec.problem("url", why)
    port = sec.port("port", required=True) or 0
    bind_address = sec.text("bindAddress") or DEFAULT_BIND_ADDRESS
    media_url = sec.text("mediaUrl")
    if media_url and (why := check_http_url(media_url)):
        sec.problem("mediaUrl", why)
    sec.warn_unknown()
    return BridgeConfig(
        domain=domain, url=url, port=port, bind_address=bind_address, media_url=media_url
    )


def _parse_logging(root: _Reader) -> LoggingConfig:
    sec = root.section("logging")
    if sec is None:
        return LoggingConfig()
    # Hookshot lower-cases the level, so DEBUG is as good as debug.
    level = (sec.text("level") or "info").lower()
    if level not in LOG_LEVELS:
        sec.problem("level", f"must be one of {', '.join(LOG_LEVELS)}")
        level = "info"
    colorize = sec.flag("colorize", True) if sec.raw.get("colorize") is not None else None
    json_lines = sec.flag("json", False)
    # `format: json|text` is accepted too (ours); when both are given they must agree.
    form = sec.text("format")
    if form is not None:
        if form.lower() not in ("json", "text"):
            sec.problem("format", "must be json or text")
        elif sec.raw.get("json") is not None and json_lines != (form.lower() == "json"):
            sec.problem("format", f"says {form} but logging.json says {json_lines}")
        else:
            json_lines = form.lower() == "json"
    config = LoggingConfig(
        level=level,
        json=json_lines,
        colorize=colorize,
        timestamp_format=sec.text("timestampFormat"),
        access_log=sec.flag("accessLog", False),
    )
    sec.warn_unknown()
    return config


@dataclass(frozen=True, slots=True)
class _Placed:
    """A listener and the key it came from, for messages about conflicts."""

    listener: Listener
    key: str


def _parse_listener(item: _Reader) -> Listener | None:
    port = item.port("port", required=True)
    bind_address = item.text("bindAddress") or DEFAULT_BIND_ADDRESS
    prefix = item.text("prefix") or ""
    if prefix and not prefix.startswith("/"):
        item.problem("prefix", "must be a path starting with /")
    prefix = prefix.rstrip("/")
    raw_resources = item.get("resources")
    resources: list[str] = []
    if raw_resources is None:
        item.problem("resources", "is required (any of webhooks, widgets, metrics)")
    elif not isinstance(raw_resources, list):
        item.problem("resources", f"must be a list, not {_type_name(raw_resources)}")
    else:
        for index, name in enumerate(raw_resources):
            key = f"resources.{index}"
            if name in IGNORED_RESOURCES:
                item.sink.warn(f"{item.key(key)}: hookshot no longer serves {name!r}; ignored")
            elif name in RESOURCES:
                resources.append(name)
            else:
                item.problem(key, f"must be one of {', '.join(RESOURCES)}, not {name!r}")
    item.warn_unknown()
    if port is None:
        return None
    return Listener(
        port=port,
        resources=tuple(dict.fromkeys(resources)),
        bind_address=bind_address,
        prefix=prefix,
    )


def _parse_listeners(root: _Reader, metrics_raw: _Reader | None) -> list[_Placed]:
    placed: list[_Placed] = []
    raw = root.get("listeners")
    if raw is not None and not isinstance(raw, list):
        root.problem("listeners", f"must be a list, not {_type_name(raw)}")
    elif isinstance(raw, list):
        for index, entry in enumerate(raw):
            key = f"listeners.{index}"
            if not isinstance(entry, Mapping):
                root.sink.problem(key, f"must be a mapping, not {_type_name(entry)}")
                continue
            listener = _parse_listener(_Reader(entry, key, root.sink))
            if listener is not None:
                placed.append(_Placed(listener, key))
    placed.extend(_legacy_listeners(root, metrics_raw))
    return placed


def _legacy_listeners(root: _Reader, metrics: _Reader | None) -> list[_Placed]:
    """Hookshot still honours per-section ports (`webhook`, `metrics`, `widgets`)."""
    placed: list[_Placed] = []
    webhook = root.section("webhook")
    if webhook is not None:
        port = webhook.port("port")
        bind = webhook.text("bindAddress") or DEFAULT_BIND_ADDRESS
        if port is not None:
            placed.append(_Placed(Listener(port, ("webhooks",), bind), "webhook.port"))
            root.sink.warn(
                f"webhook.port is deprecated (as in hookshot): serving webhooks on {bind}:{port}"
                "; move it to `listeners`"
            )
        webhook.warn_unknown()
    if metrics is not None:
        port = metrics.port("port")
        bind = metrics.text("bindAddress") or DEFAULT_BIND_ADDRESS
        if port is not None:
            placed.append(_Placed(Listener(port, ("metrics",), bind), "metrics.port"))
            root.sink.warn(
                f"metrics.port is deprecated (as in hookshot): serving metrics on {bind}:{port}"
                "; move it to `listeners`"
            )
    widgets = root.raw.get("widgets")
    if isinstance(widgets, Mapping) and widgets.get("port") is not None:
        port = _as_port(widgets.get("port"))
        if port is None:
            root.sink.problem("widgets.port", "must be a port number from 1 to 65535")
        else:
            # Hookshot copies only the port here, so the default bind address applies.
            placed.append(_Placed(Listener(port, ("widgets",)), "widgets.port"))
            root.sink.warn(
                f"widgets.port is deprecated (as in hookshot): serving widgets on port {port}"
                "; move it to `listeners`"
            )
    return placed


def _addresses_overlap(a: str, b: str) -> bool:
    return a == b or a in _WILDCARD_ADDRESSES or b in _WILDCARD_ADDRESSES


def _check_ports(placed: Sequence[_Placed], bridge: BridgeConfig, sink: _Sink) -> None:
    # Hookshot requires a unique port per listener; a clash only shows up as EADDRINUSE there.
    taken: list[tuple[int, str, str]] = []
    if bridge.port:
        taken.append((bridge.port, bridge.bind_address, "bridge.port"))
    for item in placed:
        port, address = item.listener.port, item.listener.bind_address
        for other_port, other_address, other_key in taken:
            if port == other_port and _addresses_overlap(address, other_address):
                sink.problem(item.key, f"port {port} is already used by {other_key}")
                break
        else:
            taken.append((port, address, item.key))


def _parse_actor(item: _Reader) -> str:
    actor = item.required_text("actor")
    if not actor or actor == ANY:
        return actor
    if actor.startswith("@") and ":" not in actor:
        item.problem("actor", f"{actor!r} is not a user id (@user:server)")
    elif why := room_actor_problem(actor):
        item.problem("actor", why)
    elif not actor.startswith(("@", "!", "#")) and not SERVER_NAME.match(actor):
        item.sink.warn(
            f"{item.key('actor')}: {actor!r} is not '*', a user id, a room id or a server"
            " name, so it never matches"
        )
    return actor


def _parse_grant(item: _Reader) -> ServicePermission | None:
    service = item.text("service") or ANY
    canonical = canonical_service(service) if service != ANY else ANY
    known = _service_names()
    if canonical != ANY and canonical not in known:
        item.sink.warn(
            f"{item.key('service')}: unknown service {service!r} (known: {', '.join(known)}, or *)"
        )
    level_name = item.required_text("level")
    item.get("targets")  # part of hookshot's schema; it never consults it
    item.warn_unknown()
    if not level_name:
        return None
    try:
        level = Level.parse(level_name)
    except ValueError as exc:
        item.problem("level", f"{exc}, not {level_name!r}")
        return None
    return ServicePermission(level=level, service=canonical)


def _parse_permissions(root: _Reader, domain: str) -> tuple[ActorPermission, ...]:
    raw = root.get("permissions")
    if raw is None:
        if domain:
            root.sink.warn(
                "permissions is not set: every user on "
                f"{domain} gets admin on every service (hookshot's default)"
            )
        return default_permissions(domain)
    if not isinstance(raw, list):
        root.problem("permissions", f"must be a list, not {_type_name(raw)}")
        return ()
    perms: list[ActorPermission] = []
    for index, entry in enumerate(raw):
        key = f"permissions.{index}"
        if not isinstance(entry, Mapping):
            root.sink.problem(key, f"must be a mapping, not {_type_name(entry)}")
            continue
        item = _Reader(entry, key, root.sink)
        actor = _parse_actor(item)
        services = item.get("services")
        grants: list[ServicePermission] = []
        if not isinstance(services, list):
            item.problem("services", f"must be a list, not {_type_name(services)}")
        for s_index, s_entry in enumerate(services if isinstance(services, list) else []):
            s_key = f"{key}.services.{s_index}"
            if not isinstance(s_entry, Mapping):
                root.sink.problem(s_key, f"must be a mapping, not {_type_name(s_entry)}")
                continue
            grant = _parse_grant(_Reader(s_entry, s_key, root.sink))
            if grant is not None:
                grants.append(grant)
        item.warn_unknown()
        perms.append(ActorPermission(actor=actor, services=tuple(grants)))
    return tuple(perms)


def _parse_connections(root: _Reader) -> tuple[StaticConnection, ...]:
    raw = root.get("connections")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        root.problem("connections", f"must be a list, not {_type_name(raw)}")
        return ()
    found: list[StaticConnection] = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            root.sink.problem(f"connections.{index}", "must be a mapping")
            continue
        entry = _Reader(item, f"connections.{index}", root.sink)
        kind = entry.required_text("connectionType")
        state_key = entry.required_text("stateKey")
        room_id = entry.required_text("roomId")
        state = entry.get("state")
        if kind and kind not in STATIC_CONNECTION_TYPES:
            entry.problem("connectionType", f"must be one of {', '.join(STATIC_CONNECTION_TYPES)}")
        if room_id and not room_id.startswith("!"):
            entry.problem("roomId", "must be a room id (!...)")
        if not isinstance(state, Mapping):
            entry.problem("state", "must be a mapping")
            continue
        if kind and state_key and room_id:
            found.append(StaticConnection(kind, state_key, room_id, MappingProxyType(dict(state))))
    return tuple(found)


def _parse_bot(root: _Reader) -> BotConfig:
    sec = root.section("bot")
    if sec is None:
        return BotConfig()
    config = BotConfig(displayname=sec.text("displayname"), avatar=sec.text("avatar"))
    sec.warn_unknown()
    return config


def _parse_metrics(metrics: _Reader | None) -> MetricsConfig | None:
    if metrics is None:
        return None
    config = MetricsConfig(enabled=metrics.flag("enabled", False))
    metrics.warn_unknown()
    return config


def _check_redis_uri(reader: _Reader, name: str, uri: str) -> None:
    if uri and not uri.startswith(("redis://", "rediss://", "unix://")):
        reader.problem(name, "must be a redis://, rediss:// or unix:// URI")


def _queue_from_env(root: _Reader, env: Mapping[str, str]) -> Mapping[str, object] | None:
    """Hookshot's CFG_QUEUE_* variables, which replace the `queue` section when set."""
    if env.get("CFG_QUEUE_MONOLITHIC", "").lower() not in ("false", "off", "no"):
        return None
    host = env.get("CFG_QUEUE_HOST")
    if not host:
        root.sink.problem("env:CFG_QUEUE_HOST", "CFG_QUEUE_MONOLITHIC was set but host was not")
        return None
    # Hookshot reads the port from CFG_QUEUE_POST (sic); accept the intended spelling too.
    port = env.get("CFG_QUEUE_POST") or env.get("CFG_QUEUE_PORT")
    return {"monolithic": False, "host": host, "port": port}


def _parse_queue_and_cache(
    root: _Reader, env: Mapping[str, str]
) -> tuple[QueueConfig | None, CacheConfig | None]:
    cache: CacheConfig | None = None
    cache_sec = root.section("cache")
    if cache_sec is not None:
        uri = cache_sec.required_text("redisUri")
        _check_redis_uri(cache_sec, "redisUri", uri)
        cache = CacheConfig(uri)
        cache_sec.warn_unknown()

    env_queue = _queue_from_env(root, env)
    queue_sec = (
        _Reader(env_queue, "env:CFG_QUEUE", root.sink)
        if env_queue is not None
        else root.section("queue")
    )
    if queue_sec is None:
        return None, cache
    given_uri = queue_sec.text("redisUri")
    if given_uri:
        uri = given_uri
    else:
        # Hookshot's older form: host and port, defaulting to a local Redis.
        host = queue_sec.text("host") or "localhost"
        uri = f"redis://{host}:{queue_sec.port('port') or 6379}"
    _check_redis_uri(queue_sec, "redisUri", uri)
    prefix = queue_sec.text("prefix") or "hookshot:"
    lease = queue_sec.get("leaseSeconds")
    if lease is None:
        lease = 30.0
    elif isinstance(lease, bool) or not isinstance(lease, int | float) or not 1 <= lease <= 3600:
        queue_sec.problem("leaseSeconds", "must be a number of seconds from 1 to 3600")
        lease = 30.0
    queue = QueueConfig(uri, prefix=prefix, lease_seconds=float(lease))
    monolithic = queue_sec.get("monolithic")
    queue_sec.warn_unknown()
    if monolithic is None:
        return queue, cache
    if not isinstance(monolithic, bool):
        queue_sec.problem("monolithic", f"must be true or false, not {_type_name(monolithic)}")
        return queue, cache
    # Hookshot's deprecated form: the queue's Redis doubles as the cache, and monolithic
    # means "cache only".
    root.sink.warn("queue.monolithic is deprecated (as in hookshot); configure `cache` instead")
    return (None if monolithic else queue), CacheConfig(uri)


def _parse_storage(root: _Reader) -> StorageConfig:
    sec = root.section("storage")
    if sec is None:
        return StorageConfig()
    path = sec.text("path") or DEFAULT_STORAGE_PATH
    sec.warn_unknown()
    return StorageConfig(path=path)


def _parse_shutdown(root: _Reader) -> ShutdownConfig:
    sec = root.section("shutdown")
    if sec is None:
        return ShutdownConfig()
    grace = sec.get("graceSeconds")
    if grace is None:
        grace = DEFAULT_SHUTDOWN_GRACE
    elif isinstance(grace, bool) or not isinstance(grace, int | float) or not 0 <= grace <= 3600:
        sec.problem("graceSeconds", "must be a number of seconds from 0 to 3600")
        grace = DEFAULT_SHUTDOWN_GRACE
    sec.warn_unknown()
    return ShutdownConfig(grace_seconds=float(grace))


def _parse_digest(root: _Reader) -> DigestConfig:
    sec = root.section("digest")
    if sec is None:
        return DigestConfig()
    lo, hi = digest.MIN_THRESHOLD, digest.MAX_THRESHOLD
    values = []
    for key, default in (
        ("threshold", digest.DEFAULT_THRESHOLD),
        ("maxEvents", digest.DEFAULT_MAX_EVENTS),
    ):
        value = sec.get(key)
        if value is None:
            value = default
        elif isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            sec.problem(key, f"must be a whole number from {lo} to {hi}")
            value = default
        values.append(value)
    sec.warn_unknown()
    return DigestConfig(threshold=values[0], max_events=values[1])


def _parse_services(root: _Reader) -> dict[str, object]:
    """The sections of the services on the Service interface; absent ones are off."""
    from hookshot.services import registered  # they import this module: late, on purpose

    found: dict[str, object] = {}
    for service in registered():
        section = root.section(service.name)
        settings = service.parse_config(section) if section is not None else None
        if settings is not None:  # None: the section switches the service off
            found[service.name] = settings
    return found


def _registered_names() -> tuple[str, ...]:
    from hookshot.services import registered

    return tuple(service.name for service in registered())


def _service_names() -> tuple[str, ...]:
    return tuple(dict.fromkeys(SERVICES + _registered_names()))


def _enabled_services(
    unsupported: Mapping[str, object], services: Mapping[str, object]
) -> tuple[str, ...]:
    names: list[str] = []
    if unsupported.get("figma") is not None:
        names.append("figma")
    for name, service in (
        ("jira", "jira"),
        ("challengeHound", "challengehound"),
        ("openProject", "openproject"),
    ):
        if unsupported.get(name) is not None:
            names.append(service)
    from hookshot.services import registered

    for registered_service in registered():
        if registered_service.name not in services:
            continue
        settings = services[registered_service.name]
        # A service whose section can be given and still off says which names it enables.
        enabled_names = getattr(registered_service, "enabled_names", None)
        names += enabled_names(settings) if enabled_names else (registered_service.name,)
    return tuple(names)


# --- entry points -----------------------------------------------------------------------------

_OURS: Final = frozenset(
    {
        "bridge",
        "logging",
        "passFile",
        "listeners",
        "permissions",
        "bot",
        "metrics",
        "queue",
        "cache",
        "webhook",
        "storage",
        "shutdown",
        "digest",
        "widgets",
        "connections",
    }
)


def parse_config(raw: Mapping[str, object], *, env: Mapping[str, str] | None = None) -> Config:
    """Validate a parsed config mapping; raise ConfigProblems listing every problem.

    `env` supplies hookshot's CFG_QUEUE_* variables; pass `os.environ` to honour them.
    """
    sink = _Sink()
    if not isinstance(raw, Mapping):
        sink.problem("config", f"must be a mapping of sections, not {_type_name(raw)}")
        raise ConfigProblems(sink.problems)
    root = _Reader(raw, "", sink)

    bridge = _parse_bridge(root)
    logging_config = _parse_logging(root)
    pass_file = root.text("passFile") or DEFAULT_PASS_FILE
    metrics_sec = root.section("metrics")
    placed = _parse_listeners(root, metrics_sec)
    metrics = _parse_metrics(metrics_sec)
    permissions = _parse_permissions(root, bridge.domain)
    widgets = None
    if raw.get("widgets") is not None:
        widgets, widget_problems, widget_warnings = parse_widget_settings(raw["widgets"])
        sink.problems.extend(widget_problems)
        for warning in widget_warnings:
            sink.warn(warning)
    bot = _parse_bot(root)
    connections = _parse_connections(root)
    queue, cache = _parse_queue_and_cache(root, env or {})
    storage = _parse_storage(root)
    shutdown = _parse_shutdown(root)
    digest_config = _parse_digest(root)
    services = _parse_services(root)

    unsupported: dict[str, object] = {}
    for name, value in raw.items():
        if name in _OURS or name in _registered_names():
            continue
        if name in UNSUPPORTED_SECTIONS:
            unsupported[name] = copy.deepcopy(value)
            if value is not None:
                sink.warn(f"{name} is not supported yet; the section is kept but has no effect")
        elif name in REMOVED_SECTIONS:
            sink.warn(f"{name}: {REMOVED_SECTIONS[name]}")
        elif name == "experimentalEncryption":
            sink.problem(name, "this key is now called `encryption`; rename it")
        else:
            sink.warn(f"{name} is not a known key and is ignored")

    _check_ports(placed, bridge, sink)
    listeners = tuple(p.listener for p in placed)
    if not placed and not any(p.key.startswith("listeners") for p in sink.problems):
        sink.problem("listeners", "at least one listener is required (e.g. for webhooks)")
    webhooks_served = any(listener.serves("webhooks") for listener in listeners)
    enabled = _enabled_services(unsupported, services)
    if "generic" in enabled and listeners and not webhooks_served:
        sink.problem("listeners", "generic.enabled needs a listener with the webhooks resource")
    generic_broken = any(p.key.startswith("generic.") for p in sink.problems)
    if not enabled and not generic_broken:
        sink.problem(
            "generic.enabled",
            "no service is enabled; set generic.enabled: true (or configure github/gitlab)",
        )

    if sink.problems:
        raise ConfigProblems(sink.problems)
    return Config(
        bridge=bridge,
        logging=logging_config,
        pass_file=pass_file,
        listeners=listeners,
        permissions=permissions,
        widgets=widgets,
        connections=connections,
        bot=bot,
        metrics=metrics,
        queue=queue,
        cache=cache,
        storage=storage,
        shutdown=shutdown,
        digest=digest_config,
        services=MappingProxyType(services),
        unsupported=MappingProxyType(unsupported),
        warnings=tuple(sink.warnings),
    )


def _read_yaml(path: Path) -> Mapping[str, object]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigProblems([ConfigError(str(path), f"cannot read: {exc.strerror}")]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigProblems([ConfigError(str(path), f"is not valid YAML{where}")]) from exc
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigProblems(
            [ConfigError(str(path), f"must hold a mapping of sections, not {_type_name(data)}")]
        )
    return data


def merge_raw(documents: Iterable[Mapping[str, object]]) -> dict[str, object]:
    """Hookshot's multi-file merge: later files replace whole sections; connections add up."""
    merged: dict[str, object] = {}
    connections: list[object] = []
    for document in documents:
        merged.update(document)
        extra = document.get("connections")
        if isinstance(extra, list):
            connections.extend(extra)
    if connections:
        merged["connections"] = connections
    return merged


def load_config(
    path: str | Path, *more: str | Path, env: Mapping[str, str] | None = None
) -> Config:
    """Read and validate config file(s); extra files are merged in order, as hookshot does."""
    paths = [Path(path), *(Path(p) for p in more)]
    raw = merge_raw(_read_yaml(p) for p in paths)
    try:
        return parse_config(raw, env=env)
    except ConfigProblems as exc:
        raise ConfigProblems(exc.problems, source=", ".join(map(str, paths))) from None
