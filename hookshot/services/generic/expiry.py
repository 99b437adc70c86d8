"""`generic.sendExpiryNotice`: tell a room, as hookshot does, 3 days before one of its
webhooks stops working (not in its last 15 minutes: too late to act on)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from hookshot.core.connections import OutgoingMessage
from hookshot.core.durations import describe_duration
from hookshot.core.markdown import escape_markdown, notice_content
from hookshot.core.outbox import Outbox
from hookshot.core.store import ConnectionStore
from hookshot.services.generic.hook import GenericHook, format_timestamp

log = logging.getLogger(__name__)

# hookshot's WARN_AT_EXPIRY_MS and CHECK_EXPIRY_MS.
WARN_BEFORE = timedelta(days=3)
TOO_LATE = timedelta(minutes=15)


def due(
    store: ConnectionStore, now: datetime, warn_before: timedelta = WARN_BEFORE
) -> list[GenericHook]:
    """Hooks that expire within `warn_before` and have not expired yet."""
    found: list[GenericHook] = []
    for conn in store:
        if not isinstance(conn, GenericHook):
            continue
        expiry = conn.state.expiration_date
        if expiry is not None and now + TOO_LATE <= expiry <= now + warn_before:
            found.append(conn)
    return found


def notice(hook: GenericHook, now: datetime) -> OutgoingMessage:
    """hookshot's expiry warning: whole hours left ('71 hours'), minutes in the last hour
    (hookshot prints an empty duration there)."""
    expiry = hook.state.expiration_date
    assert expiry is not None
    left = (expiry - now).total_seconds()
    when = describe_duration(left, ("hour",) if left >= 3600 else ("minute",))
    text = f"The webhook **{escape_markdown(hook.name)}** will be expiring in {when}."
    return OutgoingMessage(room_id=hook.room_id, content=notice_content(text))


class ExpiryNotifier:
    """Checks every `interval` seconds; each hook/expiry pair is announced once (the outbox
    job id is derived from both, and the queue remembers ids for a week)."""

    def __init__(self, store: ConnectionStore, outbox: Outbox, interval: float = 600.0) -> None:
        self._store = store
        self._outbox = outbox
        self._interval = interval
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def check(self, now: datetime | None = None) -> int:
        moment = now or datetime.now(UTC)
        hooks = due(self._store, moment)
        for hook in hooks:
            expiry = hook.state.expiration_date
            assert expiry is not None
            await self._outbox.send(
                f"expiry:{hook.hook_id}:{format_timestamp(expiry)}", [notice(hook, moment)]
            )
        return len(hooks)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.check()
            except Exception:
                log.exception("expiry check failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
