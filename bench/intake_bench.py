"""Intake throughput: webhooks accepted per second by the bridge (durable: each 202 means the
job is committed to SQLite) against a bare starlette endpoint on the same uvicorn that only
answers 202, on the same machine in the same run. The load is wrk (bench/post.lua), 1 thread,
32 connections. Prints the ratio, p50/p99 latency and the CPU ms per accepted request of
every process of each side, never bare times alone.

    .venv/bin/python bench/intake_bench.py [--seconds 10] [--connections 32] [--role webhooks]

Starts a local Synapse and the bridge (as in `hookshot demo`) in a temporary folder. With
`--role webhooks` the load goes to one `webhooks` process (each 202 means the job is in the
Redis stream at --redis) instead of the single process with its SQLite queue; its `bridge`
and `sender` processes are stopped once the hook is set up, so the intake alone shares the
machine with the load generator (the bridge and senders run elsewhere in a real scale-out;
the jobs it queued are deleted afterwards), and a second baseline is measured: the bare app
storing each body in Redis (one RPUSH per batch of waiting requests) before answering, the
floor of any durable intake on starlette + redis-py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

from footprint_bench import create_rooms, wait_for_joins
from loadgen import WrkResult, cpu_seconds, ensure_wrk, run_wrk
from redis.asyncio import Redis

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse, aregister_user, free_port
from hookshot.dev.stack import BridgeFiles, BridgeProcess, write_role_config

BARE_APP = textwrap.dedent(
    """
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hook(request):
        await request.body()
        return JSONResponse({"ok": True}, status_code=202)

    app = Starlette(routes=[Route("/webhook/{hook_id}", hook, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]),
                log_level="warning", access_log=False)
    """
)


# With `--role webhooks`, a second baseline: the least a durable intake on this stack does, the
# same bare app storing each body in Redis before its 202, the bodies of the requests waiting
# together sent as one RPUSH (the batching our queue writer does). No parsing, verification,
# dedupe or log: what is left between it and bare is the price of the Redis write alone.
FLOOR_APP = textwrap.dedent(
    """
    import asyncio, sys, uvicorn
    from redis.asyncio import Redis
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    redis, key = Redis.from_url(sys.argv[2]), sys.argv[3]
    waiting, wake = [], None

    async def writer():
        while True:
            await wake.wait()
            wake.clear()
            batch = waiting[:]
            waiting.clear()
            await redis.rpush(key, *[body for body, _ in batch])
            for _, done in batch:
                done.set_result(None)

    async def hook(request):
        global wake
        body = await request.body()
        if wake is None:
            wake = asyncio.Event()
            asyncio.get_running_loop().create_task(writer())
        done = asyncio.get_running_loop().create_future()
        waiting.append((body, done))
        wake.set()
        await done
        return JSONResponse({"ok": True}, status_code=202)

    app = Starlette(routes=[Route("/webhook/{hook_id}", hook, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
    """
)


async def make_hook(synapse: LocalSynapse, bot: str) -> str:
    user_id, token = await aregister_user(
        synapse.base_url, synapse.shared_secret, "bench", "bench-password"
    )
    async with MatrixUser(synapse.base_url, user_id, token) as user:
        room_id = await user.create_room(
            invite=[bot], power_level_content_override={"users": {bot: 50}}
        )
        await user.wait_for_membership(room_id, bot, timeout=30)
        await user.send_text(room_id, "!hookshot webhook bench")
        dm = await user.wait_for_invite(timeout=30, inviter=lambda s: s == bot)
        await user.join(dm)
        notice = await user.wait_for_event(
            dm, lambda e: "Please configure" in str(e.get("content", {}).get("body")), timeout=30
        )
        return str(notice["content"]["body"]).splitlines()[-1]


async def forget(url: str, prefix: str) -> None:
    """Delete the run's Redis keys (the queued jobs nobody will deliver)."""
    async with Redis.from_url(url) as client:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        for i in range(0, len(keys), 1000):
            await client.delete(*keys[i : i + 1000])


def wait_port(port: int) -> None:
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"port {port} never opened")


# Path of a py-spy binary: each measured hookshot process is profiled to /tmp/intake-<pid>.raw.
PY_SPY = os.environ.get("HOOKSHOT_BENCH_PY_SPY")


def measure(
    url: str, pids: list[int], args: argparse.Namespace, profile: bool = False
) -> tuple[WrkResult, float]:
    """wrk against `url`; the CPU ms the processes `pids` spent per 2xx answer meanwhile."""
    spies = []
    if PY_SPY and profile:
        for pid in pids:
            argv = [PY_SPY, "record", "-p", str(pid), "-r", "200", "-f", "raw", "--nonblocking"]
            out = ["-o", f"/tmp/intake-{pid}.raw"]
            spies.append(subprocess.Popen([*argv, *out], stdout=subprocess.DEVNULL))
    before = cpu_seconds(pids)
    result = run_wrk(url, seconds=args.seconds, connections=args.connections)
    spent = cpu_seconds(pids) - before
    for spy in spies:
        spy.send_signal(signal.SIGINT)
        spy.wait()
    return result, 1000 * spent / max(result.ok, 1)


def report(name: str, result: WrkResult, cpu_ms: float, base: WrkResult) -> None:
    print(
        f"{name:<23}: {result.rate:8.0f} req/s = {result.rate / base.rate:.2f}  "
        f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
        f"CPU {cpu_ms:.3f} ms/req  non-2xx {result.not_ok}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--role", choices=["all", "webhooks"], default="all")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--extra-rooms", type=int, default=0, help="rooms with a generic hook each, made first"
    )
    args = parser.parse_args()
    ensure_wrk()
    prefix = f"hookshot-bench-{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = BridgeFiles(root / "bridge")
        synapse = LocalSynapse(root / "synapse", app_service_config_files=[files.registration_path])
        # The load is one flood per hook on purpose: no rate limit (`generic.rateLimit`).
        files.write(synapse.base_url, generic={"rateLimit": {"perSecond": 0}})
        procs = [BridgeProcess(files)]
        intake_port = files.webhook_port
        if args.role == "webhooks":
            queue = {"redisUri": args.redis, "prefix": prefix}
            intake_port = free_port()
            procs = [
                BridgeProcess(
                    files,
                    role=role,
                    config_path=write_role_config(files, role, role, port, queue),
                    port=port,
                    log_path=root / f"{role}.log",
                )
                for role, port in (
                    ("bridge", files.webhook_port),
                    ("sender", free_port()),
                    ("webhooks", intake_port),
                )
            ]
        bare_port = free_port()
        bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port)])
        floor: subprocess.Popen[bytes] | None = None
        if args.role == "webhooks":
            floor_port = free_port()
            floor_argv = [FLOOR_APP, str(floor_port), args.redis, prefix + "floor"]
            floor = subprocess.Popen([sys.executable, "-c", *floor_argv])
        floor_result = None
        try:
            synapse.start()
            for proc in procs:
                proc.start()
            url = asyncio.run(make_hook(synapse, "@hookshot:localhost"))
            if args.extra_rooms:
                # Connections the bridge holds beside the loaded hook: lookups must not scale.
                asyncio.run(create_rooms(synapse, args.extra_rooms, 1, 8, localpart="rooms"))
                joined, _ = wait_for_joins(procs[0].log_path, args.extra_rooms + 1, 1, 600)
                print(f"the bridge holds {joined} rooms with a generic hook", flush=True)
            # The notice names the configured URL prefix; load the intake process.
            url = f"http://127.0.0.1:{intake_port}/webhook/" + url.rsplit("/", 1)[1]
            if args.role == "webhooks":
                for proc in procs[:2]:  # bridge and sender; the directory stays in Redis
                    proc.stop()
            wait_port(bare_port)
            bare_url = f"http://127.0.0.1:{bare_port}/webhook/x"
            ours = [p.pid for p in procs if p.running and p.pid is not None]
            run_wrk(bare_url, seconds=2, connections=args.connections)  # warm-up
            run_wrk(url, seconds=2, connections=args.connections)
            bare_result, bare_cpu = measure(bare_url, [bare.pid], args)
            if floor is not None:
                wait_port(floor_port)
                floor_url = f"http://127.0.0.1:{floor_port}/webhook/x"
                run_wrk(floor_url, seconds=2, connections=args.connections)
                floor_result, floor_cpu = measure(floor_url, [floor.pid], args)
            ours_result, ours_cpu = measure(url, ours, args, profile=True)
        finally:
            for baseline in (bare, floor):
                if baseline is not None:
                    baseline.terminate()
                    baseline.wait()
            for proc in reversed(procs):
                proc.stop()
            synapse.stop()
            if args.role == "webhooks":
                asyncio.run(forget(args.redis, prefix))
    where = "one webhooks process (Redis)" if args.role == "webhooks" else "single process (SQLite)"
    if args.extra_rooms:
        where += f", {args.extra_rooms + 1} rooms of connections"
    print(
        f"wrk 1 thread, {args.connections} connections, {args.seconds:g} s each; hookshot: {where}"
    )
    report("bare starlette+uvicorn", bare_result, bare_cpu, bare_result)
    if floor_result is not None:
        report("bare + batched RPUSH", floor_result, floor_cpu, bare_result)
    report("hookshot intake", ours_result, ours_cpu, bare_result)
    if args.role == "webhooks":
        print("(each hookshot 2xx is durably queued in Redis; bridge and sender are stopped)")
    else:
        print("(each hookshot 2xx is durably queued; its CPU includes delivering into Synapse)")


if __name__ == "__main__":
    main()
