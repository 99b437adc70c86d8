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
    from hookshot.config import parse_instances

    instances = parse_instances(section, "https://codeberg.org")
    secret = ""
    webhook = section.section("webhook")
    if webhook is None:
        section.problem("webhook", "is required: {secret: ...} as set on the Forgejo webhook")
    else:
        secret = webhook.required_text("secret")
        webhook.warn_unknown()
    section.warn_unknown()
    return ForgejoConfig(instances=MappingProxyType(instances), webhook_secret=secret)
