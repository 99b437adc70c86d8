"""`generic.sendExpiryNotice`: tell a room a day before one of its webhooks stops working."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from hookshot import wire
from hookshot.core.connections import OutgoingMessage
from hookshot.core.outbox import Outbox
from hookshot.core.store import ConnectionStore
from hookshot.services.generic.hook import GenericHook, format_timestamp

log = logging.getLogger(__name__)

WARN_BEFORE = timedelta(days=1)


def due(
    store: ConnectionStore, now: datetime, warn_before: timedelta = WARN_BEFORE
) -> list[GenericHook]:
    """Hooks that expire within `warn_before` and have not expired yet."""
    found: list[GenericHook] = []
    for conn in store:
        if not isinstance(conn, GenericHook):
            continue
        expiry = conn.state.expiration_date
        if expiry is not None and now < expiry <= now + warn_before:
            found.append(conn)
    return found


def notice(hook: GenericHook) -> OutgoingMessage:
    expiry = hook.state.expiration_date
    assert expiry is not None
    when = expiry.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return OutgoingMessage(
        room_id=hook.room_id,
        content={
            "msgtype": wire.M_NOTICE,
            "body": f'The webhook "{hook.name}" expires at {when}. After that its URL '
            "answers 404; create a new webhook to keep receiving messages.",
        },
    )


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
        hooks = due(self._store, now or datetime.now(UTC))
        for hook in hooks:
            expiry = hook.state.expiration_date
            assert expiry is not None
            await self._outbox.send(
                f"expiry:{hook.hook_id}:{format_timestamp(expiry)}", [notice(hook)]
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
