"""The appservice registration: generate one for a config, write it, read and validate one.

The homeserver loads the same file (Synapse: `app_service_config_files`), so what we write
must be what homeservers and hookshot read: plain YAML, booleans as booleans.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import yaml

from hookshot.config import Config, ConfigProblems
from hookshot.errors import ConfigError

DEFAULT_ID: Final = "hookshot"
# Hookshot's sample registration and docs use "hookshot"; its generator still says "github".
DEFAULT_SENDER_LOCALPART: Final = "hookshot"
# MSC2409 (ephemeral events to appservices): the unstable key Synapse reads, and the stable one.
EPHEMERAL_KEYS: Final = ("de.sorunome.msc2409.push_ephemeral", "receive_ephemeral")
_LEGACY_EPHEMERAL_KEY: Final = "push_ephemeral"

_LOCALPART: Final = re.compile(r"^[a-z0-9._=\-/+]+$")
_REGEX_SPECIALS: Final = frozenset("\\.^$*+?()[]{}|")


@dataclass(frozen=True, slots=True)
class Namespace:
    """One namespace entry: ids matching `regex` belong to the appservice."""

    regex: str
    exclusive: bool = False

    def matches(self, value: str) -> bool:
        """Synapse's test: the regex must match at the start of `value`."""
        return re.match(self.regex, value) is not None


@dataclass(frozen=True, slots=True)
class Namespaces:
    """The `namespaces` of a registration."""

    users: tuple[Namespace, ...] = ()
    aliases: tuple[Namespace, ...] = ()
    rooms: tuple[Namespace, ...] = ()


@dataclass(frozen=True, slots=True)
class Registration:
    """A validated appservice registration."""

    id: str
    url: str | None
    as_token: str
    hs_token: str
    sender_localpart: str
    namespaces: Namespaces
    rate_limited: bool = True
    receive_ephemeral: bool = False

    def bot_user_id(self, domain: str) -> str:
        """The bridge bot's user id on `domain`."""
        return f"@{self.sender_localpart}:{domain}"

    def owns_user(self, user_id: str, domain: str) -> bool:
        """Whether `user_id` is the bot or in one of our user namespaces."""
        return user_id == self.bot_user_id(domain) or any(
            ns.matches(user_id) for ns in self.namespaces.users
        )

    def to_dict(self) -> dict[str, Any]:
        """The registration as the YAML mapping a homeserver reads."""

        def entries(items: tuple[Namespace, ...]) -> list[dict[str, Any]]:
            return [{"regex": ns.regex, "exclusive": ns.exclusive} for ns in items]

        data: dict[str, Any] = {
            "id": self.id,
            "url": self.url,
            "as_token": self.as_token,
            "hs_token": self.hs_token,
            "sender_localpart": self.sender_localpart,
            "rate_limited": self.rate_limited,
            "namespaces": {
                "users": entries(self.namespaces.users),
                "aliases": entries(self.namespaces.aliases),
                "rooms": entries(self.namespaces.rooms),
            },
        }
        if self.receive_ephemeral:
            data.update(dict.fromkeys(EPHEMERAL_KEYS, True))
        return data


def escape_regex(text: str) -> str:
    """Escape regex metacharacters only, so the result reads the same in Python and JS."""
    return "".join("\\" + ch if ch in _REGEX_SPECIALS else ch for ch in text)


def _appservice_url(bind_address: str, port: int) -> str:
    # A wildcard bind is not an address the homeserver can dial; loopback is the usual setup.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1", "": "127.0.0.1"}.get(
        bind_address, bind_address
    )
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def generate_registration(
    config: Config,
    *,
    id: str = DEFAULT_ID,  # named as the registration key it fills
    url: str | None = None,
    sender_localpart: str = DEFAULT_SENDER_LOCALPART,
) -> dict[str, Any]:
    """A new registration for `config` with fresh random tokens, as a YAML-ready mapping."""
    domain = escape_regex(config.bridge.domain)
    users = [Namespace(f"@{escape_regex(sender_localpart)}:{domain}", exclusive=True)]
    if config.generic is not None and config.generic.user_id_prefix:
        # Webhook users are @<prefix><name>:<domain>, the name being at least one character.
        prefix = escape_regex(config.generic.user_id_prefix)
        users.append(Namespace(f"@{prefix}.+:{domain}", exclusive=True))
    registration = Registration(
        id=id,
        url=url or _appservice_url(config.bridge.bind_address, config.bridge.port),
        # 32 random bytes as hex: 64 characters, the same shape hookshot generates.
        as_token=secrets.token_hex(32),
        hs_token=secrets.token_hex(32),
        sender_localpart=sender_localpart,
        namespaces=Namespaces(users=tuple(users)),
        rate_limited=False,
        receive_ephemeral=True,
    )
    return registration.to_dict()


