"""End to end into a real Synapse: webhooks delivered per second and POST -> appservice latency,
each against a raw client sending the same events straight to Synapse in the same run.

    .venv/bin/python bench/e2e_bench.py [--events 600] [--rooms 4] [--concurrency 16]
                                        [--paced 200] [--rate 10] [--peer]

- throughput: `--events` generic webhook POSTs spread over `--rooms` rooms (one webhook per
  room, made with `!hookshot webhook`), posted by `--concurrency` clients; the rate is events
  counted arriving in Synapse over the time from the first POST to the last arrival. Baseline:
  the same number of `m.room.message` events sent by a user straight to Synapse, one in
  flight per room (the bridge also keeps one send in flight per room, for room order).
- latency: `--paced` events at `--rate` per second (so queueing does not dominate), p50/p99
  from the moment before the POST (or the raw client's PUT) to the event arriving at a second
  appservice registered on the same Synapse (its `namespaces.rooms` is `.*`, non-exclusive,
  so Synapse pushes it every event; it runs in this process on loopback).
- `--roles`: hookshot as 2 `webhooks` + 1 `bridge` + 2 `sender` processes on Redis (each
  room's hook posted to one of the two intake processes) instead of one process on SQLite.
- `--peer`: the same runs through matrix-webhook (PyPI `matrix-webhook`, installed into its
  own venv under ~/.cache/hookshot-bench, logged in as a normal user), once with one request
  in flight per room (it answers after sending, so that keeps room order) and once with the
  same `--concurrency` clients as ours.

Starts a local Synapse and the bridge (single process, SQLite) in a temporary folder. Arrival
is counted by the observer appservice, never by the senders' own answers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse, aregister_user, free_port
from hookshot.dev.stack import BridgeFiles, BridgeProcess, write_role_config

BOT = "@hookshot:localhost"
PEER_VERSION = "3.9.1"
PEER_CACHE = Path.home() / ".cache" / "hookshot-bench"
MARKER = re.compile(r"bench-([a-z0-9]+)-(\d+)")

# (room index, marker) -> awaitable that sends it
SendFn = Callable[[int, str], Awaitable[bool]]


# --- the observer appservice ---------------------------------------------------------------


@dataclass
class Observer:
    """A second appservice that records when each bench marker reaches it."""

    hs_token: str = field(default_factory=lambda: secrets.token_hex(16))
    as_token: str = field(default_factory=lambda: secrets.token_hex(16))
    port: int = field(default_factory=free_port)
    arrived: dict[str, float] = field(default_factory=dict)
    _waiters: list[tuple[str, int, asyncio.Future[None]]] = field(default_factory=list)

    def registration(self) -> dict[str, Any]:
        return {
            "id": "bench-observer",
            "url": f"http://127.0.0.1:{self.port}",
            "as_token": self.as_token,
            "hs_token": self.hs_token,
            "sender_localpart": "bench_observer",
            "rate_limited": False,
            "namespaces": {
                "users": [],
                "aliases": [],
                "rooms": [{"exclusive": False, "regex": ".*"}],
            },
        }

    def count(self, phase: str) -> int:
        return sum(1 for m in self.arrived if m.startswith(f"bench-{phase}-"))

    async def wait_for(self, phase: str, total: int, timeout: float) -> None:
        """Return when `total` markers of `phase` arrived; TimeoutError otherwise."""
        if self.count(phase) >= total:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((phase, total, future))
        await asyncio.wait_for(future, timeout)

    async def _transaction(self, request: Request) -> Response:
        now = time.monotonic()
        if request.headers.get("authorization") != f"Bearer {self.hs_token}":
            return JSONResponse({"errcode": "M_FORBIDDEN"}, status_code=403)
        body = await request.json()
        for event in body.get("events", []):
            if event.get("type") != "m.room.message":
                continue
            found = MARKER.search(str(event.get("content", {}).get("body", "")))
            if found is not None:
                self.arrived.setdefault(found.group(0), now)
        for waiter in list(self._waiters):
            phase, total, future = waiter
            if self.count(phase) >= total:
                self._waiters.remove(waiter)
                if not future.done():
                    future.set_result(None)
        return JSONResponse({})

    async def _empty(self, _: Request) -> Response:
        return JSONResponse({})

    async def _unknown(self, _: Request) -> Response:
        return JSONResponse({"errcode": "M_NOT_FOUND"}, status_code=404)

    def app(self) -> Starlette:
        prefix = "/_matrix/app/v1"
        return Starlette(
            routes=[
                Route(f"{prefix}/transactions/{{txn}}", self._transaction, methods=["PUT"]),
                Route("/transactions/{txn}", self._transaction, methods=["PUT"]),
                Route(f"{prefix}/ping", self._empty, methods=["POST"]),
                Route(f"{prefix}/users/{{u}}", self._unknown),
                Route(f"{prefix}/rooms/{{r}}", self._unknown),
            ]
        )


async def serve(app: Starlette, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started:
            break
        await asyncio.sleep(0.01)
    return server, task


# --- load shapes --------------------------------------------------------------------------


@dataclass
class Run:
    """What one throughput or latency run saw."""

    name: str
    events: int
    seconds: float = 0.0
    answered: float = 0.0  # seconds until the sender had every answer (a 2xx or an error)
    errors: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def throughput(
    observer: Observer,
    name: str,
    send: SendFn,
    events: int,
    rooms: int,
    concurrency: int | None,
    timeout: float,
) -> Run:
    """`events` sends over `rooms`; concurrency None = one in flight per room, in order."""
    run = Run(name, events)
    jobs = [(i % rooms, f"bench-{name}-{i}") for i in range(events)]

    async def one(room: int, marker: str) -> None:
        if not await send(room, marker):
            run.errors += 1

    async def per_room(room: int) -> None:
        for job_room, marker in jobs:
            if job_room == room:
                await one(job_room, marker)

    queue = list(reversed(jobs))

    async def pooled() -> None:
        while queue:
            await one(*queue.pop())

    start = time.monotonic()
    if concurrency is None:
        await asyncio.gather(*(per_room(r) for r in range(rooms)))
    else:
        await asyncio.gather(*(pooled() for _ in range(concurrency)))
    run.answered = time.monotonic() - start
    try:
        await observer.wait_for(name, events - run.errors, timeout)
    except TimeoutError:
        print(f"  ! {name}: only {observer.count(name)} of {events} arrived in {timeout:.0f} s")
    seen = [t for m, t in observer.arrived.items() if m.startswith(f"bench-{name}-")]
    run.seconds = (max(seen) if seen else time.monotonic()) - start
    run.events = len(seen)
    return run


async def paced(
    observer: Observer, name: str, send: SendFn, events: int, rooms: int, rate: float
) -> Run:
    """`events` sends at `rate`/s (each in its own task); latency = send start -> arrival."""
    run = Run(name, events)
    started: dict[str, float] = {}

    async def one(room: int, marker: str) -> None:
        started[marker] = time.monotonic()
        if not await send(room, marker):
            run.errors += 1

    tasks = []
    begin = time.monotonic()
    for i in range(events):
        await asyncio.sleep(max(0.0, begin + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one(i % rooms, f"bench-{name}-{i}")))
    await asyncio.gather(*tasks)
    try:
        await observer.wait_for(name, events - run.errors, 60)
    except TimeoutError:
        print(f"  ! {name}: only {observer.count(name)} of {events} arrived")
    run.latencies = [observer.arrived[m] - t for m, t in started.items() if m in observer.arrived]
    run.seconds = time.monotonic() - begin
    return run


# --- the three senders ----------------------------------------------------------------------


def raw_sender(user: MatrixUser, room_ids: Sequence[str]) -> SendFn:
    async def send(room: int, marker: str) -> bool:
        content = {"msgtype": "m.text", "body": marker}
        await user.send_event(room_ids[room], "m.room.message", content)
        return True

    return send


def hook_sender(http: httpx.AsyncClient, urls: Sequence[str]) -> SendFn:
    async def send(room: int, marker: str) -> bool:
        resp = await http.post(urls[room], json={"text": marker})
        return resp.status_code in (200, 202)

    return send


def peer_sender(http: httpx.AsyncClient, base: str, key: str, room_ids: Sequence[str]) -> SendFn:
    async def send(room: int, marker: str) -> bool:
        resp = await http.post(f"{base}/{room_ids[room]}", json={"body": marker, "key": key})
        return resp.status_code == 200

    return send


# --- setup ------------------------------------------------------------------------------------


async def make_rooms(user: MatrixUser, rooms: int, invite: Sequence[str]) -> list[str]:
    """Rooms with the bot as moderator, each with its own webhook; returns (room_ids)."""
    room_ids = []
    for i in range(rooms):
        room_id = await user.create_room(
            invite=[BOT, *invite],
            name=f"bench {i}",
            power_level_content_override={"users": {BOT: 50}},
        )
        await user.wait_for_membership(room_id, BOT, timeout=30)
        room_ids.append(room_id)
    return room_ids


async def make_hooks(user: MatrixUser, room_ids: Sequence[str]) -> list[str]:
    """`!hookshot webhook benchN` in each room; the URL is the last line of the DM notice."""
    urls: list[str] = []
    dm: str | None = None
    for i, room_id in enumerate(room_ids):
        name = f"bench{i}"
        await user.send_text(room_id, f"!hookshot webhook {name}")
        if dm is None:
            dm = await user.wait_for_invite(timeout=30, inviter=lambda s: s == BOT)
            await user.join(dm)
        notice = await user.wait_for_event(
            dm,
            lambda e, n=name: (
                f'You have bridged the webhook "{n}"' in str(e.get("content", {}).get("body"))
            ),
            timeout=30,
        )
        urls.append(str(notice["content"]["body"]).splitlines()[-1])
    return urls


def ensure_peer() -> Path:
    """The python of a cached venv with matrix-webhook (a benchmark peer, never a dependency)."""
    venv = PEER_CACHE / f"matrix-webhook-{PEER_VERSION}"
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import matrix_webhook.handler"]
    if (
        python.exists()
        and subprocess.run(check, capture_output=True, env=_peer_env()).returncode == 0
    ):
        return python
    PEER_CACHE.mkdir(parents=True, exist_ok=True)
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [
            str(uv),
            "pip",
            "install",
            "-q",
            "--python",
            str(python),
            f"matrix-webhook=={PEER_VERSION}",
        ],
        check=True,
    )
    return python


def _peer_env(**extra: str) -> dict[str, str]:
    # matrix_webhook.conf parses argv at import and needs these to import at all.
    base = {"MATRIX_ID": "@x:localhost", "MATRIX_TOKEN": "x", "API_KEY": "x"}
    return {**os.environ, **base, **extra}


async def start_peer(python: Path, synapse: LocalSynapse, root: Path) -> tuple[Any, str, str]:
    """(process, base url, api key) of matrix-webhook logged in as a fresh normal user."""
    user_id, token = await aregister(synapse, "peer")
    key, port = secrets.token_hex(8), free_port()
    env = _peer_env(
        MATRIX_URL=synapse.base_url,
        MATRIX_ID=user_id,
        MATRIX_TOKEN=token,
        API_KEY=key,
        HOST="127.0.0.1",
        PORT=str(port),
    )
    proc = spawn([str(python), "-m", "matrix_webhook"], env, root / "peer.log")
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                if (await http.get(f"{base}/health")).status_code == 200:
                    return proc, base, key
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
    raise SystemExit(f"matrix-webhook did not start; see {root / 'peer.log'}")


def spawn(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A child process logging to `log_path` (the child keeps its own descriptor)."""
    with log_path.open("ab") as log:
        return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)


