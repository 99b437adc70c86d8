"""`gitlab`: the instances whose project (and group) webhooks the bridge takes.

gitlab:
  instances:
    gitlab.com:
      url: https://gitlab.com
  webhook:
    secret: a-long-random-string     # the secret token set on the project's webhook
    publicUrl: https://hooks.example.org/gitlab/webhook   # optional: lets setup add the hook
  commentDebounceMs: 5000            # how long MR comments and approvals are batched
  userIdPrefix: _gitlab_             # the widget's userIdPrefix
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hookshot.config import Section

DEFAULT_COMMENT_DEBOUNCE_MS = 5000


@dataclass(frozen=True, slots=True)
class GitLabConfig:
    """`gitlab`: projects' (and groups') webhooks from the configured instances."""

    instances: Mapping[str, str]  # name -> base URL (no trailing slash)
    webhook_secret: str
    public_url: str | None = None  # where GitLab reaches our /gitlab/webhook (for setup)
    comment_debounce_ms: int = DEFAULT_COMMENT_DEBOUNCE_MS
    user_id_prefix: str | None = None

    def instance_for_url(self, url: str) -> str | None:
        """The configured instance name whose URL `url` starts with."""
        for name, base in self.instances.items():
            if url.rstrip("/").lower() == base.lower() or url.lower().startswith(
                base.lower() + "/"
            ):
                return name
        return None


def parse_config(sec: Section) -> GitLabConfig:
    # Late: the config module asks for the services (and so imports this one) while it loads.
    from hookshot.config import check_http_url, parse_instances

    instances = parse_instances(sec, "https://gitlab.example.org")
    webhook = sec.section("webhook")
    secret = ""
    public_url = None
    if webhook is None:
        sec.problem("webhook", "is required: {secret: ...} as set on the GitLab webhook")
    else:
        secret = webhook.required_text("secret")
        public_url = webhook.text("publicUrl")
        if public_url and (why := check_http_url(public_url)):
            webhook.problem("publicUrl", why)
        webhook.warn_unknown()
    debounce = sec.get("commentDebounceMs")
    debounce_ms = DEFAULT_COMMENT_DEBOUNCE_MS
    if debounce is not None:
        if isinstance(debounce, bool) or not isinstance(debounce, int) or debounce < 0:
            sec.problem("commentDebounceMs", "must be a number of milliseconds (0 or more)")
        else:
            debounce_ms = debounce
    config = GitLabConfig(
        instances=MappingProxyType(instances),
        webhook_secret=secret,
        public_url=public_url or None,
        comment_debounce_ms=debounce_ms,
        user_id_prefix=sec.text("userIdPrefix") or None,
    )
    sec.warn_unknown()
    return config
