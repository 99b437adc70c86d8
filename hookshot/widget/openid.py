"""Verify a Matrix OpenID token with the user's homeserver and return the user id it names.

    GET {homeserver}/_matrix/federation/v1/openid/userinfo?access_token=... -> {"sub": user_id}

The homeserver is `widgets.openIdOverrides[server_name]` when configured (trusted as given, as
in hookshot), else `https://<server_name>` (port 443 unless the name carries one). Unlike
hookshot we do not follow `.well-known/matrix/server` or SRV records yet: a server that
delegates federation elsewhere needs an override for now.

Without an override the request is a server-side request to a place the caller chose, so:
every address the host resolves to must be outside `disallowed` (unless inside `allowed`),
and the request goes to one of those checked addresses (TLS still verified against the host
name), so a second DNS answer cannot swap in an internal address. Redirects are not followed,
proxies from the environment are not used, and the answer is capped in size.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from hookshot.widget.errors import OpenIdError

log = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

USERINFO_PATH = "/_matrix/federation/v1/openid/userinfo"

# matrix-appservice-bridge's DefaultDisallowedIpRanges (Synapse's sample blacklist), plus
# 0.0.0.0/8 and :: which reach the local host on Linux and are missing from that list.
DEFAULT_DISALLOWED_IP_RANGES: tuple[str, ...] = (
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "192.0.0.0/24",
    "169.254.0.0/16",
    "192.88.99.0/24",
    "198.18.0.0/15",
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "::1/128",
    "fe80::/10",
    "fc00::/7",
    "2001:db8::/32",
    "ff00::/8",
    "fec0::/10",
    "0.0.0.0/8",
    "::/128",
)

MAX_ANSWER_BYTES = 64 * 1024
MAX_TOKEN_LENGTH = 4096
MAX_ADDRESSES_TRIED = 3  # bounds one exchange to a few connect timeouts

# A server name: an IPv4 or DNS host or a bracketed IPv6 literal, and an optional port.
_SERVER_NAME = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]{2,45})\]|(?P<host>[A-Za-z0-9\-.]{1,255}))(?::(?P<port>\d{1,5}))?$"
)
_USER_ID = re.compile(r"^@[^:]+:(?P<server>.+)$")


def parse_networks(ranges: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDR strings as networks; raises ValueError naming the bad one."""
    found: list[IPNetwork] = []
    for cidr in ranges:
        try:
            found.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            raise ValueError(f"{cidr!r} is not an IP range (CIDR)") from None
    return tuple(found)


@dataclass(frozen=True)
class ServerName:
    """A Matrix server name split into host and port (None: not given)."""

    host: str
    port: int | None
    is_ip: bool

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


def parse_server_name(value: str) -> ServerName:
    """Split a server name; raises OpenIdError(400) for anything that is not one."""
    match = _SERVER_NAME.match(value)
    if match is None:
        raise OpenIdError(400, "Could not identify server url")
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        raise OpenIdError(400, "Could not identify server url")
    if match["v6"]:
        try:
            ipaddress.IPv6Address(match["v6"])
        except ValueError:
            raise OpenIdError(400, "Could not identify server url") from None
        return ServerName(match["v6"], port, is_ip=True)
    host = match["host"].lower()
    try:
        ipaddress.IPv4Address(host)
        return ServerName(host, port, is_ip=True)
    except ValueError:
        return ServerName(host, port, is_ip=False)


def is_disallowed(
    address: str, disallowed: Sequence[IPNetwork], allowed: Sequence[IPNetwork] = ()
) -> bool:
    """Whether `address` is inside a disallowed range and not inside an allowed one."""
    try:
        ip: IPAddress = ipaddress.ip_address(address)
    except ValueError:
        return True  # not an address we can reason about: refuse
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1 to the kernel

    def inside(networks: Sequence[IPNetwork]) -> bool:
        return any(ip.version == net.version and ip in net for net in networks)

    return inside(disallowed) and not inside(allowed)


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in resolver order, without duplicates."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


