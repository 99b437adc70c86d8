"""Outbound webhook requests: hookshot's multipart body, the SSRF guard, one delivery attempt.

What hookshot sends for each room event (OutboundHook.ts), which we reproduce byte for byte
apart from the random boundary:

    PUT|POST <url>
    Content-Type: multipart/form-data; boundary=form-data-boundary-<25 of [A-Za-z0-9_-]>
    X-Matrix-Hookshot-RoomId / -EventId / -Token

    --<b>\\r\\nContent-Disposition: form-data; name="event"; filename="event_data.json"\\r\\n
    Content-Type: application/json\\r\\n\\r\\n<JSON.stringify(event)>\\r\\n
    --<b>\\r\\nContent-Disposition: form-data; name="media"; filename="<content.body>"\\r\\n
    Content-Type: <media type>\\r\\n\\r\\n<media bytes>\\r\\n          (media messages only)
    --<b>--\\r\\n

Ours on top: `X-Matrix-Hookshot-Signature: sha256=<HMAC-SHA256 of the body>` so a receiver
can check the body too, a guard against private targets (hookshot has none), no redirects,
and a result the durable queue can act on (hookshot logs failures and drops the event).
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json
import secrets
import string
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, NamedTuple
from urllib.parse import urlsplit

import httpcore
import httpx

from hookshot.core.signatures import github_signature
from hookshot.errors import HookshotError
from hookshot.widget.openid import (
    DEFAULT_DISALLOWED_IP_RANGES,
    IPNetwork,
    Resolver,
    is_disallowed,
    parse_networks,
    resolve_host,
)

USER_AGENT: Final = "hookshot-python"
HEADER_ROOM_ID: Final = "X-Matrix-Hookshot-RoomId"
HEADER_EVENT_ID: Final = "X-Matrix-Hookshot-EventId"
HEADER_TOKEN: Final = "X-Matrix-Hookshot-Token"
HEADER_SIGNATURE: Final = "X-Matrix-Hookshot-Signature"  # ours: hookshot does not sign

EVENT_PART: Final = "event"
EVENT_FILENAME: Final = "event_data.json"
EVENT_CONTENT_TYPE: Final = "application/json"
MEDIA_PART: Final = "media"
MEDIA_MSGTYPES: Final = frozenset({"m.image", "m.audio", "m.file", "m.video"})
DEFAULT_MEDIA_TYPE: Final = "application/octet-stream"

# axios' boundary: "form-data-boundary-" and 25 characters of this alphabet.
_BOUNDARY_ALPHABET: Final = string.ascii_letters + string.digits + "-_"
_BOUNDARY_PREFIX: Final = "form-data-boundary-"
_BOUNDARY_RANDOM_LENGTH: Final = 25
_BOUNDARY_CHARS: Final = frozenset(string.ascii_letters + string.digits + "'()+_,-./:=? ")

# The widgets' list plus 240.0.0.0/4 (reserved, holds the broadcast address).
DEFAULT_DISALLOWED: Final = parse_networks((*DEFAULT_DISALLOWED_IP_RANGES, "240.0.0.0/4"))
RESOLVE_TIMEOUT: Final = 10.0
MAX_ADDRESSES_TRIED: Final = 3
EXCERPT_BYTES: Final = 512  # of a response body, for the delivery log


class TargetRefused(HookshotError):
    """The URL may not be called: not http(s), or its host is a private/reserved address."""


class TargetUnresolved(TargetRefused):
    """The URL's host does not resolve (may be temporary)."""


class Media(NamedTuple):
    """A media message's file: bytes, content type (hookshot uses the one the media repository
    answered with) and file name (hookshot uses `content.body`; "" sends none)."""

    data: bytes
    content_type: str
    filename: str


class MediaRef(NamedTuple):
    """Where a media message's file is: its mxc URL, `content.body` and `info.mimetype`."""

    mxc: str
    filename: str
    mimetype: str | None