async def aregister(synapse: LocalSynapse, name: str) -> tuple[str, str]:
    return await aregister_user(synapse.base_url, synapse.shared_secret, name, "bench-password")


# --- the run ------------------------------------------------------------------------------------


def report_throughput(raw: Run, others: Sequence[Run], label: dict[str, str]) -> None:
    print(f"\nthroughput: {raw.events} events over {label['shape']}")
    print(f"  {'raw client (1 per room)':34} {raw.rate:7.1f} ev/s  {raw.seconds:6.1f} s  = 1.00")
    for run in others:
        print(
            f"  {label[run.name]:34} {run.rate:7.1f} ev/s  {run.seconds:6.1f} s  = "
            f"{run.rate / raw.rate:.2f} of raw  ({run.errors} errors)"
        )
    # What the webhook's sender sees: how soon every request had its answer (ours answer once
    # the job is durably queued; matrix-webhook once it has sent the event).
    print("  requests answered per second (the sender's view):")
    for run in (raw, *others):
        name = "raw client (1 per room)" if run is raw else label[run.name]
        print(f"    {name:32} {run.events / run.answered if run.answered else 0:8.1f} req/s")
    ours = next((r for r in others if r.name == "ours"), None)
    peers = [r for r in others if r.name.startswith("peer") and r.answered]
    if ours is not None and ours.answered and peers:
        ratio = ours.events / ours.answered / max(r.events / r.answered for r in peers)
        print(f"  answered: hookshot / best matrix-webhook = {ratio:.1f}x")


