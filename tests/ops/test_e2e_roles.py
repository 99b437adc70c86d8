"""The scale-out roles against the real Synapse and Redis: 2 `webhooks` + 1 `bridge` + 2
`sender` processes, and the fault suite (homeserver outage, a SIGKILLed sender, Redis killed
and restarted). Every run uses unique markers and ends with an exact count per room: each
marker accepted with a 2xx is in its room exactly once, in the order it was accepted."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Sequence
from pathlib import Path

import httpx
from conftest import CLUSTER_BOT, REDIS_URL, UserFactory
from support.cluster import LEASE_SECONDS, Cluster
from support.flows import (
    admin_room,
    command,
    count_markers,
    create_webhook,
    is_reaction,
    room_with_bot,
)
from support.own_redis import OwnRedis

from hookshot import wire
from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse, free_port
from hookshot.dev.stack import BridgeProcess, write_role_config

SENT_METRIC = "hookshot_delivery_latency_seconds_count"


def _hook_id(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


async def _hooked_rooms(user: MatrixUser, count: int, name: str) -> list[tuple[str, str]]:
    """`count` rooms with the cluster's bot and one webhook each: [(room_id, hook_id)]."""
    made = []
    for i in range(count):
        room_id = await room_with_bot(user, CLUSTER_BOT)
        url = await create_webhook(user, room_id, CLUSTER_BOT, f"{name}-{i}")
        made.append((room_id, _hook_id(url)))
    return made


async def _post_until_accepted(http: httpx.AsyncClient, url: str, marker: str) -> int:
    """POST like a well-behaved sender: retry 503s and network errors with the same
    Idempotency-Key until a 2xx. Returns how many tries were refused."""
    refused = 0
    while True:
        try:
            resp = await http.post(
                url, json={"text": marker}, headers={"Idempotency-Key": marker}, timeout=10
            )
        except httpx.HTTPError:
            resp = None
        if resp is not None and resp.status_code in (200, 202):
            return refused
        if resp is not None:
            assert resp.status_code == 503, f"{resp.status_code} {resp.text}"
        refused += 1
        await asyncio.sleep(0.2)


async def _metric(http: httpx.AsyncClient, base: str, name: str) -> float:
    """Sum of a metric's samples (all label sets) on one process's /metrics."""
    text = (await http.get(f"{base}/metrics")).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def _stream(
    http: httpx.AsyncClient,
    cluster: Cluster,
    hooks: Sequence[tuple[str, str]],
    markers: dict[str, list[str]],
    *,
    pace: float,
    progress: asyncio.Queue[int] | None = None,
) -> int:
    """Post each room's markers in order (rooms in parallel), alternating between the
    webhooks processes; reports the running total to `progress`. Returns refusals."""
    bases = cluster.webhook_bases
    accepted = 0
    refusals = 0

    async def room(room_id: str, hook_id: str) -> None:
        nonlocal accepted, refusals
        for i, marker in enumerate(markers[room_id]):
            url = f"{bases[i % len(bases)]}/webhook/{hook_id}"
            refusals += await _post_until_accepted(http, url, marker)
            accepted += 1
            if progress is not None:
                progress.put_nowait(accepted)
            await asyncio.sleep(pace)

    await asyncio.gather(*(room(r, h) for r, h in hooks))
    return refusals


async def _assert_exactly_once(
    synapse: LocalSynapse,
    user: MatrixUser,
    markers: dict[str, list[str]],
    timeout: float,
) -> None:
    for room_id, wanted in markers.items():
        seen = await count_markers(
            synapse, user, room_id, wanted, timeout=timeout, settle=2 * LEASE_SECONDS
        )
        missing = len(set(wanted) - set(seen))
        duplicated = len(seen) - len(set(seen))
        assert (missing, duplicated) == (0, 0), f"{room_id}: {missing} lost, {duplicated} twice"
        assert seen == wanted  # and in the order they were accepted


async def _reached(progress: asyncio.Queue[int], accepted: int) -> None:
    """Return once `accepted` webhooks were accepted (the moment a fault is injected)."""
    while await progress.get() < accepted:
        pass


async def _fault_setup(
    new_user: UserFactory, rooms: int, per_room: int, tag: str
) -> tuple[MatrixUser, list[tuple[str, str]], dict[str, list[str]], asyncio.Queue[int]]:
    """A user, `rooms` rooms with a webhook each, unique markers, and a progress queue."""
    user = await new_user()
    hooks = await _hooked_rooms(user, rooms, tag)
    return user, hooks, _markers(hooks, per_room, tag), asyncio.Queue()