def write_registration(
    path: str | Path, registration: Mapping[str, Any] | Registration, *, overwrite: bool = False
) -> None:
    """Write `registration` as YAML readable only by its owner (it holds both tokens)."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; refusing to replace its tokens")
    data = registration.to_dict() if isinstance(registration, Registration) else dict(registration)
    text = (
        "# Appservice registration for hookshot. Give this file to your homeserver\n"
        "# (Synapse: app_service_config_files). Keep it secret: it holds both tokens.\n"
        + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
    )
    temp = target.with_name(f".{target.name}.tmp")
    # Write then rename, so a crash never leaves a half-written registration behind.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temp, target)


# --- reading ----------------------------------------------------------------------------------


def _looks_like_placeholder(token: str) -> bool:
    # The sample registration's "aaaaaaaaaa": one character repeated is never a real secret.
    return len(set(token)) <= 1


def _parse_namespaces(raw: object, problems: list[ConfigError]) -> Namespaces:
    if raw is None:
        return Namespaces()
    if not isinstance(raw, Mapping):
        problems.append(ConfigError("namespaces", "must be a mapping of users/aliases/rooms"))
        return Namespaces()
    parsed: dict[str, tuple[Namespace, ...]] = {}
    for kind in ("users", "aliases", "rooms"):
        entries = raw.get(kind)
        found: list[Namespace] = []
        if entries is not None and not isinstance(entries, list):
            problems.append(ConfigError(f"namespaces.{kind}", "must be a list"))
            entries = None
        for index, entry in enumerate(entries or []):
            key = f"namespaces.{kind}.{index}"
            regex = entry.get("regex") if isinstance(entry, Mapping) else None
            exclusive = entry.get("exclusive", False) if isinstance(entry, Mapping) else False
            if not isinstance(regex, str) or not regex:
                problems.append(ConfigError(f"{key}.regex", "must be a non-empty string"))
                continue
            try:
                re.compile(regex)
            except re.error as exc:
                problems.append(ConfigError(f"{key}.regex", f"is not a valid regex: {exc}"))
                continue
            if not isinstance(exclusive, bool):
                problems.append(ConfigError(f"{key}.exclusive", "must be true or false"))
                continue
            found.append(Namespace(regex=regex, exclusive=exclusive))
        parsed[kind] = tuple(found)
    return Namespaces(**parsed)


def parse_registration(raw: Mapping[str, Any]) -> Registration:
    """Validate a parsed registration mapping; raise ConfigProblems naming every bad key."""
    problems: list[ConfigError] = []
    if not isinstance(raw, Mapping):
        problems.append(ConfigError("registration", "must be a mapping"))
        raise ConfigProblems(problems, what="registration")

    def text(key: str) -> str:
        value = raw.get(key)
        if value is None or value == "":
            problems.append(ConfigError(key, "is required"))
            return ""
        if not isinstance(value, str):
            problems.append(ConfigError(key, "must be a string"))
            return ""
        return value

    reg_id = text("id")
    as_token = text("as_token")
    hs_token = text("hs_token")
    for key, token in (("as_token", as_token), ("hs_token", hs_token)):
        if token and _looks_like_placeholder(token):
            problems.append(ConfigError(key, "is the sample's placeholder; use a random token"))
    if as_token and as_token == hs_token:
        problems.append(ConfigError("hs_token", "must differ from as_token"))
    sender = text("sender_localpart")
    if sender and not _LOCALPART.match(sender):
        problems.append(ConfigError("sender_localpart", "may only hold a-z, 0-9 and ._=-/+"))

    url = raw.get("url")
    if url is not None:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(ConfigError("url", "must be an http(s) URL the homeserver can reach"))
            url = None
    rate_limited = raw.get("rate_limited", True)
    if not isinstance(rate_limited, bool):
        problems.append(ConfigError("rate_limited", "must be true or false"))
        rate_limited = True
    namespaces = _parse_namespaces(raw.get("namespaces"), problems)
    ephemeral = any(raw.get(key) is True for key in (*EPHEMERAL_KEYS, _LEGACY_EPHEMERAL_KEY))
    if problems:
        raise ConfigProblems(problems, what="registration")
    return Registration(
        id=reg_id,
        url=url,
        as_token=as_token,
        hs_token=hs_token,
        sender_localpart=sender,
        namespaces=namespaces,
        rate_limited=rate_limited,
        receive_ephemeral=ephemeral,
    )


def load_registration(path: str | Path) -> Registration:
    """Read and validate a registration file."""
    source = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigProblems(
            [ConfigError(source, f"cannot read: {exc.strerror}")], what="registration"
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigProblems(
            [ConfigError(source, "is not valid YAML")], what="registration"
        ) from exc
    try:
        return parse_registration(raw if raw is not None else {})
    except ConfigProblems as exc:
        raise ConfigProblems(exc.problems, source=source, what="registration") from None


def check_against_config(registration: Registration, config: Config) -> tuple[str, ...]:
    """Warnings where the registration and the config disagree (nothing is fatal)."""
    warnings: list[str] = []
    domain = config.bridge.domain
    generic = config.generic
    if generic is not None and generic.user_id_prefix:
        probe = f"@{generic.user_id_prefix}hook:{domain}"
        if not any(ns.exclusive and ns.matches(probe) for ns in registration.namespaces.users):
            warnings.append(
                f"the registration does not reserve webhook users like {probe}; add the users"
                f" regex @{escape_regex(generic.user_id_prefix)}.+:{escape_regex(domain)}"
            )
    if registration.url:
        port = urlsplit(registration.url).port
        if port is not None and port != config.bridge.port:
            warnings.append(
                f"the registration url {registration.url} is not on bridge.port"
                f" {config.bridge.port}, where we listen for the homeserver"
            )
    return tuple(warnings)
