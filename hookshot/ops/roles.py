"""Process roles: what one `hookshot run --role ...` process serves and runs.

    all       everything in one process (default; embedded SQLite unless `queue` is set)
    webhooks  HTTP intake only (GitHub, GitLab, generic hooks): verifies and queues; holds no
              room state (reads the hook directory the bridge publishes to Redis)
    bridge    appservice API, room state, commands, widget API, the router that turns webhook
              jobs into send jobs, outbound hooks, expiry notices
    sender    delivers send jobs to the homeserver

Every role but `all` needs `queue.redisUri`. Run one `bridge`, and any number of `webhooks`
and `sender` processes; the queue keeps one job per room in flight across all of them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from hookshot.config import Config
from hookshot.errors import ConfigError


class Role(enum.StrEnum):
    ALL = "all"
    WEBHOOKS = "webhooks"
    BRIDGE = "bridge"
    SENDER = "sender"


APPSERVICE: Final = "appservice"


@dataclass(frozen=True, slots=True)
class RolePlan:
    resources: frozenset[str]  # listener resources served ("appservice" = bridge.port)
    intake: bool  # serves the webhook intake routes
    room_state: bool  # loads rooms, handles homeserver events and commands, routes webhooks
    sends: bool  # runs the sender
    homeserver: bool  # talks to the homeserver (so /ready checks it)


PLANS: Final = {
    Role.ALL: RolePlan(
        frozenset({APPSERVICE, "webhooks", "metrics", "widgets"}), True, True, True, True
    ),
    Role.WEBHOOKS: RolePlan(frozenset({"webhooks", "metrics"}), True, False, False, False),
    # `webhooks` on the bridge serves only the GitHub OAuth callback, which needs room state.
    Role.BRIDGE: RolePlan(
        frozenset({APPSERVICE, "webhooks", "metrics", "widgets"}), False, True, False, True
    ),
    Role.SENDER: RolePlan(frozenset({"metrics"}), False, False, True, True),
}


def check_role(role: Role, config: Config) -> None:
    """Refuse a role the config cannot support."""
    if role is not Role.ALL and config.queue is None:
        raise ConfigError(
            "queue.redisUri", f"is required by role {role.value!r}: roles share queues in Redis"
        )
