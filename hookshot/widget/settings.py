"""The `widgets` config section (hookshot's src/config/sections/Widgets.ts), typed and frozen.

    widgets:
      publicUrl: https://example.com/widgetapi/v1/static    # required, as in hookshot
      addToAdminRooms: false
      roomSetupWidget: {addOnInvite: false}                 # present = setup widget enabled
      disallowedIpRanges: [127.0.0.0/8, ...]                # replaces the default list
      allowedIpRanges: []                                   # exceptions inside disallowed
      branding: {widgetTitle: Hookshot Configuration}
      openIdOverrides: {my-local-server: "http://localhost"}   # trusted, no IP checks
      port: 5069                                            # deprecated; config.py handles it

`parse_widget_settings` returns every problem at once so config.py can put them in its sink.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

from hookshot.errors import ConfigError
from hookshot.widget.openid import DEFAULT_DISALLOWED_IP_RANGES, IPNetwork, parse_networks

DEFAULT_WIDGET_TITLE = "Hookshot Configuration"
_KNOWN_KEYS = frozenset(
    {
        "publicUrl",
        "port",
        "addToAdminRooms",
        "roomSetupWidget",
        "disallowedIpRanges",
        "allowedIpRanges",
        "branding",
        "openIdOverrides",
    }
)


@dataclass(frozen=True)
class WidgetSettings:
    """`widgets`: where the widget is served from and how OpenID exchanges are guarded."""

    public_url: str  # always ends in "/"
    add_to_admin_rooms: bool = False
    room_setup_widget: bool = False  # `roomSetupWidget` present
    add_setup_widget_on_invite: bool = False  # `roomSetupWidget.addOnInvite`
    disallowed_ip_ranges: tuple[IPNetwork, ...] = parse_networks(DEFAULT_DISALLOWED_IP_RANGES)
    allowed_ip_ranges: tuple[IPNetwork, ...] = ()
    widget_title: str = DEFAULT_WIDGET_TITLE
    openid_overrides: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def _http_url(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return value


def _ranges(
    raw: Mapping[str, object], key: str, problems: list[ConfigError]
) -> tuple[IPNetwork, ...] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(ConfigError(f"widgets.{key}", "must be a string array"))
        return None
    try:
        return parse_networks(value)
    except ValueError as err:
        problems.append(ConfigError(f"widgets.{key}", str(err)))
        return None


def parse_widget_settings(
    raw: object,
) -> tuple[WidgetSettings | None, tuple[ConfigError, ...], tuple[str, ...]]:
    """(settings or None, problems, warnings) for the raw `widgets` section."""
    if not isinstance(raw, Mapping):
        return None, (ConfigError("widgets", "must be a mapping"),), ()
    problems: list[ConfigError] = []
    warnings = tuple(
        f"widgets.{key} is not a known key and is ignored" for key in raw if key not in _KNOWN_KEYS
    )

    public_url = _http_url(raw.get("publicUrl"))
    if public_url is None:
        problems.append(ConfigError("widgets.publicUrl", "is not defined or not a valid URL"))

    add_to_admin = raw.get("addToAdminRooms", False)
    if not isinstance(add_to_admin, bool):
        problems.append(ConfigError("widgets.addToAdminRooms", "must be a boolean"))

    setup = raw.get("roomSetupWidget")
    on_invite: object = False
    if setup is not None:
        if not isinstance(setup, Mapping):
            problems.append(ConfigError("widgets.roomSetupWidget", "must be a mapping"))
        else:
            on_invite = setup.get("addOnInvite", False)
            if not isinstance(on_invite, bool):
                problems.append(
                    ConfigError("widgets.roomSetupWidget.addOnInvite", "must be a boolean")
                )

    disallowed = _ranges(raw, "disallowedIpRanges", problems)
    allowed = _ranges(raw, "allowedIpRanges", problems)

    title: object = DEFAULT_WIDGET_TITLE
    branding = raw.get("branding")
    if branding is not None:
        title = branding.get("widgetTitle") if isinstance(branding, Mapping) else None
        if not isinstance(title, str) or not title:
            problems.append(ConfigError("widgets.branding.widgetTitle", "must be a string"))

    overrides: dict[str, str] = {}
    raw_overrides = raw.get("openIdOverrides")
    if raw_overrides is not None:
        if not isinstance(raw_overrides, Mapping):
            problems.append(ConfigError("widgets.openIdOverrides", "must be a mapping"))
        else:
            for server, url in raw_overrides.items():
                checked = _http_url(url)
                if checked is None:
                    problems.append(
                        ConfigError(
                            f"widgets.openIdOverrides.{server}", "must be an http(s) base URL"
                        )
                    )
                else:
                    overrides[str(server)] = checked

    if problems or public_url is None:
        return None, tuple(problems), warnings
    settings = WidgetSettings(
        public_url=public_url if public_url.endswith("/") else public_url + "/",
        add_to_admin_rooms=bool(add_to_admin),
        room_setup_widget=isinstance(setup, Mapping),
        add_setup_widget_on_invite=bool(on_invite),
        disallowed_ip_ranges=(
            disallowed if disallowed is not None else parse_networks(DEFAULT_DISALLOWED_IP_RANGES)
        ),
        allowed_ip_ranges=allowed or (),
        widget_title=str(title),
        openid_overrides=MappingProxyType(overrides),
    )
    return settings, (), warnings
