"""`forgejo`: the instances whose webhooks the bridge takes, and their shared secret.

forgejo:
  webhook:
    secret: a-long-random-string     # the secret set on the repository's webhook
  instances:
    codeberg:
      url: https://codeberg.org
    work:
      url: https://git.example.org
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hookshot.config import Section


@dataclass(frozen=True)
class ForgejoConfig:
    instances: Mapping[str, str]  # name -> base URL (no trailing slash)
    webhook_secret: str

    def instance_for_url(self, url: str) -> tuple[str, str] | None:
        """(instance name, rest of the path) for a URL on a configured instance."""
        clean = url.strip().rstrip("/")
        for name, base in self.instances.items():
            if clean.lower().startswith(base.lower() + "/"):
                return name, clean[len(base) + 1 :]
        return None


def parse_config(section: Section) -> ForgejoConfig:
    from hookshot.config import check_http_url

    instances: dict[str, str] = {}
    raw = section.section("instances")
    if raw is None:
        section.problem("instances", "is required: {name: {url: https://codeberg.org}}")
    else:
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
    secret = ""
    webhook = section.section("webhook")
    if webhook is None:
        section.problem("webhook", "is required: {secret: ...} as set on the Forgejo webhook")
    else:
        secret = webhook.required_text("secret")
        webhook.warn_unknown()
    section.warn_unknown()
    return ForgejoConfig(instances=MappingProxyType(instances), webhook_secret=secret)
