"""Quiet rooms for GitLab (`threads: true`): a project connection's notices about a merge
request or issue go into that subject's thread, its root is edited to the subject's current
state, and with `ciReactions: true` MR pipelines react on the root instead of posting.

`SubjectTracker` keeps each subject's state in the queue's ValueStore; `threaded` (pure) turns
one connection's notices into thread messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hookshot.core.connections import OutgoingMessage
from hookshot.core.queue.base import ValueStore
from hookshot.core.subjects import RootUpdate, thread_messages
from hookshot.core.threads import THREAD_TTL, ThreadRef
from hookshot.services.gitlab.format import Content, is_confidential, project_ref
from hookshot.services.gitlab.repo import GitLabRepo, normalize_instance_url
from hookshot.services.gitlab.subject import (
    MR,
    Subject,
    render_root,
    subject_key,
    subject_of,
    update,
)
from hookshot.services.gitlab.wire import SUBJECT_PREFIX

_CI_PREFIX: Final = "gitlab.pipeline."


@dataclass(frozen=True)
class Change:
    """One subject before and after a delivery (`old` None: first seen)."""

    old: Subject | None
    new: Subject

    def key(self, conn: GitLabRepo) -> str:
        """The subject's thread key in `conn`'s room (named by the room's instance name)."""
        return subject_key(conn.state.instance, self.new.path, self.new.kind, self.new.iid)


def is_ci_event(name: str) -> bool:
    return name.startswith(_CI_PREFIX)


class SubjectTracker:
    """Folds deliveries into the stored subject states."""

    def __init__(self, store: ValueStore | None) -> None:
        self._store = store
        # One read-modify-write at a time, so two pipelines of one MR are both counted.
        self._lock = asyncio.Lock()

    async def observe(
        self, name: str, payload: Mapping[str, Any], instance_url: str | None, header: str | None
    ) -> list[Change]:
        """The subject a delivery changes (none or one), with its states before and after."""
        project = project_ref(payload)
        found = subject_of(name, payload)
        # A confidential issue's title must not reach a room's root, not even by an edit.
        if self._store is None or project is None or found is None:
            return []
        if is_confidential(header, payload):
            return []
        kind, iid = found
        instance = normalize_instance_url(instance_url or project.instance_url)
        key = f"{SUBJECT_PREFIX}{instance}/{project.path.lower()}:{kind}:{iid}"
        async with self._lock:
            old = Subject.decode(await self._store.get_value(key))
            new = update(old, project.path, kind, iid, name, payload)
            await self._store.set_value(key, new.encode(), THREAD_TTL)
        return [Change(old, new)]


def threaded(
    conn: GitLabRepo,
    name: str,
    notes: Sequence[Content],
    changes: Sequence[Change],
) -> list[OutgoingMessage]:
    """The messages `conn` sends for a delivery: its `notes` as they are without threads, else
    into the subject's thread, then the root edit and CI reaction."""
    if not conn.threads:
        return [OutgoingMessage(room_id=conn.room_id, content=note) for note in notes]
    previews = conn.show_url_previews()
    updates = [
        RootUpdate(
            key=change.key(conn),
            first_seen=change.old is None,
            before=render_root(change.old, url_previews=previews) if change.old else None,
            after=render_root(change.new, url_previews=previews),
            ci_before=change.old.ci_overall if change.old else None,
            ci_after=change.new.ci_overall,
        )
        for change in changes
    ]
    return thread_messages(
        conn.room_id, notes, updates, ci=is_ci_event(name), ci_reactions=conn.ci_reactions
    )


def thread_ref(conn: GitLabRepo, path: str, iid: str) -> ThreadRef | None:
    """The thread of merge request `iid` of `path` for a review batch in `conn`'s room."""
    if not conn.threads or not iid.isdigit():
        return None
    return ThreadRef(subject_key(conn.state.instance, path, MR, int(iid)))
