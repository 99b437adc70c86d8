"""`generic`: inbound webhooks (each hook a URL that posts to its room) and outbound hooks.

generic:
  enabled: true
  urlPrefix: https://hooks.example.org/webhook/   # public base of hook URLs (required)
  userIdPrefix: _webhooks_           # hooks post as their own users (optional)
  allowJsTransformationFunctions: false
  waitForComplete: false             # answer the sender only once the message is sent
  enableHttpGet: false
  includeHookBody: true
  payloadSizeLimit: 1mb
  maxExpiryTime: 30d                 # optional: hooks must expire within this
  sendExpiryNotice: false
  requireExpiryTime: false
  outbound: false                    # outbound hooks: room events POSTed to a URL
  outboundAllowPrivateTargets: false # ours: off keeps SSRF protection
  rateLimit: {perSecond: 10, burst: 100}   # ours: each hook's token bucket
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from hookshot.core.durations import parse_duration
from hookshot.core.rate_limit import PER_SECOND, RateLimit, parse_rate_limit

if TYPE_CHECKING:
    from hookshot.config import Section

DEFAULT_PAYLOAD_SIZE_LIMIT: Final = "1mb"
# Per generic hook (`generic.rateLimit`): generous for a real sender, a wall for a flood.
DEFAULT_HOOK_RATE_LIMIT: Final = RateLimit(per_second=10, burst=100)
# Characters allowed in a user id localpart (spec, historical grammar minus uppercase).
_LOCALPART: Final = re.compile(r"^[a-z0-9._=\-/+]+$")


@dataclass(frozen=True, slots=True)
class GenericConfig:
    """`generic`: inbound (and outbound) webhooks."""

    enabled: bool
    # Public base URL of hooks, always ending in "/": a hook's URL is url_prefix + hookId.
    url_prefix: str
    user_id_prefix: str | None = None
    allow_js_transformation_functions: bool = False
    wait_for_complete: bool = False
    enable_http_get: bool = False
    include_hook_body: bool = True
    payload_size_limit: int = 1024 * 1024
    max_expiry_time: timedelta | None = None
    send_expiry_notice: bool = False
    require_expiry_time: bool = False
    outbound: bool = False
    # Ours: outbound hooks may target private/loopback addresses (off: SSRF protection).
    outbound_allow_private_targets: bool = False
    # Ours: each hook's token bucket (per_second 0: no limit); a hook's state may override it.
    rate_limit: RateLimit = DEFAULT_HOOK_RATE_LIMIT

    def hook_url(self, hook_id: str) -> str:
        """The public URL of hook `hook_id`, as hookshot tells users."""
        return self.url_prefix + hook_id


def parse_config(sec: Section) -> GenericConfig:
    # Late: the config module asks for the services (and so imports this one) while it loads.
    from hookshot.config import check_http_url, parse_size

    enabled = sec.flag("enabled", False)
    url_prefix = sec.text("urlPrefix")
    if url_prefix is None or url_prefix == "":
        # Hookshot refuses a missing urlPrefix even when the section is disabled.
        sec.problem("urlPrefix", "is required: the public URL hooks are reached at")
        url_prefix = ""
    elif why := check_http_url(url_prefix):
        sec.problem("urlPrefix", why)
    elif (parts := urlsplit(url_prefix)).query or parts.fragment:
        sec.problem("urlPrefix", "must not have a query or fragment (hook ids are appended)")
    # Hookshot appends "/" so the hook id becomes the last path segment.
    if url_prefix and not url_prefix.endswith("/"):
        url_prefix += "/"
    user_id_prefix = sec.text("userIdPrefix") or None
    if user_id_prefix and not _LOCALPART.match(user_id_prefix):
        sec.problem("userIdPrefix", "may only hold a-z, 0-9 and . _ = - / +")
    size_raw = sec.get("payloadSizeLimit")
    payload_size_limit = parse_size(DEFAULT_PAYLOAD_SIZE_LIMIT)
    if isinstance(size_raw, str | int):
        try:
            payload_size_limit = parse_size(size_raw)
        except ValueError as exc:
            sec.problem("payloadSizeLimit", str(exc))
    elif size_raw is not None:
        sec.problem("payloadSizeLimit", "must be a size such as '1mb', '500kb' or '10mb'")
    expiry_raw = sec.get("maxExpiryTime")
    max_expiry: timedelta | None = None
    if expiry_raw is not None:
        if not isinstance(expiry_raw, str):
            sec.problem("maxExpiryTime", "must be a duration string such as 30d")
        else:
            try:
                max_expiry = _parse_expiry(expiry_raw)
            except ValueError as exc:
                sec.problem("maxExpiryTime", str(exc))
    config = GenericConfig(
        enabled=enabled,
        url_prefix=url_prefix,
        user_id_prefix=user_id_prefix,
        allow_js_transformation_functions=sec.flag("allowJsTransformationFunctions", False),
        wait_for_complete=sec.flag("waitForComplete", False),
        enable_http_get=sec.flag("enableHttpGet", False),
        include_hook_body=sec.flag("includeHookBody", True),
        payload_size_limit=payload_size_limit,
        max_expiry_time=max_expiry,
        send_expiry_notice=sec.flag("sendExpiryNotice", False),
        require_expiry_time=sec.flag("requireExpiryTime", False),
        outbound=sec.flag("outbound", False),
        outbound_allow_private_targets=sec.flag("outboundAllowPrivateTargets", False),
        rate_limit=_parse_hook_rate_limit(sec),
    )
    sec.warn_unknown(ignored=("disallowedIpRanges",))
    return config


def _parse_hook_rate_limit(sec: Section) -> RateLimit:
    raw = sec.get("rateLimit")
    if raw is None:
        return DEFAULT_HOOK_RATE_LIMIT
    try:
        parsed = parse_rate_limit(raw)
    except ValueError as exc:
        sec.problem("rateLimit", str(exc))
        return DEFAULT_HOOK_RATE_LIMIT
    # Unset fields keep the default: only an explicit `perSecond: 0` turns the limit off.
    explicit = isinstance(raw, Mapping) and raw.get(PER_SECOND) is not None
    per_second = parsed.per_second if explicit else DEFAULT_HOOK_RATE_LIMIT.per_second
    return RateLimit(per_second, parsed.burst or DEFAULT_HOOK_RATE_LIMIT.burst)


def _parse_expiry(text: str) -> timedelta:
    # Unlike hookshot's parse-duration, a typo is an error rather than silently "no limit".
    seconds = parse_duration(text)
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return timedelta(seconds=seconds)
