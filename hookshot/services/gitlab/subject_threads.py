"""Quiet rooms for GitLab (`threads: true`): a project connection's notices about a merge
request or issue go into that subject's thread, its root is edited to the subject's current
state, and with `ciReactions: true` its pipelines react on the root instead of posting.

`SubjectTracker` keeps each subject's state in the queue's ValueStore, and which open MR a
source branch or a head commit belongs to, so pushes to that branch and its branch pipelines
join the MR's thread too; `threaded` (pure) turns one connection's notices into thread messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hookshot.core.connections import OutgoingMessage
from hookshot.core.queue.base import ValueStore
from hookshot.core.subjects import RootUpdate, is_sha, thread_messages
from hookshot.core.threads import THREAD_TTL, ThreadRef
from hookshot.services.gitlab.format import Content, is_confidential, project_ref
from hookshot.services.gitlab.repo import GitLabRepo, normalize_instance_url
from hookshot.services.gitlab.subject import (
    MR,
    OPEN_STATES,
    Subject,
    on_head,
    pipeline_target,
    pushed_branch,
    render_root,
    source_branch,
    subject_key,
    subject_of,
    update,
)
from hookshot.services.gitlab.wire import BRANCH_PREFIX, HEAD_PREFIX, SUBJECT_PREFIX

_CI_PREFIX: Final = "gitlab.pipeline."
# The ValueStore has no delete: a forgotten mapping is an empty value that soon expires.
_FORGET: Final = 1.0


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
        # A confidential issue's title must not reach a room's root, not even by an edit.
        if self._store is None or project is None or is_confidential(header, payload):
            return []
        instance = normalize_instance_url(instance_url or project.instance_url)
        where = f"{instance}/{project.path.lower()}"
        what = name.removeprefix("gitlab.").partition(".")[0]
        async with self._lock:
            if what == "push":
                return await self._push(where, payload)
            found = subject_of(name, payload)
            if found is None and what == "pipeline":
                return await self._branch_pipeline(where, project.path, name, payload)
            if found is None:
                return []
            kind, iid = found
            old = await self._get(where, kind, iid)
            new = update(old, project.path, kind, iid, name, payload)
            if what == "merge_request":
                await self._remember(where, new, source_branch(payload))
            return await self._put(where, old, new)

    async def _push(self, where: str, payload: Mapping[str, Any]) -> list[Change]:
        """A push to an open MR's source branch is its new head."""
        pushed = pushed_branch(payload)
        iid = await self._iid(f"{BRANCH_PREFIX}{where}:{pushed[0]}") if pushed else None
        old = await self._get(where, MR, iid) if iid is not None else None
        if pushed is None or old is None or old.state not in OPEN_STATES:
            return []
        await self._set(f"{HEAD_PREFIX}{where}@{pushed[1]}", str(old.iid))
        return await self._put(where, old, on_head(old, pushed[1]))

    async def _branch_pipeline(
        self, where: str, path: str, name: str, payload: Mapping[str, Any]
    ) -> list[Change]:
        """A pipeline without `merge_request` (a branch pipeline) for an open MR's head commit,
        or on its source branch, counts for that MR."""
        branch, sha = pipeline_target(payload)
        iid = await self._iid(f"{HEAD_PREFIX}{where}@{sha}") if sha else None
        if iid is None and branch is not None:
            iid = await self._iid(f"{BRANCH_PREFIX}{where}:{branch}")
        old = await self._get(where, MR, iid) if iid is not None else None
        if old is None or old.state not in OPEN_STATES:
            return []  # not about an open MR the bridge has seen
        return await self._put(where, old, update(old, path, MR, old.iid, name, payload))

    async def _remember(self, where: str, mr: Subject, branch: str | None) -> None:
        """Map an open MR's source branch and head commit to it; forget them once it is merged
        or closed (a later MR from the same branch claims them again)."""
        keys = [f"{BRANCH_PREFIX}{where}:{branch}"] if branch else []
        if is_sha(mr.head):
            keys.append(f"{HEAD_PREFIX}{where}@{mr.head}")
        for key in keys:
            if mr.state in OPEN_STATES:
                await self._set(key, str(mr.iid))
            elif await self._iid(key) == mr.iid:  # another open MR may use the branch now
                await self._set(key, "", _FORGET)

    async def _iid(self, key: str) -> int | None:
        assert self._store is not None
        value = await self._store.get_value(key)
        return int(value) if value is not None and value.isdigit() else None

    async def _set(self, key: str, value: str, ttl: float = THREAD_TTL) -> None:
        assert self._store is not None
        await self._store.set_value(key, value, ttl)

    async def _get(self, where: str, kind: str, iid: int) -> Subject | None:
        assert self._store is not None
        return Subject.decode(await self._store.get_value(f"{SUBJECT_PREFIX}{where}:{kind}:{iid}"))

    async def _put(self, where: str, old: Subject | None, new: Subject) -> list[Change]:
        await self._set(f"{SUBJECT_PREFIX}{where}:{new.kind}:{new.iid}", new.encode())
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
