"""Quiet rooms for GitHub (`threads: true`): a connection's notices about a pull request or
issue go into that subject's thread, its root is edited to the subject's current state, and
with `ciReactions: true` CI results react on the root instead of posting.

`SubjectTracker` keeps each subject's state (and which PR a branch is the head of) in the
queue's ValueStore; `threaded` (pure) turns one connection's notices into thread messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hookshot import wire
from hookshot.core.connections import OutgoingMessage
from hookshot.core.queue.base import ValueStore
from hookshot.core.subjects import RootUpdate, thread_messages
from hookshot.core.threads import THREAD_TTL
from hookshot.services.github.payload import Content
from hookshot.services.github.repo import GitHubRepo
from hookshot.services.github.subject import (
    Subject,
    on_push,
    render_root,
    subject_key,
    subject_numbers,
    update,
)

_CI_EVENTS: Final = ("github.check_run.", "github.check_suite.", "github.workflow_run.")
_BRANCH_PREFIX: Final = "refs/heads/"


@dataclass(frozen=True)
class Change:
    """One subject before and after a delivery (`old` None: first seen)."""

    key: str
    old: Subject | None
    new: Subject


def is_ci_event(name: str) -> bool:
    return name.startswith(_CI_EVENTS)


class SubjectTracker:
    """Folds deliveries into the stored subject states."""

    def __init__(self, store: ValueStore | None) -> None:
        self._store = store
        # One read-modify-write at a time, so two results of one CI round are both counted.
        self._lock = asyncio.Lock()

    async def observe(self, name: str, payload: Mapping[str, Any]) -> list[Change]:
        """The subjects a delivery changes, with their states before and after."""
        repo_obj = payload.get("repository")
        repo = repo_obj.get("full_name") if isinstance(repo_obj, Mapping) else None
        if not isinstance(repo, str):
            return []
        async with self._lock:
            if name == "github.push":
                return await self._push(repo, payload)
            changes = []
            for number in subject_numbers(payload):
                key = subject_key(repo, number)
                old = await self._get(key)
                new = update(old, repo, number, payload)
                await self._put(key, new)
                await self._remember_branch(repo, number, payload)
                changes.append(Change(key, old, new))
            return changes

    async def _push(self, repo: str, payload: Mapping[str, Any]) -> list[Change]:
        ref, after = payload.get("ref"), payload.get("after")
        if not isinstance(ref, str) or not isinstance(after, str) or self._store is None:
            return []
        number = await self._store.get_value(_branch_key(repo, ref))
        if number is None or not number.isdigit():
            return []
        key = subject_key(repo, int(number))
        old = await self._get(key)
        if old is None or old.state not in ("open", "draft"):
            return []
        new = on_push(old, after)
        await self._put(key, new)
        return [Change(key, old, new)]

    async def _remember_branch(self, repo: str, number: int, payload: Mapping[str, Any]) -> None:
        """A PR from a branch of this repository: pushes to that branch are about it."""
        pr = payload.get("pull_request")
        head = pr.get("head") if isinstance(pr, Mapping) else None
        if self._store is None or not isinstance(head, Mapping):
            return
        head_repo, branch = head.get("repo"), head.get("ref")
        same_repo = isinstance(head_repo, Mapping) and head_repo.get("full_name") == repo
        if same_repo and isinstance(branch, str):
            ref = f"{_BRANCH_PREFIX}{branch}"
            await self._store.set_value(_branch_key(repo, ref), str(number), THREAD_TTL)

    async def _get(self, key: str) -> Subject | None:
        if self._store is None:
            return None
        return Subject.decode(await self._store.get_value(f"{wire.GITHUB_SUBJECT_PREFIX}{key}"))

    async def _put(self, key: str, subject: Subject) -> None:
        if self._store is not None:
            await self._store.set_value(
                f"{wire.GITHUB_SUBJECT_PREFIX}{key}", subject.encode(), THREAD_TTL
            )


def _branch_key(repo: str, ref: str) -> str:
    return f"{wire.GITHUB_BRANCH_PREFIX}{repo.lower()}:{ref}"


def threaded(
    conn: GitHubRepo,
    name: str,
    notes: Sequence[Content],
    changes: Sequence[Change],
    *,
    url_previews: bool = True,
) -> list[OutgoingMessage]:
    """The messages `conn` sends for a delivery: its `notes` as they are without threads, else
    into the (first) subject's thread, then the root edits and CI reactions."""
    if not conn.threads:
        return [OutgoingMessage(room_id=conn.room_id, content=note) for note in notes]
    updates = [
        RootUpdate(
            key=change.key,
            first_seen=change.old is None,
            before=render_root(change.old, url_previews=url_previews) if change.old else None,
            after=render_root(change.new, url_previews=url_previews),
            ci_before=change.old.ci_overall if change.old else None,
            ci_after=change.new.ci_overall,
        )
        for change in changes
    ]
    return thread_messages(
        conn.room_id, notes, updates, ci=is_ci_event(name), ci_reactions=conn.ci_reactions
    )
