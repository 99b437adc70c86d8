"""Which state event types are connections, which service they belong to, how to build one
(the core sees them as `core.kinds.Kind`)."""

from __future__ import annotations

from hookshot.core.kinds import Kind
from hookshot.services.forgejo.kind import FORGEJO_REPO_KIND
from hookshot.services.generic.kind import GENERIC_KIND, OUTBOUND_KIND
from hookshot.services.github.kind import GITHUB_REPO_KIND
from hookshot.services.gitlab.kind import GITLAB_REPO_KIND

GENERIC = GENERIC_KIND
GITHUB_REPO = GITHUB_REPO_KIND

GITLAB_REPO = GITLAB_REPO_KIND  # its build needs the instances: the running service has them
FORGEJO_REPO = FORGEJO_REPO_KIND  # the same

OUTBOUND = OUTBOUND_KIND

KINDS: tuple[Kind, ...] = (GENERIC, GITHUB_REPO, GITLAB_REPO, FORGEJO_REPO, OUTBOUND)
_BY_TYPE = {t: kind for kind in KINDS for t in kind.event_types}


def kind_for(event_type: str) -> Kind | None:
    return _BY_TYPE.get(event_type)


def connection_event_types() -> frozenset[str]:
    return frozenset(_BY_TYPE)