@dataclass(frozen=True)
class OutboundRequest:
    """One request to an outbound hook, ready to send (and to resend unchanged)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt came to. `retryable`: 5xx, 408, 429 and network errors."""

    status: int | None
    ok: bool
    retryable: bool
    detail: str
    retry_after: float | None = None  # seconds, from Retry-After
    response_excerpt: str = field(default="", repr=False)


def new_outbound_token() -> str:
    """A new hook token in hookshot's form, `hs-ob-<uuid4>`."""
    return f"hs-ob-{uuid.uuid4()}"


def is_forwarded(event: Mapping[str, Any], *, is_bridge_user: Callable[[str], bool]) -> bool:
    """Whether hookshot sends `event` to a room's outbound hooks: every timeline event that is
    not state and not from one of the bridge's users (edits, redactions, reactions and
    still-encrypted events included)."""
    if "state_key" in event:
        return False
    sender, event_id = event.get("sender"), event.get("event_id")
    if not isinstance(sender, str) or not isinstance(event_id, str):
        return False
    return not is_bridge_user(sender)


def media_reference(event: Mapping[str, Any]) -> MediaRef | None:
    """The file a media message (m.image/audio/file/video) points at; None for other events
    and for encrypted files, which hookshot only sends when it can decrypt them."""
    content = event.get("content")
    if not isinstance(content, Mapping) or content.get("msgtype") not in MEDIA_MSGTYPES:
        return None
    url = content.get("url")
    if not isinstance(url, str) or not url.startswith("mxc://"):
        return None
    body = content.get("body")
    info = content.get("info")
    mimetype = info.get("mimetype") if isinstance(info, Mapping) else None
    return MediaRef(
        mxc=url,
        filename=body if isinstance(body, str) else "",
        mimetype=mimetype if isinstance(mimetype, str) else None,
    )


def build_request(
    event: Mapping[str, Any],
    *,
    url: str,
    method: str,
    token: str,
    media: tuple[bytes, str, str] | None,
    secret_for_signature: str | None,
    room_id: str | None = None,
    boundary: str | None = None,
) -> OutboundRequest:
    """The request hookshot makes for `event` (see the module docstring).

    `media` is (bytes, content type, file name). `secret_for_signature` keys our signature
    header; pass the hook's token (the secret the receiver already has), None for no header.
    `room_id` defaults to the event's; `boundary` is random unless given (for tests).
    """
    event_id = event.get("event_id")
    room = room_id if room_id is not None else event.get("room_id")
    if not isinstance(event_id, str) or not isinstance(room, str):
        raise ValueError("an outbound event needs an event_id and a room_id")
    parts = [_part(EVENT_PART, EVENT_FILENAME, EVENT_CONTENT_TYPE, _event_json(event))]
    if media is not None:
        data, content_type, filename = media
        parts.append(_part(MEDIA_PART, filename, _blob_type(content_type), data))
    body, boundary = _multipart(parts, boundary)
    content_type = f"multipart/form-data; boundary={boundary}"
    headers = {
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
        HEADER_ROOM_ID: room,
        HEADER_EVENT_ID: event_id,
        HEADER_TOKEN: token,
    }
    if secret_for_signature is not None:  # ours: hookshot sends only the token
        headers[HEADER_SIGNATURE] = github_signature(secret_for_signature, body)
    return OutboundRequest(
        method=method,
        url=url,
        headers=MappingProxyType(headers),
        body=body,
        content_type=content_type,
    )


def _event_json(event: Mapping[str, Any]) -> bytes:
    """JSON.stringify's form: compact, non-ASCII as is."""
    try:
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        # A lone surrogate cannot be UTF-8; JavaScript escapes it, and so does ensure_ascii.
        return json.dumps(event, separators=(",", ":")).encode()


def _blob_type(content_type: str) -> str:
    """A Blob's type as the browser/Node keeps it: lower case, dropped if not printable ASCII."""
    if not content_type or any(not 0x20 <= ord(c) <= 0x7E for c in content_type):
        return DEFAULT_MEDIA_TYPE
    return content_type.lower()


