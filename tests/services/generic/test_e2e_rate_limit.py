"""Per-hook rate limits against the real bridge and Synapse: a burst past a hook's limit gets
429 + Retry-After and is not stored, the accepted requests arrive once, and another hook in
the same room is unaffected, also while wrk floods the first one."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import UserFactory
from support.flows import (
    admin_room,
    command,
    count_markers,
    create_webhook,
    notice_from,
    room_with_bot,
)

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"
LIMITED = "hookshot_webhooks_rate_limited_total"
STORED = 'hookshot_queue_event_pushes_total{event="webhook"}'
WRK_SCRIPT = Path(__file__).with_name("wrk_statuses.lua")


async def _limited_hook(
    user: MatrixUser, room_id: str, name: str, neighbour: str, limit: dict[str, Any]
) -> tuple[str, str]:
    """Two hooks in the room: `name` with the rate `limit` in its state, `neighbour` with the
    bridge's default. Returns their URLs once the limit is in force."""
    url = await create_webhook(user, room_id, BOT, name)
    other = await create_webhook(user, room_id, BOT, neighbour)
    state = await user.get_state(room_id, HOOK, name)
    assert state is not None
    await user.send_state(room_id, HOOK, name, {**state, "rateLimit": limit})
    # A bad value is refused when it is written, with the reason; the bridge handles a room's
    # events in order, so once this notice is there the limit above is in force.
    other_state = await user.get_state(room_id, HOOK, neighbour)
    assert other_state is not None
    await user.send_state(
        room_id, HOOK, neighbour, {**other_state, "rateLimit": {"perSecond": "fast"}}
    )
    await user.wait_for_event(
        room_id,
        notice_from(
            BOT,
            f"Invalid generic connection `{neighbour}`: 'rateLimit' perSecond must be a whole",
        ),
        timeout=20,
    )
    return url, other


async def _metric(http: httpx.AsyncClient, base: str, name: str) -> float:
    """The sum of a metric's samples; `name` may end in a full label set (`x{a="b"}`)."""
    text = (await http.get(f"{base}/metrics")).text
    follows = " " if name.endswith("}") else " {"
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and line[len(name)] in follows
    )


