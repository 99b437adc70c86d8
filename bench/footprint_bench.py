"""Footprint: the bridge's memory (RSS) idle and with many connections, and its startup time
with many rooms, each against a bare starlette+uvicorn app measured in the same run.

    .venv/bin/python bench/footprint_bench.py [--rooms 1000] [--per-room 10] [--concurrency 8]

- idle: RSS (VmRSS, and the peak VmHWM, from /proc/<pid>/status) of `hookshot run config
  registration` (single process, SQLite) a few seconds after /ready first answers 200, with no
  rooms; baseline: a bare starlette app on uvicorn that also imports httpx.
- setup: one user creates `--rooms` rooms, each with `--per-room` generic webhook state events
  (`uk.half-shot.matrix-hookshot.generic.hook`, state keys hook-0.., content {"name": ...}) in
  createRoom's `initial_state`, the bot invited with power level 50. The running bridge joins
  each room on the invite and loads it, minting each hook's hookId into the bot's room account
  data as hookshot does (one write per hook). Prints how long that took.
- loaded: RSS after that live load, then the bridge is restarted and we time process start ->
  /ready answering 200 with all rooms (the hookIds are in account data by now, as for a
  restarted or migrated bridge), and read RSS again once ready. Baseline: the bare app's
  start -> first 200.

Starts a local Synapse in a temporary folder. Synapse and the bridge share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse, aregister_user, free_port
from hookshot.dev.stack import BridgeFiles

BOT = "@hookshot:localhost"
HOOK_TYPE = "uk.half-shot.matrix-hookshot.generic.hook"
BARE_APP = textwrap.dedent(
    """
    import sys
    import httpx, uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def ready(request):
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/ready", ready)])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    """
)


@dataclass
class Memory:
    rss_mb: float
    hwm_mb: float


def memory(pid: int) -> Memory:
    """VmRSS and VmHWM of a process, in MiB."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return Memory(fields["VmRSS"], fields["VmHWM"])


class Child:
    """A process whose start -> first 200 on `ready_url` we time."""

    def __init__(self, argv: list[str], ready_url: str, log_path: Path, cwd: Path | None = None):
        self.argv, self.ready_url, self.log_path, self.cwd = argv, ready_url, log_path, cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 600.0) -> float:
        """Spawn and return seconds until `ready_url` answered 200."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        begin = time.monotonic()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.cwd
            )
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() - begin < timeout:
                if self.proc.poll() is not None:
                    raise SystemExit(f"{self.argv[:4]} exited; see {self.log_path}")
                try:
                    if http.get(self.ready_url).status_code == 200:
                        return time.monotonic() - begin
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
        raise SystemExit(f"{self.ready_url} not ready after {timeout:.0f} s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def settle(self, seconds: float) -> Memory:
        """RSS after `seconds` of idling (the last of a few samples) and the peak so far."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.5)
        return memory(self.pid)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def create_rooms(
    synapse: LocalSynapse, rooms: int, per_room: int, concurrency: int, localpart: str = "bench"
) -> list[str]:
    """`rooms` rooms, each created with `per_room` generic hook state events and the bot
    invited as moderator."""
    user_id, token = await aregister_user(
        synapse.base_url, synapse.shared_secret, localpart, "bench-password"
    )
    made: list[str] = []
    todo = list(range(rooms))
    async with MatrixUser(synapse.base_url, user_id, token) as user:

        async def worker() -> None:
            while todo:
                i = todo.pop()
                body: dict[str, Any] = {
                    "preset": "private_chat",
                    "name": f"bench {i}",
                    "invite": [BOT],
                    "power_level_content_override": {"users": {BOT: 50}},
                    "initial_state": [
                        {
                            "type": HOOK_TYPE,
                            "state_key": f"hook-{j}",
                            "content": {"name": f"hook-{j}"},
                        }
                        for j in range(per_room)
                    ],
                }
                made.append(
                    str((await user.request("POST", "/createRoom", json_body=body))["room_id"])
                )
                if len(made) % 100 == 0:
                    print(f"    {len(made)} rooms created", flush=True)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return made


def wait_for_joins(log_path: Path, rooms: int, per_room: int, timeout: float) -> tuple[int, int]:
    """Wait until the bridge logged loading `rooms` rooms; (rooms, connections) it logged."""
    pattern = re.compile(r"joined (!\S+): (\d+) connections")
    end = time.monotonic() + timeout
    loaded: dict[str, int] = {}
    while time.monotonic() < end:
        loaded = {m[1]: int(m[2]) for m in pattern.finditer(log_path.read_text(errors="replace"))}
        if len(loaded) >= rooms:
            break
        time.sleep(1.0)
    return len(loaded), sum(loaded.values())


def loaded_line(log_path: Path) -> str:
    """The bridge's last "loaded N connections in M rooms" line."""
    found = re.findall(r"loaded \d+ connections in \d+ rooms", log_path.read_text(errors="replace"))
    return found[-1] if found else "(no 'loaded' line in the log)"


def startup_calls(webhook_base: str) -> dict[str, int]:
    """Homeserver API calls the bridge made so far, by method and endpoint (its /metrics)."""
    text = httpx.get(f"{webhook_base}/metrics", timeout=10).text
    pattern = re.compile(r'^matrix_api_calls_total\{method="([^"]+)"\} ([0-9.e+]+)$', re.M)
    return {name: int(float(value)) for name, value in pattern.findall(text)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--per-room", type=int, default=10, help="generic hooks per room")
    parser.add_argument("--concurrency", type=int, default=8, help="createRoom in flight")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before reading RSS")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hookshot-footprint-"))
    try:
        run(args, root)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"files in {root}")