def _escape_name(name: str) -> str:
    """axios' escaping of names in Content-Disposition."""
    return name.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def _part(name: str, filename: str, content_type: str, data: bytes) -> tuple[bytes, bytes]:
    disposition = f'Content-Disposition: form-data; name="{_escape_name(name)}"'
    if filename:
        disposition += f'; filename="{_escape_name(filename)}"'
    head = f"{disposition}\r\nContent-Type: {content_type}\r\n\r\n".encode()
    return head, data


def _multipart(parts: Sequence[tuple[bytes, bytes]], boundary: str | None) -> tuple[bytes, str]:
    fixed = boundary is not None
    while True:
        chosen = boundary if boundary is not None else _random_boundary()
        _check_boundary(chosen)
        marker = f"--{chosen}".encode()
        if not any(marker in head or marker in data for head, data in parts):
            break
        if fixed:
            raise ValueError("the boundary occurs in the body")
    chunks: list[bytes] = []
    for head, data in parts:
        chunks += [marker, b"\r\n", head, data, b"\r\n"]
    chunks += [marker, b"--\r\n"]
    return b"".join(chunks), chosen


def _random_boundary() -> str:
    tail = "".join(secrets.choice(_BOUNDARY_ALPHABET) for _ in range(_BOUNDARY_RANDOM_LENGTH))
    return _BOUNDARY_PREFIX + tail


def _check_boundary(boundary: str) -> None:
    # RFC 2046: 1-70 characters from a small set, not ending in a space.
    if not 0 < len(boundary) <= 70 or boundary.endswith(" ") or set(boundary) - _BOUNDARY_CHARS:
        raise ValueError(f"{boundary!r} is not a multipart boundary")


# --- the SSRF guard ---------------------------------------------------------------------------


def _split_target(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise TargetRefused("Outbound URL is invalid") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("Outbound URL protocol must be http or https")
    if not parts.hostname:
        raise TargetRefused("Outbound URL is invalid")
    return parts.hostname, port or (443 if scheme == "https" else 80)


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def _addresses(host: str, port: int, resolver: Resolver) -> list[str]:
    """The addresses to check for `host`: itself when it is one, else what it resolves to."""
    if _ip_literal(host):
        return [host]
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            found = await resolver(host, port)
    except (OSError, TimeoutError) as err:
        raise TargetUnresolved(f"Outbound URL host {host} cannot be resolved: {err}") from None
    if not found:
        raise TargetUnresolved(f"Outbound URL host {host} cannot be resolved")
    return found


def _refuse_disallowed(
    host: str,
    addresses: Iterable[str],
    disallowed: Sequence[IPNetwork],
    allowed: Sequence[IPNetwork],
) -> None:
    if any(is_disallowed(address, disallowed, allowed) for address in addresses):
        # The address stays out of the message: room members would learn internal DNS.
        raise TargetRefused(
            f"Outbound URL host {host} is or resolves to a private or reserved address, "
            "which this bridge does not send to"
        )


async def check_target(
    url: str,
    *,
    allow_private: bool,
    disallowed: Sequence[IPNetwork] | None = None,
    allowed: Sequence[IPNetwork] = (),
    resolver: Resolver = resolve_host,
) -> None:
    """Refuse (TargetRefused) a URL that is not http(s) or whose host is, or resolves to, an
    address inside `disallowed` (default: loopback, private, link-local, multicast, reserved;
    IPv4-mapped IPv6 counts as IPv4) and not inside `allowed`. `allow_private` skips the
    address check. Every resolved address must pass, as one of them will be connected to.

    A check before sending does not stop a DNS answer that changes in between: send with
    `guarded_client()`, which checks the address it actually connects to.
    """
    host, port = _split_target(url)
    if allow_private:
        return
    nets = DEFAULT_DISALLOWED if disallowed is None else disallowed
    _refuse_disallowed(host, await _addresses(host, port, resolver), nets, allowed)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, then connects to a checked address (TLS still names the host)."""

    def __init__(
        self,
        inner: httpcore.AsyncNetworkBackend,
        disallowed: Sequence[IPNetwork],
        allowed: Sequence[IPNetwork],
        resolver: Resolver,
    ) -> None:
        self._inner = inner
        self._disallowed = disallowed
        self._allowed = allowed
        self._resolver = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await _addresses(host, port, self._resolver)
        except TargetUnresolved as err:
            raise httpcore.ConnectError(str(err)) from None  # DNS may recover: retryable
        _refuse_disallowed(host, addresses, self._disallowed, self._allowed)
        last: Exception = httpcore.ConnectError(f"no usable address for {host}")
        for address in [a for a in addresses if "%" not in a][:MAX_ADDRESSES_TRIED]:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                last = err
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("Outbound hooks do not use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_client(
    *,
    allow_private: bool,
    disallowed: Sequence[IPNetwork] | None = None,
    allowed: Sequence[IPNetwork] = (),
    resolver: Resolver = resolve_host,
    timeout: float = 30.0,
) -> httpx.AsyncClient:
    """A client for outbound hooks: every connection is checked as `check_target` checks
    (unless `allow_private`), no proxies from the environment, no redirects."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    if not allow_private:
        nets = DEFAULT_DISALLOWED if disallowed is None else disallowed
        backend = _GuardedBackend(httpcore.AnyIOBackend(), nets, allowed, resolver)
        # httpx does not take a network backend, so its pool is rebuilt with ours.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=backend
        )
    return httpx.AsyncClient(
        transport=transport, timeout=timeout, trust_env=False, follow_redirects=False
    )


