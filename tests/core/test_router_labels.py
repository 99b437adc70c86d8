"""The failure metric names a connection the way hookshot does, never by its hookId (a hook's
URL is its hookId: /metrics would list the URL of every hook that failed)."""

from __future__ import annotations

from hookshot import wire
from hookshot.core.connections import connection_id
from hookshot.core.queue.base import Job
from hookshot.core.router import _connection_label


def _job(payload: dict[str, object]) -> Job:
    return Job(wire.TOPIC_WEBHOOK, "generic:1", "h", dict(payload), 0, 0.0)


def test_a_generic_job_is_labelled_by_hookshots_connection_id() -> None:
    job = _job(
        {
            "kind": wire.KIND_GENERIC,
            "hook_id": "secret-hook-id",
            "room_id": "!r:x",
            "state_key": "ci",
        }
    )
    label = _connection_label(job)
    assert label == connection_id("!r:x", wire.GENERIC_HOOK, "ci")
    assert "secret-hook-id" not in label and len(label) == 32


def test_other_jobs_have_no_label() -> None:
    assert _connection_label(_job({"kind": wire.KIND_GITHUB, "hook_id": "x"})) == ""
