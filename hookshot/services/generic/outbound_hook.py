"""Outbound webhooks: a room's events are sent to a URL. State parsing and where the token lives.

State: `uk.half-shot.matrix-hookshot.outbound-hook`, state_key = name, content
``{"name", "url", "method": "PUT" | "POST"}`` (no method: PUT). The secret sent with every
request (`X-Matrix-Hookshot-Token`) is ``hs-ob-<uuid4>``; hookshot 7 keeps it sealed with the
passFile key (like users' tokens) in the bot's *global* account data
``generic:outboundHookToken:<md5 hex of "<room_id>:<state_key>">``, so a migrated room keeps
its token. An earlier hookshot revision kept it in plain room account data
``uk.half-shot.matrix-hookshot.outbound-hook:<state_key>`` = ``{"token": ...}``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from hookshot import wire
from hookshot.core.connections import DEFAULT_PRIORITY, Connection
from hookshot.errors import StateError
from hookshot.ops.redaction import register_secret

# Wire names (to move into wire.py).
OUTBOUND_HOOK: Final = wire.OUTBOUND_HOOK
OUTBOUND_HOOK_TYPES: Final = wire.OUTBOUND_HOOK_TYPES
OUTBOUND_TOKEN_NAMESPACE: Final = wire.OUTBOUND_TOKEN_NAMESPACE
SERVICE_OUTBOUND: Final = wire.SERVICE_OUTBOUND

METHODS: Final = ("PUT", "POST")
DEFAULT_METHOD: Final = "PUT"

# hookshot's messages (OutboundHookConnection.validateState), in its order of checking.
URL_NOT_STRING: Final = "Outbound URL must be a string"
NAME_NOT_STRING: Final = "A webhook name must be a string."
URL_INVALID: Final = "Outbound URL is invalid"
URL_BAD_PROTOCOL: Final = "Outbound URL protocol must be http or https"
BAD_METHOD: Final = "Outbound Method must be one of PUT,POST"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
# WHATWG's forbidden host code points: a host holding one is not a URL to JavaScript either.
_FORBIDDEN_HOST = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
# WHATWG strips leading and trailing C0 controls and spaces before parsing.
_URL_PADDING = "".join(chr(c) for c in range(0x21))


@dataclass(frozen=True)
class OutboundHookState:
    """The validated content of an outbound hook state event."""

    name: str
    url: str
    method: str = DEFAULT_METHOD

    def to_content(self) -> dict[str, Any]:
        """The state content we write (hookshot's fields; it always writes `method`)."""
        return {"name": self.name, "url": self.url, "method": self.method}


def validate_url(url: object) -> str:
    """An absolute http(s) URL with a host, else StateError with hookshot's message."""
    if not isinstance(url, str):
        raise StateError(URL_NOT_STRING)
    return _check_url(url)


def _check_url(url: str) -> str:
    url = url.strip(_URL_PADDING)
    scheme = _SCHEME.match(url)
    if scheme is None:
        raise StateError(URL_INVALID)
    if scheme.group(1).lower() not in ("http", "https"):
        raise StateError(URL_BAD_PROTOCOL)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port outside 0-65535
    except ValueError:
        raise StateError(URL_INVALID) from None
    host = parts.hostname
    if not host:
        raise StateError(URL_INVALID)
    if "[" in parts.netloc:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise StateError(URL_INVALID) from None
    elif _FORBIDDEN_HOST.search(host):
        raise StateError(URL_INVALID)
    return url


def parse_state(content: Mapping[str, Any]) -> OutboundHookState:
    """Validate outbound hook state content; raises StateError with hookshot's message.

    As hookshot, the name is only required to be a string here (the 3-64 length rule applies
    when a hook is created), and `method` is case-sensitive.
    """
    url = content.get("url")
    if not isinstance(url, str):
        raise StateError(URL_NOT_STRING)
    name = content.get("name")
    if not isinstance(name, str):
        raise StateError(NAME_NOT_STRING)
    url = _check_url(url)
    # `"method": null` is refused, as hookshot only defaults a missing method.
    method = content.get("method", DEFAULT_METHOD)
    if method not in METHODS:
        raise StateError(BAD_METHOD)
    return OutboundHookState(name=name, url=url, method=method)


def token_account_data_key(room_id: str, state_key: str) -> str:
    """The bot's global account data type holding a hook's sealed token (hookshot 7)."""
    digest = hashlib.md5(f"{room_id}:{state_key}".encode(), usedforsecurity=False).hexdigest()
    return f"generic:{OUTBOUND_TOKEN_NAMESPACE}:{digest}"


def legacy_token_account_data_key(state_key: str) -> str:
    """The room account data type an earlier hookshot kept the plain token in."""
    return f"{OUTBOUND_HOOK}:{state_key}"


@dataclass(frozen=True)
class OutboundHook(Connection):
    """A room's outbound webhook: every forwarded room event is sent to `state.url`."""

    token: str
    state: OutboundHookState

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def url(self) -> str:
        return self.state.url

    @property
    def method(self) -> str:
        return self.state.method


def from_state(
    room_id: str, event_type: str, state_key: str, content: Mapping[str, Any], token: str
) -> OutboundHook:
    """The connection for validated state and its stored token (hookshot refuses a hook
    without one: "Missing stored token for connection")."""
    if not token:
        raise StateError("Missing stored token for connection")
    register_secret(token)
    state = parse_state(content)
    return OutboundHook(
        room_id=room_id,
        event_type=event_type,
        state_key=state_key,
        # hookshot's validateState drops `priority`; every hook gets every event anyway.
        priority=DEFAULT_PRIORITY,
        token=token,
        state=state,
    )


def is_outbound_hook_type(event_type: str) -> bool:
    return event_type in OUTBOUND_HOOK_TYPES
