"""`github`: the repositories' webhooks and how the bridge talks to GitHub.

github:
  webhook:
    secret: a-long-random-string     # the secret set on the repository's (or App's) webhook
  auth:                              # optional: a GitHub App (installation tokens, its page)
    id: 123
    privateKeyFile: github-key.pem
  oauth: {client_id, client_secret, redirect_uri}   # optional: `github login`
  enterpriseUrl: https://github.example.org         # optional: GitHub Enterprise
  defaultOptions: {showIssueRoomLink: false}
  userIdPrefix: _github_             # the widget's userIdPrefix
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hookshot.config import Section


@dataclass(frozen=True, slots=True)
class GitHubConfig:
    """`github`: repositories' webhooks (and, later, the GitHub API as an app or a user)."""

    webhook_secret: str
    app_id: str | None = None
    private_key_file: str | None = None
    enterprise_url: str | None = None
    oauth: Mapping[str, object] | None = None
    default_options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    user_id_prefix: str | None = None


def parse_config(sec: Section) -> GitHubConfig:
    # Late: the config module imports this one while it loads.
    from hookshot.config import check_http_url

    webhook = sec.section("webhook")
    secret = webhook.required_text("secret") if webhook else ""
    if webhook is None:
        sec.problem("webhook", "is required: {secret: ...} as set on the GitHub webhook")
    elif webhook is not None:
        webhook.warn_unknown()
    auth = sec.section("auth")
    app_id = None
    key_file = None
    if auth is not None:
        raw_id = auth.get("id")
        if isinstance(raw_id, int | str) and not isinstance(raw_id, bool) and str(raw_id):
            app_id = str(raw_id)
        else:
            auth.problem("id", "must be the GitHub App's numeric id")
        key_file = auth.required_text("privateKeyFile") or None
        auth.warn_unknown()
    enterprise = sec.text("enterpriseUrl")
    if enterprise and (why := check_http_url(enterprise)):
        sec.problem("enterpriseUrl", why)
    oauth = sec.section("oauth")
    defaults = sec.section("defaultOptions")
    config = GitHubConfig(
        webhook_secret=secret,
        app_id=app_id,
        private_key_file=key_file,
        enterprise_url=enterprise or None,
        oauth=MappingProxyType(dict(oauth.raw)) if oauth else None,
        default_options=MappingProxyType(dict(defaults.raw)) if defaults else MappingProxyType({}),
        user_id_prefix=sec.text("userIdPrefix") or None,
    )
    sec.warn_unknown()
    return config
