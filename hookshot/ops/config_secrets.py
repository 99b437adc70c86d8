"""The secrets a config and registration hold, for the log redaction (ops/redaction.py).

Walks the whole validated config rather than naming fields, so a service's section (and a
section we only keep, like `jira`) is covered without a line here: any text under a key
that names a secret, the password in a Redis URI, and the key files' lines.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from hookshot.config import Config
from hookshot.matrix.registration import Registration
from hookshot.ops.redaction import register_secret

_SECRET_KEY = re.compile(r"secret|token|password|passphrase|api_?key", re.I)
_URI_KEY = re.compile(r"uri$|url$", re.I)
# PEM armour lines are public; the base64 lines between them are the key.
_ARMOUR = re.compile(r"^-----(BEGIN|END) ")


def _walk(value: object, name: str = "") -> Iterator[str]:
    if isinstance(value, str):
        if _SECRET_KEY.search(name):
            yield value
        elif _URI_KEY.search(name) and "@" in value:
            password = urlsplit(value).password
            if password:
                yield password
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _walk(getattr(value, field.name), field.name)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, str(key))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item, name)


def key_file_lines(text: str) -> list[str]:
    """The secret lines of a key file (PEM: the base64 body, not the armour)."""
    return [line.strip() for line in text.splitlines() if line.strip() and not _ARMOUR.match(line)]


def config_secrets(config: Config, registration: Registration) -> list[str]:
    """Every secret value in `config` and `registration` (files' contents read now)."""
    values = [*_walk(registration), *_walk(config)]
    files = [config.pass_file]
    if config.github is not None and config.github.private_key_file:
        files.append(config.github.private_key_file)
    for path in files:
        # A missing passFile is reported where it is needed (commands), not here.
        with contextlib.suppress(OSError):
            values += key_file_lines(Path(path).read_text(errors="replace"))
    return values


def register_config_secrets(config: Config, registration: Registration) -> None:
    """Hide the config's and registration's secrets in every log line, for good."""
    for value in config_secrets(config, registration):
        register_secret(value, pinned=True)
