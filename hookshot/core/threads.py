"""Threads per subject: a message about a subject (a pull request, an alert) joins the thread
its first message started, and may edit that root or react on it.

A service marks a message with a `ThreadRef`; the sender resolves it when the message is sent.
Sends in a room are in order, so the root was sent (and recorded here) before any follow-up is
resolved. The subject -> root record lives in the queue's `ValueStore` (SQLite or Redis), so it
survives a restart; a redacted or vanished root starts a new thread. After a room upgrade the
record is found in the room(s) the new one replaced (`lineage.py`); the subject's first message
in the new room starts a new thread there whose root links the old one (`thread_links.py`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Final

from hookshot import wire
from hookshot.core.lineage import Lineage
from hookshot.core.queue.base import ValueStore
from hookshot.core.thread_links import Link, linked
from hookshot.errors import MatrixError
from hookshot.matrix.client import MatrixClient

log = logging.getLogger(__name__)

# A subject quiet for this long forgets its thread (its next notice starts a new one).
THREAD_TTL: Final = 90 * 24 * 3600.0
MAX_KEY_LENGTH: Final = 256


class ThreadAction(Enum):
    POST = "post"  # into the subject's thread; the first one becomes its root
    # Replace the root's content; without a root it is dropped, unless the subject's root is in
    # the room this one replaced: then it is posted as the new room's (linked) root.
    EDIT_ROOT = "edit"
    # React on the root, replacing this bridge's previous reaction (dropped without a root).
    REACT = "react"


@dataclass(frozen=True)
class ThreadRef:
    """Where a message goes relative to its subject's thread; `key` is unique in the room."""

    key: str
    action: ThreadAction = ThreadAction.POST
    reaction: str | None = None  # REACT: the emoji

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "action": self.action.value}
        if self.reaction is not None:
            out["reaction"] = self.reaction
        return out

    @classmethod
    def from_payload(cls, raw: object) -> ThreadRef | None:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("key"), str):
            return None
        try:
            action = ThreadAction(raw.get("action", ThreadAction.POST.value))
        except ValueError:
            return None
        reaction = raw.get("reaction")
        return cls(str(raw["key"]), action, reaction if isinstance(reaction, str) else None)


