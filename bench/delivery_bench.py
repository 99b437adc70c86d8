"""Delivery from a backlog: messages/s into Synapse and the bridge's CPU ms per delivered
message, with N webhook jobs already queued, against a raw appservice client in the same run.

    .venv/bin/python bench/delivery_bench.py [--backlog 100,10000,100000] [--rooms 1,10]
                                             [--raw 1000] [--measure 5000]

For each room count R and backlog N: the bridge (single process, SQLite) is stopped, N generic
webhook jobs spread over the R rooms' hooks are written into its queue (exactly what the
intake commits for `POST /webhook/<id>`), and the bridge is started again. From `/ready`
until the observer appservice has seen all N messages: the rate, and the CPU (user + system,
from /proc) the bridge process spent per message, routing and sending included. Messages
are counted arriving at a second appservice on the same Synapse, never by our own answers.

Baseline, same run: a raw client with the bridge's `as_token`, sending the same
`m.room.message` events straight to Synapse, one at a time per room and the rooms in
parallel (the fastest sender that keeps each room's order, which the bridge also keeps).

`--digest`: instead, each backlog is drained twice into the first room, with the hook's
`digest` off and then on (`!hookshot webhook digest`), timing from /ready to the last
message: webhooks delivered (jobs acknowledged) per second and messages per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml
from e2e_bench import Observer, aregister, make_hooks, make_rooms, serve
from loadgen import cpu_seconds
from stacks import TOPICS, RolesStack, SingleStack

from hookshot import wire
from hookshot.core.queue.base import NewJob
from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeFiles

PUSH_BATCH = 5000
# A py-spy executable: profile each drain of >= 1000 jobs into /tmp/drain-<n>-<rooms>.raw.
PY_SPY = os.environ.get("HOOKSHOT_BENCH_PY_SPY")


@dataclass(frozen=True)
class Hook:
    room_id: str
    hook_id: str


@dataclass(frozen=True)
class Result:
    rate: float  # messages/s
    cpu_ms: float | None  # CPU ms per message of the bridge's process(es)


async def hooks_of(user: MatrixUser, room_ids: list[str], urls: list[str]) -> list[Hook]:
    return [Hook(room, url.rsplit("/", 1)[1]) for room, url in zip(room_ids, urls, strict=True)]


async def fill(stack: SingleStack, hooks: list[Hook], phase: str, count: int) -> None:
    """Queue `count` webhook jobs, round-robin over `hooks`, as the generic intake does."""
    for start in range(0, count, PUSH_BATCH):
        jobs = []
        for i in range(start, min(count, start + PUSH_BATCH)):
            hook = hooks[i % len(hooks)]
            payload = {
                "kind": wire.KIND_GENERIC,
                "hook_id": hook.hook_id,
                "room_id": hook.room_id,
                "state_key": "",
                "body": {"text": f"bench-{phase}-{i}"},
            }
            jobs.append(NewJob(f"generic:{uuid.uuid4()}", hook.hook_id, payload))
        await stack.push(jobs)


async def drain(
    observer: Observer,
    stack: SingleStack,
    hooks: list[Hook],
    count: int,
    measure: int,
) -> Result:
    """Stop the bridge, queue `count` jobs, start it, and time the delivery.

    The router turns queued webhooks into send jobs faster than the homeserver takes them, so
    with a large backlog it finishes well before the sender. CPU per message is therefore
    measured in two phases: until the webhook topic is empty (routing + some sending), then
    `measure` more deliveries (sending only); routing's share is what the first phase spent
    beyond the sending it did. With a small backlog everything is one phase. Jobs still
    queued after the measurement are deleted, so the next one starts clean."""
    phase = f"b{secrets.token_hex(3)}"
    await asyncio.to_thread(stack.stop)
    await fill(stack, hooks, phase, count)
    await asyncio.to_thread(stack.start)  # returns once /ready answers 200
    pids = stack.pids()

    def arrived() -> list[float]:
        return sorted(t for m, t in observer.arrived.items() if m.startswith(f"bench-{phase}-"))

    cpu0, t0 = cpu_seconds(pids), time.monotonic()
    spies = []
    if PY_SPY and count >= 1000:
        for pid in pids:
            out = f"/tmp/drain-{count}-{len(hooks)}-{pid}.raw"
            argv = [PY_SPY, "record", "-p", str(pid), "--gil", "-r", "200", "-f", "raw"]
            spies.append(
                subprocess.Popen([*argv, "-o", out, "--nonblocking"], stdout=subprocess.DEVNULL)  # noqa: ASYNC220
            )
    # Other processes' queue: polled (a count of rows or a Redis length, twice a second).
    deadline = time.monotonic() + max(120.0, count / 5)
    while await stack.depth(wire.TOPIC_WEBHOOK) > 0 and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    cpu_r, n_r = cpu_seconds(pids), len(arrived())
    wanted = min(count, n_r + measure)
    await observer.wait_for(phase, wanted, timeout=max(120.0, (wanted - n_r) / 5))
    cpu_b = cpu_seconds(pids)
    for spy in spies:
        spy.send_signal(signal.SIGINT)
        spy.wait()
    times = arrived()
    if wanted - n_r >= 50:
        send_ms = 1000 * (cpu_b - cpu_r) / (wanted - n_r)
        route_ms = (1000 * (cpu_r - cpu0) - send_ms * n_r) / count
        rate = (wanted - n_r - 1) / (times[wanted - 1] - times[n_r])
        cpu_ms = send_ms + route_ms
    else:  # routing lasted (nearly) as long as the whole delivery
        rate, cpu_ms = wanted / (times[wanted - 1] - t0), 1000 * (cpu_b - cpu0) / wanted
    if wanted < count:
        await asyncio.to_thread(stack.stop)
        await stack.clear()
        await asyncio.to_thread(stack.start)
    return Result(rate, cpu_ms)


async def drain_all(
    observer: Observer, stack: SingleStack, hook: Hook, count: int
) -> tuple[float, float, int]:
    """Stop, queue `count` jobs for `hook`, start, and wait until every job was acked (both
    queues empty); (webhooks/s, messages/s, messages) up to the last message's arrival."""
    phase = f"d{secrets.token_hex(3)}"
    await asyncio.to_thread(stack.stop)
    await fill(stack, [hook], phase, count)
    await asyncio.to_thread(stack.start)
    t0 = time.monotonic()
    deadline = t0 + max(120.0, count / 5)
    while time.monotonic() < deadline:
        if all([await stack.depth(topic) == 0 for topic in TOPICS]):
            break
        await asyncio.sleep(0.2)  # other processes' queue: polled
    last = max(t for m, t in observer.arrived.items() if m.startswith(f"bench-{phase}-"))
    messages = observer.count(phase)
    return count / (last - t0), messages / (last - t0), messages


