"""The services the bridge runs, one folder each; each listed here once (see base.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hookshot.services.base import Service


def registered() -> tuple[Service, ...]:
    """Every service on the `Service` interface. Imported on first use: the services import
    the config module, which asks for this list while it loads."""
    from hookshot.services.feeds.service import SERVICE_OBJECT as feeds
    from hookshot.services.forgejo.service import SERVICE_OBJECT as forgejo
    from hookshot.services.generic.service import SERVICE_OBJECT as generic
    from hookshot.services.github.service import SERVICE_OBJECT as github
    from hookshot.services.gitlab.service import SERVICE_OBJECT as gitlab

    # Generic first: its kinds, commands and widget sections came first before it moved here.
    return (generic, github, gitlab, forgejo, feeds)