def check_key(value: object, field: str = "threadKey") -> str | None:
    """A thread key from untrusted input: None/"" for none; a clear error otherwise."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f"'{field}' must be a string")
    text = str(value)
    if len(text) > MAX_KEY_LENGTH:
        raise ValueError(f"'{field}' must be at most {MAX_KEY_LENGTH} characters")
    return text


@dataclass(frozen=True)
class Root:
    """A subject's thread as stored: its root and latest event, who sent the root, the
    reaction this bridge last put on it, and the root in a predecessor room it continues."""

    root: str
    sender: str | None
    last: str
    txn: str  # the root send's txn id: a redelivered root job is not threaded under itself
    reaction: str | None = None
    from_room: str | None = None
    from_root: str | None = None

    @property
    def link(self) -> Link | None:
        if self.from_room is None or self.from_root is None:
            return None
        return Link(self.from_room, self.from_root)

    def encode(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> Root | None:
        try:
            raw = json.loads(text) if text else None
            return cls(**raw) if isinstance(raw, dict) else None
        except (ValueError, TypeError):
            return None


def in_thread(content: Mapping[str, Any], root: str, last: str) -> dict[str, Any]:
    """`content` as a thread message, with the reply fallback for clients without threads."""
    relation = {
        "rel_type": wire.REL_THREAD,
        "event_id": root,
        "is_falling_back": True,
        wire.M_IN_REPLY_TO: {"event_id": last},
    }
    return {**content, wire.M_RELATES_TO: relation}


def replacing(content: Mapping[str, Any], root: str) -> dict[str, Any]:
    """An edit of `root` to `content`, with a `* ` fallback for clients without edits."""
    new = {k: v for k, v in content.items() if k != wire.M_RELATES_TO}
    out: dict[str, Any] = {**new, "body": f"* {new.get('body', '')}"}
    if isinstance(new.get("formatted_body"), str):
        out["formatted_body"] = f"* {new['formatted_body']}"
    out[wire.M_NEW_CONTENT] = new
    out[wire.M_RELATES_TO] = {"rel_type": wire.REL_REPLACE, "event_id": root}
    return out


def reaction(root: str, key: str) -> dict[str, Any]:
    return {wire.M_RELATES_TO: {"rel_type": wire.REL_ANNOTATION, "event_id": root, "key": key}}


@dataclass(frozen=True)
class Planned:
    """What the sender sends for a threaded job, and what to record once it is sent."""

    event_type: str
    content: dict[str, Any]
    sender: str | None
    ref: ThreadRef
    root: Root | None  # None: this send starts the thread
    redact: str | None = None  # REACT: the previous reaction, redacted after the send
    link: Link | None = None  # a new root: the old room's root it continues


class Threads:
    """Resolves `ThreadRef`s at send time against the durable subject -> root records."""

    def __init__(self, client: MatrixClient, store: ValueStore) -> None:
        self._client = client
        self._store = store
        self._lineage = Lineage(store)

    @staticmethod
    def _key(room_id: str, key: str) -> str:
        return f"{wire.THREAD_RECORD_PREFIX}{room_id}:{key}"

    async def plan(
        self,
        room_id: str,
        ref: ThreadRef,
        payload: Mapping[str, Any],
        sender: str | None,
        txn_id: str,
    ) -> Planned | None:
        """How to send a job carrying `ref`; None when there is nothing to send (an edit or
        reaction of a subject without a thread)."""
        event_type = str(payload.get("event_type", wire.M_ROOM_MESSAGE))
        content = dict(payload["content"])
        # A reaction never starts a thread, so it needs no look into predecessor rooms.
        root, link = await self._find(
            room_id, ref.key, txn_id, ref.action is not ThreadAction.REACT
        )
        if root is None and link is not None and ref.action is not ThreadAction.REACT:
            # The subject's thread is in the room this one replaced: a new root here, linked.
            return Planned(event_type, linked(content, link), sender, ref, None, link=link)
        if ref.action is ThreadAction.POST:
            if root is None:
                return Planned(event_type, content, sender, ref, None)
            return Planned(event_type, in_thread(content, root.root, root.last), sender, ref, root)
        if root is None:
            log.info("no thread for %s in %s: %s dropped", ref.key, room_id, ref.action.value)
            return None
        # Only the root's own sender can edit it; reactions come from it too, for one voice.
        if ref.action is ThreadAction.EDIT_ROOT:
            new = linked(content, root.link) if root.link is not None else content
            return Planned(event_type, replacing(new, root.root), root.sender, ref, root)
        if ref.reaction is None:
            return None
        return Planned(
            wire.M_REACTION,
            reaction(root.root, ref.reaction),
            root.sender,
            ref,
            root,
            redact=root.reaction,
        )

    async def _find(
        self, room_id: str, key: str, txn_id: str, follow: bool
    ) -> tuple[Root | None, Link | None]:
        """The subject's live root in the room, or else (when `follow`) the live root in the
        nearest predecessor room that has one for it to link to; (None, None): a plain new
        thread."""
        record = Root.decode(await self._store.get_value(self._key(room_id, key)))
        if record is not None:
            if record.txn == txn_id:
                return None, record.link  # the root's own send again: the same root, link too
            return (record if await self._alive(room_id, record.root, key) else None), None
        if not follow:
            return None, None
        for old_room in await self._lineage.predecessors(room_id):
            old = Root.decode(await self._store.get_value(self._key(old_room, key)))
            if old is not None:
                # The nearest record decides: a redacted old root starts a plain thread.
                alive = await self._alive(old_room, old.root, key)
                return None, (Link(old_room, old.root) if alive else None)
        return None, None

    async def _alive(self, room_id: str, root: str, key: str) -> bool:
        """Whether the root event can still be read and was not redacted."""
        try:
            event = await self._client.get_event(room_id, root)
        except MatrixError as err:
            if not err.permanent:
                raise
            log.info("thread root %s of %s is gone (%s): a new thread starts", root, key, err)
            return False
        unsigned = event.get("unsigned")
        if not event.get("content") or (
            isinstance(unsigned, dict) and "redacted_because" in unsigned
        ):
            log.info("thread root %s of %s was redacted: a new thread starts", root, key)
            return False
        return True

    async def sent(self, room_id: str, planned: Planned, event_id: str, txn_id: str) -> None:
        """Record where a threaded send landed (before its job is acknowledged)."""
        ref, root = planned.ref, planned.root
        if root is None:
            link = planned.link
            record = Root(
                root=event_id,
                sender=planned.sender,
                last=event_id,
                txn=txn_id,
                from_room=link.room_id if link is not None else None,
                from_root=link.event_id if link is not None else None,
            )
        elif ref.action is ThreadAction.POST:
            record = replace(root, last=event_id)
        elif ref.action is ThreadAction.REACT:
            record = replace(root, reaction=event_id)
        else:
            record = root
        await self._store.set_value(self._key(room_id, ref.key), record.encode(), THREAD_TTL)
        if planned.redact is not None and planned.redact != event_id:
            try:
                await self._client.redact(
                    room_id, planned.redact, f"{txn_id}-r", user_id=planned.sender
                )
            except MatrixError as err:
                # The old reaction stays; the new one is already there, so this is cosmetic.
                log.warning("could not remove reaction %s: %s", planned.redact, err)