async def digest_rows(
    observer: Observer,
    stack: SingleStack,
    user: MatrixUser,
    room: str,
    hook: Hook,
    backlogs: list[int],
) -> None:
    """Each backlog with the hook's digest off, then on."""
    rows = []
    for setting in ("off", "on"):
        await user.send_text(room, f"!hookshot webhook digest bench0 {setting}")
        await user.wait_for_event(
            room,
            lambda e, s=setting: f"bench0` is {s}" in str(e.get("content", {}).get("body")),
            30,
        )
        for backlog in backlogs:
            jobs, msgs, n = await drain_all(observer, stack, hook, backlog)
            rows.append((setting, backlog, jobs, msgs, n))
            print(
                f"  digest {setting}, {backlog} queued: {jobs:.1f} webhooks/s, "
                f"{msgs:.1f} msg/s ({n} messages)",
                flush=True,
            )
    print("\n| digest | queued | webhooks delivered/s | messages/s | messages |")
    print("|---|---|---|---|---|")
    for setting, backlog, jobs, msgs, n in rows:
        print(f"| {setting} | {backlog:,} | {jobs:.1f} | {msgs:.1f} | {n:,} |")


async def raw(
    observer: Observer, http: httpx.AsyncClient, base: str, hooks: list[Hook], count: int
) -> Result:
    """The same messages sent by the appservice itself, one at a time per room."""
    phase = f"r{secrets.token_hex(3)}"
    rooms = sorted({h.room_id for h in hooks})
    markers = {room: [] for room in rooms}  # type: dict[str, list[str]]
    for i in range(count):
        markers[hooks[i % len(hooks)].room_id].append(f"bench-{phase}-{i}")

    async def one_room(room: str) -> None:
        for marker in markers[room]:
            url = f"{base}/_matrix/client/v3/rooms/{room}/send/m.room.message/{uuid.uuid4().hex}"
            resp = await http.put(url, json={"msgtype": "m.notice", "body": marker})
            resp.raise_for_status()

    t0 = time.monotonic()
    await asyncio.gather(*(one_room(r) for r in rooms))
    await observer.wait_for(phase, count, timeout=max(120.0, count / 5))
    arrived = [t for m, t in observer.arrived.items() if m.startswith(f"bench-{phase}-")]
    return Result(count / (max(arrived) - t0), None)