class OpenIdVerifier:
    """Exchanges (server name, OpenID token) for the Matrix user id the homeserver vouches for."""

    def __init__(
        self,
        *,
        overrides: Mapping[str, str] | None = None,
        disallowed: Sequence[IPNetwork] | None = None,
        allowed: Sequence[IPNetwork] = (),
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 10.0,
        resolver: Resolver = resolve_host,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._disallowed = (
            parse_networks(DEFAULT_DISALLOWED_IP_RANGES) if disallowed is None else disallowed
        )
        self._allowed = allowed
        self._ssl = ssl_context or httpx.create_ssl_context()
        self._timeout = timeout
        self._resolve = resolver

    async def verify(self, server_name: str, token: str) -> str:
        """The user id behind `token`, issued by `server_name`; raises OpenIdError."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise OpenIdError(400, "Missing/invalid openIdToken in body")
        override = self._overrides.get(server_name)
        if override is not None:
            parts = urlsplit(override)
            # As hookshot: the override's path is ignored, the userinfo path is absolute.
            url = f"{parts.scheme}://{parts.netloc}{USERINFO_PATH}"
            try:
                answer = await self._fetch(url, token)
            except _Unreachable as err:
                log.info("OpenID: override for %s did not answer: %s", server_name, err)
                raise OpenIdError(502, "Could not reach the homeserver") from None
        else:
            answer = await self._fetch_pinned(parse_server_name(server_name), token)
        return _user_id_from(answer, server_name)

    async def _fetch_pinned(self, name: ServerName, token: str) -> bytes:
        port = name.port or 443
        try:
            async with asyncio.timeout(self._timeout):
                addresses = [name.host] if name.is_ip else await self._resolve(name.host, port)
        except (OSError, TimeoutError) as err:
            log.info("OpenID: cannot resolve %s: %r", name.host, err)
            raise OpenIdError(502, "Could not identify server url") from None
        if not addresses:
            raise OpenIdError(502, "Could not identify server url")
        refused = [a for a in addresses if is_disallowed(a, self._disallowed, self._allowed)]
        if refused:
            log.warning("OpenID: %s resolves to disallowed %s", name.host, ", ".join(refused))
            raise OpenIdError(403, "Server is disallowed")
        last: Exception | None = None
        for address in addresses[:MAX_ADDRESSES_TRIED]:
            if "%" in address:
                continue  # a scoped link-local address cannot be named in a URL reliably
            literal = f"[{address}]" if ":" in address else address
            try:
                return await self._fetch(
                    f"https://{literal}:{port}{USERINFO_PATH}",
                    token,
                    host_header=name.host_header,
                    sni=None if name.is_ip else name.host,
                )
            except _Unreachable as err:
                last = err
        log.info("OpenID: no address of %s answered: %s", name.host, last)
        raise OpenIdError(502, "Could not reach the homeserver")

    async def _fetch(
        self, url: str, token: str, *, host_header: str | None = None, sni: str | None = None
    ) -> bytes:
        """The body of a 200 answer; raises _Unreachable when connecting fails."""
        headers = {"Host": host_header} if host_header else {}
        extensions = {"sni_hostname": sni} if sni else {}
        # A client per exchange: a pooled connection verified for one name must not be reused
        # for another name that resolves to the same address.
        async with httpx.AsyncClient(
            verify=self._ssl, timeout=self._timeout, trust_env=False, follow_redirects=False
        ) as http:
            request = http.build_request(
                "GET",
                url,
                params={"access_token": token},
                headers=headers,
                extensions=extensions,
            )
            try:
                response = await http.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as err:
                raise _Unreachable(str(err)) from None
            except httpx.HTTPError as err:
                log.info("OpenID: request to %s failed: %s", url.split("?")[0], err)
                raise OpenIdError(502, "Could not reach the homeserver") from None
            try:
                body = await _read_capped(response)
            finally:
                await response.aclose()
        if response.status_code in (401, 403, 404):
            # Synapse answers 401 for unknown or expired tokens.
            raise OpenIdError(401, "Failed to exchange token")
        if response.status_code != 200:
            raise OpenIdError(502, f"The homeserver answered {response.status_code}")
        return body


class _Unreachable(Exception):
    """Connecting failed; the next address may work."""


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise OpenIdError(502, "The homeserver's answer is too large")
            chunks.append(chunk)
    except httpx.HTTPError as err:
        raise OpenIdError(502, f"Could not read the homeserver's answer: {err}") from None
    return b"".join(chunks)


def _user_id_from(body: bytes, server_name: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        raise OpenIdError(502, "The homeserver's answer is not JSON") from None
    sub = data.get("sub") if isinstance(data, dict) else None
    if not isinstance(sub, str):
        raise OpenIdError(502, "Server did not respond with the correct sub information")
    match = _USER_ID.match(sub)
    # hookshot trusts any `sub`; a homeserver may only vouch for its own users.
    if match is None or match["server"] != server_name:
        log.warning("OpenID: %s vouched for %r, which is not its user", server_name, sub)
        raise OpenIdError(401, "Server did not respond with the correct sub information")
    return sub
