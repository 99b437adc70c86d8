"""GitLab's names on the wire (kept in hookshot/wire.py, which others and the tests read)."""

from __future__ import annotations

from typing import Final

from hookshot.wire import GITLAB_REPO, GITLAB_REPO_TYPES, KIND_GITLAB
from hookshot.wire import SERVICE_GITLAB as SERVICE

__all__ = [
    "BRANCH_PREFIX",
    "DISCUSSIONS_KEY",
    "GITLAB_REPO",
    "GITLAB_REPO_TYPES",
    "HEAD_PREFIX",
    "KIND_GITLAB",
    "SERVICE",
    "SUBJECT_PREFIX",
]

DISCUSSIONS_KEY: Final = "discussions"  # send-job payload key: GitLab discussion ids in the notice
# ValueStore key prefix of a merge request's / issue's state (threads: true; ours).
SUBJECT_PREFIX: Final = "glsubject:"
# Ours (threads: true): which open merge request a source branch (`<instance>/<path>:<branch>`)
# or a head commit (`<instance>/<path>@<sha>`) belongs to, so pushes and branch pipelines join it.
BRANCH_PREFIX: Final = "glbranch:"
HEAD_PREFIX: Final = "glhead:"