def report_latency(raw: Run, others: Sequence[Run], label: dict[str, str]) -> None:
    print(f"\nlatency to the observer appservice: {raw.events} events, paced")
    row = "  {:34} p50 {:6.1f} ms  p99 {:6.1f} ms  {}"
    print(row.format("raw client", raw.pct(0.5), raw.pct(0.99), "= 1.00"))
    for run in others:
        ratio = f"= {run.pct(0.5) / raw.pct(0.5):.2f} / {run.pct(0.99) / raw.pct(0.99):.2f} of raw"
        print(row.format(label[run.name], run.pct(0.5), run.pct(0.99), ratio))


async def bench(args: argparse.Namespace, root: Path) -> None:
    observer = Observer()
    obs_reg = root / "observer.yml"
    obs_reg.write_text(yaml.safe_dump(observer.registration()))
    server, server_task = await serve(observer.app(), observer.port)
    files = BridgeFiles(root / "bridge")
    synapse = LocalSynapse(
        root / "synapse", app_service_config_files=[files.registration_path, obs_reg]
    )
    # The load is one flood per hook on purpose: no rate limit (`generic.rateLimit`).
    files.write(synapse.base_url, generic={"rateLimit": {"perSecond": 0}})
    procs = [BridgeProcess(files)]
    intake_ports = [files.webhook_port]
    prefix = f"hookshot-bench-{secrets.token_hex(4)}:"
    if args.roles:
        # The scale-out shape: 2 webhooks + 1 bridge + 2 senders, sharing Redis.
        queue = {"redisUri": args.redis, "prefix": prefix}
        plan = [("bridge", "bridge", files.webhook_port)]
        plan += [(f"webhooks-{i}", "webhooks", free_port()) for i in (1, 2)]
        plan += [(f"sender-{i}", "sender", free_port()) for i in (1, 2)]
        procs = [
            BridgeProcess(
                files,
                root / f"{name}.log",
                role=role,
                config_path=write_role_config(files, name, role, port, queue),
                port=port,
            )
            for name, role, port in plan
        ]
        intake_ports = [port for _, role, port in plan if role == "webhooks"]
    peer_proc = None
    try:
        await asyncio.to_thread(synapse.start)
        for proc in procs:
            await asyncio.to_thread(proc.start)
        async with httpx.AsyncClient(timeout=30) as http:
            ping = f"{synapse.base_url}/_matrix/client/v1/appservice/bench-observer/ping"
            await http.post(ping, json={}, headers={"Authorization": f"Bearer {observer.as_token}"})
        t0 = time.monotonic()
        peer_python = ensure_peer() if args.peer else None
        peer_user = None
        if peer_python is not None:
            peer_proc, peer_base, peer_key = await start_peer(peer_python, synapse, root)
            peer_user = "@peer:localhost"
        uid, token = await aregister(synapse, "bench")
        user = MatrixUser(synapse.base_url, uid, token)
        room_ids = await make_rooms(user, args.rooms, [peer_user] if peer_user else [])
        # Room i posts to intake process i mod n (the notice names the configured prefix).
        urls = [
            f"http://127.0.0.1:{intake_ports[i % len(intake_ports)]}/webhook/"
            + url.rsplit("/", 1)[1]
            for i, url in enumerate(await make_hooks(user, room_ids))
        ]
        print(f"setup: {args.rooms} rooms with a webhook each in {time.monotonic() - t0:.1f} s")
        limits = httpx.Limits(max_connections=max(args.concurrency, args.rooms) + 4)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            raw = raw_sender(user, room_ids)
            ours = hook_sender(http, urls)
            senders: dict[str, SendFn] = {"raw": raw, "ours": ours}
            label = {
                "shape": f"{args.rooms} rooms",
                "ours": f"hookshot{' 2w+1b+2s' if args.roles else ''} ({args.concurrency} posters)",
                "peerseq": "matrix-webhook (1 per room)",
                "peerpool": f"matrix-webhook ({args.concurrency} posters)",
            }
            if peer_python is not None:
                senders["peer"] = peer_sender(http, peer_base, peer_key, room_ids)
            # Warm-up: virtual users registered and joined, connections open, caches hot.
            for name, send in senders.items():
                await throughput(
                    observer, f"warm{name}", send, args.rooms * 3, args.rooms, None, 60
                )
            runs: list[Run] = []
            raw_run = await throughput(observer, "raw", raw, args.events, args.rooms, None, 300)
            n, r, c = args.events, args.rooms, args.concurrency
            runs.append(await throughput(observer, "ours", ours, n, r, c, 300))
            if "peer" in senders:
                peer = senders["peer"]
                runs.append(await throughput(observer, "peerseq", peer, n, r, None, 300))
                runs.append(await throughput(observer, "peerpool", peer, n, r, c, 300))
            raw_again = await throughput(observer, "rawb", raw, n, r, None, 300)
            report_throughput(raw_run, runs, label)
            print(
                f"  {'raw client again, after the others':34} {raw_again.rate:7.1f} ev/s  "
                f"(drift {raw_again.rate / raw_run.rate:.2f})"
            )
            if peer_python is not None:
                ours_rate = runs[0].rate
                for run in runs[1:]:
                    print(f"  hookshot / {label[run.name]}: {ours_rate / run.rate:.2f}x")
            if args.paced:
                lat_raw = await paced(observer, "lraw", raw, args.paced, r, args.rate)
                lat_runs = [await paced(observer, "lours", ours, args.paced, r, args.rate)]
                label["lours"] = "hookshot"
                if "peer" in senders:
                    label["lpeer"] = "matrix-webhook"
                    lat_runs.append(
                        await paced(observer, "lpeer", senders["peer"], args.paced, r, args.rate)
                    )
                print(f"\n(paced at {args.rate:g}/s over {r} rooms)", end="")
                report_latency(lat_raw, lat_runs, label)
        await user.aclose()
    finally:
        if peer_proc is not None:
            peer_proc.terminate()
            peer_proc.wait()
        for proc in reversed(procs):
            proc.stop()
        synapse.stop()
        if args.roles:
            async with Redis.from_url(args.redis) as client:
                keys = [k async for k in client.scan_iter(match=prefix + "*")]
                if keys:
                    await client.delete(*keys)
        server.should_exit = True
        await server_task


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=600, help="throughput run size")
    parser.add_argument("--rooms", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16, help="webhook posters")
    parser.add_argument("--paced", type=int, default=200, help="latency run size (0: skip)")
    parser.add_argument("--rate", type=float, default=10.0, help="latency run: events/s")
    parser.add_argument("--peer", action="store_true", help="also run matrix-webhook")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs)")
    parser.add_argument(
        "--roles", action="store_true", help="run hookshot as 2 webhooks + 1 bridge + 2 senders"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="for --roles")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; Synapse, the bridge, the observer and the load share them")
    if args.keep:
        root = Path(tempfile.mkdtemp(prefix="hookshot-e2e-"))
        print(f"files in {root}")
        asyncio.run(bench(args, root))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(bench(args, Path(tmp)))


if __name__ == "__main__":
    main()