def _markers(hooks: Sequence[tuple[str, str]], per_room: int, tag: str) -> dict[str, list[str]]:
    run = uuid.uuid4().hex[:8]
    return {
        room_id: [f"{tag} {run} r{n} #{i}" for i in range(per_room)]
        for n, (room_id, _) in enumerate(hooks)
    }


async def test_the_pipeline_runs_as_five_processes(
    cluster: Cluster, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    user = await new_user()
    hooks = await _hooked_rooms(user, 2, "five")
    markers = _markers(hooks, 30, "five")
    senders = [name for name in cluster.procs if name.startswith("sender")]
    async with httpx.AsyncClient() as http:

        async def sent(names: Sequence[str] = senders) -> dict[str, float]:
            return {
                name: await _metric(http, cluster.procs[name].base_url, SENT_METRIC)
                for name in names
            }

        before = await sent()
        assert await _stream(http, cluster, hooks, markers, pace=0.0) == 0
        await _assert_exactly_once(synapse, user, markers, timeout=90)
        # The senders delivered them (which one took which job is up to the queue: with two
        # rooms one sender may take all, so only their sum is known).
        after = await sent()
        assert sum(after.values()) - sum(before.values()) >= 60

        # Each sender delivers on its own: stop the others (gracefully), post, see it count.
        for name in senders:
            others = [cluster.procs[n] for n in senders if n != name]
            for other in others:
                assert other.stop() == 0, other.tail()
            alone = {hooks[0][0]: [f"{m} alone {name}" for m in markers[hooks[0][0]][:3]]}
            before = await sent([name])
            assert await _stream(http, cluster, hooks[:1], alone, pace=0.0) == 0
            await _assert_exactly_once(synapse, user, alone, timeout=60)
            assert (await sent([name]))[name] - before[name] >= 3, f"{name} sent nothing"
            for other in others:
                other.start()

        for name, port in cluster.ports.items():
            base = f"http://127.0.0.1:{port}"
            if name.startswith("webhooks"):
                assert await _metric(http, base, "hookshot_webhooks_http_request_total") >= 30
            ready = await http.get(f"{base}/ready")
            assert ready.status_code == 200, (name, ready.text)
            assert ready.json()["checks"]["redis"] is True

        # Unknown hooks are refused by the stateless intake, which reads the directory.
        base = cluster.webhook_bases[0]
        resp = await http.post(f"{base}/webhook/not-a-hook", json={"text": "x"})
        assert (resp.status_code, resp.json()["ok"]) == (404, False)

        # A removed webhook stops working on the webhooks processes at once.
        room_id, hook_id = hooks[1]
        await command(user, room_id, "!hookshot webhook remove five-1")
        for base in cluster.webhook_bases:
            resp = await http.post(f"{base}/webhook/{hook_id}", json={"text": "late"})
            assert resp.status_code == 404, resp.text


async def test_wait_for_complete_and_the_delivery_log_cross_processes(
    cluster: Cluster, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    user = await new_user()
    ((room_id, hook_id),) = await _hooked_rooms(user, 1, "waiting")
    state_key = "waiting-0"
    content = await user.get_state(room_id, wire.GENERIC_HOOK, state_key)
    assert content is not None
    await user.send_state(
        room_id, wire.GENERIC_HOOK, state_key, {**content, "waitForComplete": True}
    )
    marker = f"waited {uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient() as http:
        # The bridge applies the edit and republishes the directory shortly after.
        for _ in range(50):
            resp = await http.post(
                f"{cluster.webhook_bases[1]}/webhook/{hook_id}", json={"text": marker}, timeout=40
            )
            if resp.status_code == 200:
                break
            assert resp.status_code == 202
            await asyncio.sleep(0.2)
        # 200 only once a sender in another process has sent it: it is in the room now.
        assert resp.status_code == 200, resp.text
    events = await user.messages(room_id, limit=50)
    assert [e["content"]["body"] for e in events if e["content"].get("body") == marker]

    await command(user, room_id, "!hookshot webhook log waiting-0")
    dm = await admin_room(user, CLUSTER_BOT)
    log = await user.wait_for_event(
        dm, lambda e: "Recent requests" in str(e.get("content", {}).get("body")), timeout=20
    )
    # Recorded by a webhooks process, settled by a sender, read by the bridge.
    assert re.search(r"POST → 200 \(\d+ bytes\) sent \$", log["content"]["body"]), log


async def test_a_rotated_webhook_moves_on_every_webhooks_process(
    cluster: Cluster, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    """The bridge process rotates; the stateless intakes read the directory from Redis, and
    the old id is gone from it before the command is acknowledged."""
    user = await new_user()
    ((room_id, old_id),) = await _hooked_rooms(user, 1, "rotating")
    await command(user, room_id, "!hookshot webhook rotate rotating-0")
    async with httpx.AsyncClient() as http:
        for base in cluster.webhook_bases:
            resp = await http.post(f"{base}/webhook/{old_id}", json={"text": "leaked"})
            assert resp.status_code == 404, resp.text
        dm = await admin_room(user, CLUSTER_BOT)
        notice = await user.wait_for_event(
            dm, lambda e: 'The webhook "rotating-0" in' in str(e.get("content", {}).get("body"))
        )
        new_id = _hook_id(notice["content"]["body"].splitlines()[-1])
        markers = [f"rotated {uuid.uuid4().hex[:8]} via {i}" for i in (0, 1)]
        for base, marker in zip(cluster.webhook_bases, markers, strict=True):
            resp = await http.post(f"{base}/webhook/{new_id}", json={"text": marker})
            assert resp.status_code == 202, resp.text
    await _assert_exactly_once(synapse, user, {room_id: markers}, timeout=30)


async def test_1000_webhooks_across_a_30s_homeserver_outage(
    cluster: Cluster, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    user, hooks, markers, progress = await _fault_setup(new_user, 4, 250, "outage")
    webhooks_ready: list[int] = []
    sender_ready: list[int] = []

    async def outage() -> None:
        await _reached(progress, 500)
        await asyncio.to_thread(synapse.stop)
        try:
            await asyncio.sleep(3)  # /ready: intake unaffected, senders report the homeserver
            async with httpx.AsyncClient() as http:
                base = cluster.webhook_bases[0]
                webhooks_ready.append((await http.get(f"{base}/ready")).status_code)
                port = cluster.ports["sender-1"]
                sender_ready.append((await http.get(f"http://127.0.0.1:{port}/ready")).status_code)
            await asyncio.sleep(27)
        finally:
            await asyncio.to_thread(synapse.start)

    async with httpx.AsyncClient() as http:
        stopping = asyncio.create_task(outage())
        refusals = await _stream(http, cluster, hooks, markers, pace=0.06, progress=progress)
        await stopping
    assert refusals == 0  # nothing refused: the intake does not need the homeserver
    assert (webhooks_ready, sender_ready) == ([200], [503])
    await _assert_exactly_once(synapse, user, markers, timeout=240)


async def test_a_sender_sigkilled_mid_stream_loses_nothing(
    cluster: Cluster, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    user, hooks, markers, progress = await _fault_setup(new_user, 3, 100, "killed")
    victim = cluster.procs["sender-1"]
    sent_before_kill: list[float] = []

    async def kill() -> None:
        await _reached(progress, 120)
        async with httpx.AsyncClient() as http:
            base = f"http://127.0.0.1:{cluster.ports['sender-1']}"
            sent_before_kill.append(
                await _metric(http, base, "hookshot_delivery_latency_seconds_count")
            )
        victim.kill()

    try:
        async with httpx.AsyncClient() as http:
            killing = asyncio.create_task(kill())
            await _stream(http, cluster, hooks, markers, pace=0.03, progress=progress)
            await killing
        await _assert_exactly_once(synapse, user, markers, timeout=120)
        assert sent_before_kill and sent_before_kill[0] > 0  # it was delivering when killed
    finally:
        victim.start()


async def test_redis_killed_and_restarted_mid_stream_loses_nothing(
    cluster: Cluster, synapse: LocalSynapse, new_user: UserFactory, tmp_path: Path
) -> None:
    """On a Redis of the test's own with an append-only file (the machine's keeps nothing
    on disk); SIGKILL, so Redis gets no chance to flush anything."""
    redis = OwnRedis(tmp_path)
    await redis.start()
    await asyncio.to_thread(cluster.stop)
    await asyncio.to_thread(cluster.start, redis.url)
    try:
        user, hooks, markers, progress = await _fault_setup(new_user, 3, 100, "redis")
        asked: list[str] = []

        async def restart() -> None:
            await _reached(progress, 100)
            await redis.kill()
            # A command while the bridge cannot queue it: the homeserver's push gets a 503.
            asked.append(await user.send_text(hooks[0][0], "!hookshot webhook list"))
            await asyncio.sleep(3)
            await redis.start()

        async with httpx.AsyncClient() as http:
            restarting = asyncio.create_task(restart())
            refusals = await _stream(http, cluster, hooks, markers, pace=0.03, progress=progress)
            await restarting
        assert refusals > 0  # the intake said 503 while Redis was down, never a false 2xx
        await _assert_exactly_once(synapse, user, markers, timeout=120)
        # The refused transaction came back (the bridge pinged the homeserver once Redis
        # answered) and the command was answered.
        await user.wait_for_event(hooks[0][0], lambda e: is_reaction(e, asked[0], "✅"), timeout=60)
        assert "asked the homeserver to resend" in cluster.procs["bridge"].tail(400)
    finally:
        await asyncio.to_thread(cluster.stop)
        await redis.kill()
        await asyncio.to_thread(cluster.start, REDIS_URL)


async def test_a_standby_bridge_takes_over_from_a_killed_one(
    cluster: Cluster, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    """A second `bridge` waits on the bridge lock; when the first is SIGKILLed it takes over
    (room state, router, directory) and webhooks accepted meanwhile still arrive once."""
    user = await new_user()
    hooks = await _hooked_rooms(user, 1, "standby")
    files, port = cluster.files, free_port()
    path = write_role_config(
        files, "bridge-standby", "bridge", port, cluster.queue, bridge_port=free_port()
    )
    standby = BridgeProcess(
        files, files.root / "bridge-standby.log", role="bridge", config_path=path, port=port
    )
    first = cluster.procs["bridge"]
    markers = _markers(hooks, 20, "standby")
    room_id = hooks[0][0]
    await asyncio.to_thread(standby.start, wait=False)
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                with contextlib.suppress(httpx.HTTPError):
                    resp = await http.get(f"http://127.0.0.1:{port}/ready")
                    if resp.status_code == 503 and "standing by" in standby.tail():
                        break
                await asyncio.sleep(0.2)
            assert resp.json()["checks"]["started"] is False  # standing by, not serving
            half = {room_id: markers[room_id][:10]}
            await _stream(http, cluster, hooks, half, pace=0.0)
            first.kill()
            rest = {room_id: markers[room_id][10:]}
            assert await _stream(http, cluster, hooks, rest, pace=0.0) == 0
        await asyncio.to_thread(standby.wait_ready, 60)
        assert "holding the bridge lock" in standby.tail()
        await _assert_exactly_once(synapse, user, markers, timeout=90)
    finally:
        await asyncio.to_thread(standby.stop)  # releases the lock for the first bridge
        await asyncio.to_thread(first.start)


async def test_one_process_on_redis_keeps_its_delivery_log_across_a_restart(
    cluster: Cluster, synapse: LocalSynapse, new_user: UserFactory
) -> None:
    """`all` with `queue.redisUri`: one process, Redis queues, and the delivery log (cache)
    in Redis, so it outlives the process."""
    files = cluster.files
    queue = {"redisUri": REDIS_URL, "prefix": cluster.prefix, "leaseSeconds": LEASE_SECONDS}
    path = write_role_config(files, "single", "all", files.webhook_port, queue)
    single = BridgeProcess(files, files.root / "single.log", config_path=path)
    await asyncio.to_thread(cluster.stop)
    try:
        await asyncio.to_thread(single.start)
        user = await new_user()
        room_id = await room_with_bot(user, CLUSTER_BOT)
        url = await create_webhook(user, room_id, CLUSTER_BOT, "single")
        markers = _markers([(room_id, _hook_id(url))], 10, "single")
        async with httpx.AsyncClient() as http:
            for marker in markers[room_id]:
                resp = await http.post(url, json={"text": marker})
                assert resp.status_code == 202, resp.text
        await _assert_exactly_once(synapse, user, markers, timeout=60)
        await asyncio.to_thread(single.stop)
        await asyncio.to_thread(single.start)
        await command(user, room_id, "!hookshot webhook log single")
        dm = await admin_room(user, CLUSTER_BOT)
        log = await user.wait_for_event(
            dm, lambda e: "Recent requests" in str(e.get("content", {}).get("body")), timeout=20
        )
        assert len(re.findall(r"POST → 202 \(\d+ bytes\) sent \$", log["content"]["body"])) == 10
    finally:
        await asyncio.to_thread(single.stop)
        await asyncio.to_thread(cluster.start, REDIS_URL)
