"""Expiry: provisioning limits and the expiry notices (pure parts, in-memory queue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hookshot import wire
from hookshot.core.outbox import Outbox
from hookshot.core.queue.memory import MemoryQueue
from hookshot.core.store import ConnectionStore
from hookshot.errors import CommandError
from hookshot.services.generic import hook as generic_hook
from hookshot.services.generic.expiry import ExpiryNotifier, due
from hookshot.services.generic.provisioning import Provisioner, WebhookSettings

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def _provisioner(max_days: float | None, required: bool) -> Provisioner:
    settings = WebhookSettings(
        enabled=True,
        url_prefix="https://hooks.test/webhook/",
        max_expiry_seconds=max_days * 86400 if max_days else None,
        require_expiry=required,
    )
    # expiry_for is pure: no client calls happen.
    return Provisioner(client=None, hook_ids=None, allowed=lambda *_: True, webhooks=settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("max_days", "required", "seconds", "expected", "error"),
    [
        (None, False, None, None, None),
        (None, False, 3600, NOW + timedelta(hours=1), None),
        (30, False, 30 * 86400, NOW + timedelta(days=30), None),
        (
            30,
            False,
            31 * 86400,
            None,
            r"^Expiration date cannot exceed the configured max expiry time \(30 days\)$",
        ),
        (None, True, None, None, "^Expiration date must be set"),
        (None, False, 0, None, "^Expiration date must at least be a hour in the future$"),
        (None, False, 3599, None, "^Expiration date must at least be a hour in the future$"),
    ],
)
def test_expiry_limits(
    max_days: float | None, required: bool, seconds: float | None, expected: Any, error: str | None
) -> None:
    prov = _provisioner(max_days, required)
    if error:
        with pytest.raises(CommandError, match=error):
            prov.expiry_for(seconds, NOW)
    else:
        assert prov.expiry_for(seconds, NOW) == expected


def test_hook_url_joins_prefix() -> None:
    assert WebhookSettings(True, "https://h/webhook").hook_url("abc") == "https://h/webhook/abc"
    assert WebhookSettings(True, "https://h/webhook/").hook_url("abc") == "https://h/webhook/abc"


def _store(*expiries: datetime | None) -> ConnectionStore:
    store = ConnectionStore()
    for n, expiry in enumerate(expiries):
        content: dict[str, Any] = {"name": f"hook{n}"}
        if expiry:
            content["expirationDate"] = generic_hook.format_timestamp(expiry)
        conn = generic_hook.from_state("!r:hs", wire.GENERIC_HOOK, f"hook{n}", content, f"id{n}")
        store.apply(conn.key, conn)
    return store


def test_due_hooks() -> None:
    store = _store(
        None,
        NOW + timedelta(hours=2),
        NOW + timedelta(days=3),
        NOW + timedelta(days=3, seconds=1),
        NOW - timedelta(hours=1),
        NOW + timedelta(minutes=14),
    )
    # hookshot's window: within 3 days, but not the last 15 minutes.
    assert [h.name for h in due(store, NOW)] == ["hook1", "hook2"]


async def test_notices_are_sent_once() -> None:
    queue = MemoryQueue()
    notifier = ExpiryNotifier(_store(NOW + timedelta(hours=5)), Outbox(queue))
    assert await notifier.check(NOW) == 1
    await notifier.check(NOW + timedelta(minutes=10))
    jobs = await queue.take(wire.TOPIC_SEND, 10, timeout=0)
    assert len(jobs) == 1
    content = jobs[0].payload["content"]
    assert content["body"] == "The webhook **hook0** will be expiring in 5 hours."
    assert content["formatted_body"] == (
        "<p>The webhook <strong>hook0</strong> will be expiring in 5 hours.</p>"
    )
    await queue.close()
