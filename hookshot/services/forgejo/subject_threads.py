"""Quiet rooms for Forgejo and Gitea (`threads: true`): a repository connection's notices about
a pull request or issue go into that subject's thread, its root is edited to the subject's
current state, and with `ciReactions: true` CI results react on the root instead of posting.

`SubjectTracker` keeps each subject's state, and which pull request a branch or a head commit
belongs to, in the queue's ValueStore; `threaded` (pure) turns one connection's notices into
thread messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hookshot.core.connections import OutgoingMessage
from hookshot.core.queue.base import ValueStore
from hookshot.core.subjects import RootUpdate, is_sha, thread_messages
from hookshot.core.threads import THREAD_TTL
from hookshot.services.forgejo.format import Content, repository_of
from hookshot.services.forgejo.repo import ForgejoRepo
from hookshot.services.forgejo.subject import (
    PR,
    Subject,
    head_of,
    on_head,
    render_root,
    run_result,
    subject_key,
    subject_of,
    update,
    with_run,
)
from hookshot.services.forgejo.wire import BRANCH_PREFIX, HEAD_PREFIX, SUBJECT_PREFIX

_BRANCH_PREFIX: Final = "refs/heads/"
MAX_BRANCH: Final = 255  # git's own limit on a ref name component is near this


@dataclass(frozen=True)
class Change:
    """One subject before and after a delivery (`old` None: first seen)."""

    old: Subject | None
    new: Subject

    def key(self, conn: ForgejoRepo) -> str:
        """The subject's thread key in `conn`'s room (named by the room's instance name)."""
        return subject_key(conn.state.instance, conn.full_name, self.new.number)


def is_ci_event(event_type: str) -> bool:
    return event_type.startswith("action_run_") or event_type == "workflow_run"


class SubjectTracker:
    """Folds deliveries into the stored subject states."""

    def __init__(self, store: ValueStore | None) -> None:
        self._store = store
        # One read-modify-write at a time, so two workflows of one commit are both counted.
        self._lock = asyncio.Lock()

    async def observe(self, event_type: str, payload: Mapping[str, Any]) -> list[Change]:
        """The subject a delivery changes (none or one), with its states before and after."""
        repository = repository_of(payload)
        page = repository.get("html_url")
        if self._store is None or not isinstance(page, str) or not page:
            return []
        if not isinstance(repository.get("full_name"), str):
            return []
        repo = page.rstrip("/").lower()  # one repository on one instance
        async with self._lock:
            if event_type == "push":
                return await self._push(repo, payload)
            result = run_result(event_type, payload)
            if result is not None:
                number = await self._number(f"{HEAD_PREFIX}{repo}@{result.sha}")
                old = await self._get(repo, number) if number else None
                if old is None:
                    return []  # not the head of a pull request the bridge has seen
                return await self._put(repo, old, with_run(old, result))
            found = subject_of(event_type, payload)
            if found is None:
                return []
            kind, number = found
            old = await self._get(repo, number)
            new = update(old, repository, kind, number, payload)
            if kind == PR:
                await self._remember_head(repo, number, repository, payload)
            return await self._put(repo, old, new)

    async def _push(self, repo: str, payload: Mapping[str, Any]) -> list[Change]:
        ref, after = payload.get("ref"), payload.get("after")
        if not isinstance(ref, str) or not ref.startswith(_BRANCH_PREFIX) or not is_sha(after):
            return []
        branch = ref.removeprefix(_BRANCH_PREFIX)
        if not branch or len(branch) > MAX_BRANCH or not str(after).strip("0"):
            return []  # no branch, or the branch was deleted
        number = await self._number(f"{BRANCH_PREFIX}{repo}:{branch}")
        old = await self._get(repo, number) if number else None
        if old is None or old.state not in ("open", "draft"):
            return []
        assert self._store is not None and number is not None
        await self._store.set_value(f"{HEAD_PREFIX}{repo}@{after}", str(number), THREAD_TTL)
        return await self._put(repo, old, on_head(old, str(after)))

    async def _remember_head(
        self, repo: str, number: int, repository: Mapping[str, Any], payload: Mapping[str, Any]
    ) -> None:
        """CI results for the head commit, and pushes to a head branch of this repository (not
        a fork's), are about this pull request."""
        assert self._store is not None
        sha = head_of(payload)
        if sha is not None:
            await self._store.set_value(f"{HEAD_PREFIX}{repo}@{sha}", str(number), THREAD_TTL)
        pr = _obj(payload.get("pull_request"))
        head, base = _obj(pr.get("head")), _obj(pr.get("base"))
        branch = head.get("ref")
        head_repo = _obj(head.get("repo")).get("full_name")
        # Gitea may leave `head.repo` null; the repository ids still tell a fork apart.
        same_id = isinstance(head.get("repo_id"), int) and head.get("repo_id") == base.get(
            "repo_id"
        )
        same = head_repo == repository.get("full_name") or (head_repo is None and same_id)
        if same and isinstance(branch, str) and 0 < len(branch) <= MAX_BRANCH:
            key = f"{BRANCH_PREFIX}{repo}:{branch}"
            await self._store.set_value(key, str(number), THREAD_TTL)

    async def _number(self, key: str) -> int | None:
        assert self._store is not None
        value = await self._store.get_value(key)
        return int(value) if value is not None and value.isdigit() else None

    async def _get(self, repo: str, number: int | None) -> Subject | None:
        assert self._store is not None
        return Subject.decode(await self._store.get_value(f"{SUBJECT_PREFIX}{repo}#{number}"))

    async def _put(self, repo: str, old: Subject | None, new: Subject) -> list[Change]:
        assert self._store is not None
        key = f"{SUBJECT_PREFIX}{repo}#{new.number}"
        await self._store.set_value(key, new.encode(), THREAD_TTL)
        return [Change(old, new)]


def threaded(
    conn: ForgejoRepo,
    event_type: str,
    notes: Sequence[Content],
    changes: Sequence[Change],
) -> list[OutgoingMessage]:
    """The messages `conn` sends for a delivery: its `notes` as they are without threads, else
    into the subject's thread, then the root edit and CI reaction."""
    if not conn.threads:
        return [OutgoingMessage(room_id=conn.room_id, content=note) for note in notes]
    updates = [
        RootUpdate(
            key=change.key(conn),
            first_seen=change.old is None,
            before=render_root(change.old) if change.old else None,
            after=render_root(change.new),
            ci_before=change.old.ci_overall if change.old else None,
            ci_after=change.new.ci_overall,
        )
        for change in changes
    ]
    return thread_messages(
        conn.room_id, notes, updates, ci=is_ci_event(event_type), ci_reactions=conn.ci_reactions
    )


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