async def bench(args: argparse.Namespace, root: Path) -> None:
    observer = Observer()
    obs_reg = root / "observer.yml"
    obs_reg.write_text(yaml.safe_dump(observer.registration()))
    server, server_task = await serve(observer.app(), observer.port)
    files = BridgeFiles(root / "bridge")
    synapse = LocalSynapse(
        root / "synapse", app_service_config_files=[files.registration_path, obs_reg]
    )
    files.write(synapse.base_url)
    stack = RolesStack(files, root, args.redis) if args.roles else SingleStack(files, root)
    as_token = yaml.safe_load(files.registration_path.read_text())["as_token"]
    rows: list[tuple[int, int, Result, Result]] = []
    try:
        await asyncio.to_thread(synapse.start)
        await asyncio.to_thread(stack.start)
        async with httpx.AsyncClient(timeout=30) as http:
            ping = f"{synapse.base_url}/_matrix/client/v1/appservice/bench-observer/ping"
            await http.post(ping, json={}, headers={"Authorization": f"Bearer {observer.as_token}"})
        uid, token = await aregister(synapse, "bench")
        user = MatrixUser(synapse.base_url, uid, token)
        room_ids = await make_rooms(user, max(args.rooms), [])
        hooks = await hooks_of(user, room_ids, await make_hooks(user, room_ids))
        headers = {"Authorization": f"Bearer {as_token}"}
        limits = httpx.Limits(max_connections=max(args.rooms) + 4)
        if args.digest:
            await digest_rows(observer, stack, user, room_ids[0], hooks[0], args.backlog)
            await user.aclose()
            return
        async with httpx.AsyncClient(timeout=60, headers=headers, limits=limits) as http:
            await raw(observer, http, synapse.base_url, hooks, 3 * len(hooks))  # warm-up
            await drain(observer, stack, hooks, 3 * len(hooks), args.measure)
            for rooms in args.rooms:
                some = hooks[:rooms]
                for backlog in args.backlog:
                    n = min(backlog, args.raw)
                    base = await raw(observer, http, synapse.base_url, some, n)
                    ours = await drain(observer, stack, some, backlog, args.measure)
                    rows.append((rooms, backlog, base, ours))
                    print(
                        f"  {rooms:>3} rooms, {backlog:>6} queued: hookshot {ours.rate:6.1f} "
                        f"msg/s, raw {base.rate:6.1f} = {ours.rate / base.rate:.2f}; "
                        f"CPU {ours.cpu_ms:.2f} ms/msg",
                        flush=True,
                    )
        await user.aclose()
    finally:
        stack.stop()
        if args.roles:
            await stack.clear()
        synapse.stop()
        server.should_exit = True
        await server_task
    print(f"\nhookshot: {stack.name}")
    print("\n| rooms | queued | hookshot msg/s | raw one-at-a-time msg/s | ratio | CPU ms/msg |")
    print("|---|---|---|---|---|---|")
    for rooms, backlog, base, ours in rows:
        print(
            f"| {rooms} | {backlog:,} | {ours.rate:.1f} | {base.rate:.1f} | "
            f"{ours.rate / base.rate:.2f} | {ours.cpu_ms:.2f} |"
        )


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backlog", type=ints, default=[100, 10_000])
    parser.add_argument("--rooms", type=ints, default=[1, 10])
    # The raw client's rate does not depend on a backlog; fewer messages keep the run short.
    parser.add_argument("--raw", type=int, default=1000, help="messages for each raw baseline")
    # A backlog of 100k takes an hour to drain here; its first messages show whether the
    # cost per message depends on how much is queued.
    parser.add_argument("--measure", type=int, default=5000, help="messages timed per drain")
    parser.add_argument("--digest", action="store_true", help="digest off vs on, one room")
    parser.add_argument(
        "--roles", action="store_true", help="a bridge and a sender process over Redis"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench(args, Path(tmp)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