async def test_a_burst_past_the_limit_gets_429_and_only_accepted_ones_arrive(
    bridge: BridgeProcess, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    # One token a second: refills during the burst below are allowed for, never required.
    url, other = await _limited_hook(
        user, room_id, "limited", "neighbour", {"perSecond": 1, "burst": 3}
    )
    run = uuid.uuid4().hex[:8]
    markers = [f"burst {run} #{i}" for i in range(10)]
    accepted: list[str] = []
    refused: list[httpx.Response] = []
    async with httpx.AsyncClient() as http:
        before = await _metric(http, bridge.files.webhook_base, LIMITED)
        started = time.monotonic()
        for marker in markers:
            resp = await http.post(url, json={"text": marker})
            if resp.status_code == 202:
                accepted.append(marker)
            else:
                refused.append(resp)
        elapsed = time.monotonic() - started
        # The neighbour, right after, in the same room: its own bucket.
        resp = await http.post(other, json={"text": f"neighbour {run}"})
        assert resp.status_code == 202, resp.text
        after = await _metric(http, bridge.files.webhook_base, LIMITED)

    assert accepted[:3] == markers[:3]  # the burst passes
    assert len(accepted) <= 3 + int(elapsed) + 1
    assert refused, "nothing was refused"
    for resp in refused:
        assert resp.status_code == 429, resp.text
        retry = int(resp.headers["retry-after"])
        assert retry == 1  # under a second to the next token, rounded up
        assert resp.json() == {"ok": False, "error": f"Too many requests; retry in {retry} s"}
    assert after - before >= len(refused)

    seen = await count_markers(synapse, user, room_id, accepted, timeout=30, settle=1.0)
    assert seen == accepted  # each accepted one once, in order
    await user.wait_for_event(room_id, notice_from("@_webhooks_neighbour:localhost", "neighbour"))
    bodies = {str(e.get("content", {}).get("body")) for e in await user.messages(room_id, 200)}
    assert not bodies & (set(markers) - set(accepted))  # the refused ones were never stored

    # The delivery log has the first refusal, not one line per refusal.
    await command(user, room_id, "!hookshot webhook log limited")
    log = await user.wait_for_event(
        await admin_room(user, BOT), notice_from(BOT, 'Recent requests to the webhook "limited"')
    )
    lines = log["content"]["body"].splitlines()[2:]
    limited = [line for line in lines if "POST → 429" in line]
    assert len(limited) == 1, lines
    assert "refused: rate limited: over 1/s, burst 3" in limited[0]
    assert sum("POST → 202" in line for line in lines) == len(accepted)


def _wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is required in CI (apt-get install wrk)")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    return found


def _statuses(output: str) -> tuple[dict[int, int], int]:
    """wrk_statuses.lua's report: {status: count} and the 429s without Retry-After."""
    counts: dict[int, int] = {}
    missing = -1
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "status":
            counts[int(parts[1])] = int(parts[2])
        elif len(parts) == 2 and parts[0] == "retry_after_missing":
            missing = int(parts[1])
    assert missing >= 0, f"no report from the Lua script:\n{output}"
    return counts, missing


async def test_wrk_flood_holds_the_limit_and_spares_other_hooks(
    bridge: BridgeProcess, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    wrk = _wrk()
    rate, burst = 5, 10
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    url, other = await _limited_hook(
        user, room_id, "flooded", "spared", {"perSecond": rate, "burst": burst}
    )
    async with httpx.AsyncClient() as http:
        before = await _metric(http, bridge.files.webhook_base, LIMITED)
        stored_before = await _metric(http, bridge.files.webhook_base, STORED)
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            wrk,
            "-t1",
            "-c8",
            "-d4s",
            "-s",
            str(WRK_SCRIPT),
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            # Wait until the flood is being refused, then post to the other hook.
            deadline = time.monotonic() + 3
            while await _metric(http, bridge.files.webhook_base, LIMITED) <= before:
                assert time.monotonic() < deadline, "wrk's flood was never refused"
                await asyncio.sleep(0.05)
            flooding = proc.returncode is None
            resp = await http.post(other, json={"text": "spared during the flood"})
        finally:
            output = (await proc.communicate())[0].decode()
        elapsed = time.monotonic() - started
        assert proc.returncode == 0, output
        assert flooding, "the flood ended before the other hook was tried"
        assert resp.status_code == 202, resp.text
        counts, retry_after_missing = _statuses(output)
        ok = sum(n for status, n in counts.items() if 200 <= status < 300)
        assert set(counts) <= {202, 429}, counts
        assert counts.get(429, 0) > 0 and retry_after_missing == 0, counts

        await user.wait_for_event(
            room_id, notice_from("@_webhooks_spared:localhost", "spared during the flood")
        )
        # wrk does not count the answers in flight when it stops, but the bridge stores those
        # requests all the same: compare the room with what the bridge stored (its pushes,
        # less the other hook's one), once both stopped moving.
        flood_user = "@_webhooks_flooded:localhost"
        deadline = time.monotonic() + 60
        while True:
            stored = await _metric(http, bridge.files.webhook_base, STORED) - stored_before - 1
            events = await user.messages(room_id, limit=500)
            arrived = sum(
                1
                for e in events
                if e.get("sender") == flood_user and e.get("content", {}).get("body") == "flood"
            )
            if (arrived == stored and arrived >= ok) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    assert arrived == stored  # every stored request arrived, once
    # A count bound, not a timing one: the bucket cannot hand out more than this in the time
    # wrk ran (measured around the whole process, so longer than the flood itself).
    assert burst <= ok <= stored <= burst + rate * elapsed + 1, (counts, stored, elapsed)