# --- delivery ---------------------------------------------------------------------------------


async def deliver(request: OutboundRequest, *, client: httpx.AsyncClient) -> DeliveryResult:
    """Send `request` once. Never raises for the target's failures: 2xx is ok; 5xx, 408, 429
    and network errors are retryable (the receiver may see an event twice: it can dedupe on
    X-Matrix-Hookshot-EventId); a refused target, 3xx (not followed) and other 4xx are not."""
    try:
        sent = client.build_request(
            request.method, request.url, content=request.body, headers=dict(request.headers)
        )
        response = await client.send(sent, stream=True, follow_redirects=False)
    except TargetRefused as err:
        return DeliveryResult(status=None, ok=False, retryable=False, detail=str(err))
    except httpx.InvalidURL as err:
        return DeliveryResult(None, ok=False, retryable=False, detail=f"Invalid URL: {err}")
    except httpx.TransportError as err:
        return DeliveryResult(None, ok=False, retryable=True, detail=_describe(err))
    try:
        excerpt = await _excerpt(response)
    finally:
        await response.aclose()
    return _classify(response, excerpt)


def _describe(err: httpx.TransportError) -> str:
    text = str(err) or err.__class__.__name__
    return f"{err.__class__.__name__}: {text}"


async def _excerpt(response: httpx.Response) -> str:
    data = b""
    try:
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) >= EXCERPT_BYTES:
                break
    except httpx.HTTPError:
        pass  # the status is what counts; a body cut short only shortens the excerpt
    return data[:EXCERPT_BYTES].decode("utf-8", "replace")


def _classify(response: httpx.Response, excerpt: str) -> DeliveryResult:
    status = response.status_code
    if 200 <= status <= 299:
        return DeliveryResult(status, ok=True, retryable=False, detail=f"HTTP {status}")
    if 300 <= status <= 399:
        where = response.headers.get("location", "?")
        detail = f"HTTP {status}: redirect to {where} not followed"
        return DeliveryResult(status, False, False, detail, response_excerpt=excerpt)
    retryable = status in (408, 429) or 500 <= status <= 599
    retry_after = _retry_after(response.headers.get("retry-after")) if retryable else None
    return DeliveryResult(
        status,
        ok=False,
        retryable=retryable,
        detail=f"HTTP {status}",
        retry_after=retry_after,
        response_excerpt=excerpt,
    )


def _retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