def run(args: argparse.Namespace, root: Path) -> None:
    total = args.rooms * args.per_room
    print(f"{os.cpu_count()} cores, shared by Synapse, the bridge and this script")
    bare_port = free_port()
    bare = Child(
        [sys.executable, "-c", BARE_APP, str(bare_port)],
        f"http://127.0.0.1:{bare_port}/ready",
        root / "bare.log",
    )
    bare_start = bare.start()
    bare_mem = bare.settle(args.settle)
    bare.stop()

    files = BridgeFiles(root / "bridge")
    synapse = LocalSynapse(root / "synapse", app_service_config_files=[files.registration_path])
    files.write(synapse.base_url)
    argv = [sys.executable, "-m", "hookshot", "run", str(files.config_path)]
    argv.append(str(files.registration_path))
    log_path = root / "bridge.log"
    bridge = Child(argv, f"{files.webhook_base}/ready", log_path)
    try:
        synapse.start()
        empty_start = bridge.start()
        idle = bridge.settle(args.settle)

        print(
            f"setup: {args.rooms} rooms x {args.per_room} generic hooks, "
            f"createRoom concurrency {args.concurrency}"
        )
        begin = time.monotonic()
        asyncio.run(create_rooms(synapse, args.rooms, args.per_room, args.concurrency))
        created = time.monotonic() - begin
        joined, conns = wait_for_joins(log_path, args.rooms, args.per_room, 1800)
        setup = time.monotonic() - begin
        print(
            f"  rooms created in {created:.0f} s ({args.rooms / created:.1f} rooms/s); the bridge "
            f"joined {joined} and loaded {conns} connections live, done after {setup:.0f} s"
        )
        live = bridge.settle(args.settle)
        bridge.stop()
        loaded_start = bridge.start()
        calls = startup_calls(files.webhook_base)
        loaded = bridge.settle(args.settle)
        line = loaded_line(log_path)
    finally:
        bridge.stop()
        synapse.stop()

    print(
        f"\n{total} connections = {args.per_room} generic webhooks (state events) in each of "
        f"{args.rooms} rooms; after restart the bridge says: {line}"
    )
    print("\nRSS (MiB, VmRSS / peak VmHWM)")
    row = "  {:44} {:6.1f} / {:6.1f}   {}"
    print(
        row.format("bare starlette+uvicorn+httpx app", bare_mem.rss_mb, bare_mem.hwm_mb, "= 1.00")
    )
    for label, mem, target in (
        ("hookshot idle, no rooms", idle, 80),
        (f"hookshot after live-loading {total} conns", live, 200),
        (f"hookshot restarted with {total} conns", loaded, 200),
    ):
        # The targets are in MB (10^6 bytes); /proc reports KiB.
        verdict = "met" if mem.rss_mb * 2**20 / 1e6 <= target else "MISSED"
        print(
            row.format(label, mem.rss_mb, mem.hwm_mb, f"= {mem.rss_mb / bare_mem.rss_mb:.2f}x bare")
            + f"  (target <= {target} MB: {verdict})"
        )
    print(f"\nhomeserver calls the restarted bridge made before /ready ({sum(calls.values())}):")
    for name, count in sorted(calls.items(), key=lambda kv: -kv[1]):
        print(f"  {count:7d}  {name}  ({count / args.rooms:.1f} per room)")
    print("\nstartup, process start -> /ready 200 (s)")
    srow = "  {:44} {:6.2f}   {}"
    print(srow.format("bare starlette+uvicorn+httpx app", bare_start, "= 1.00"))
    print(srow.format("hookshot, no rooms", empty_start, f"= {empty_start / bare_start:.1f}x bare"))
    verdict = "met" if loaded_start < 10 else "MISSED"
    print(
        srow.format(
            f"hookshot, {args.rooms} rooms / {total} conns",
            loaded_start,
            f"= {loaded_start / bare_start:.1f}x bare  (target < 10 s: {verdict})",
        )
    )


if __name__ == "__main__":
    main()
