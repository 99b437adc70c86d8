"""The load generator of the benchmarks (wrk, never a Python client) and CPU accounting.

wrk is Debian's `wrk` package; `ensure_wrk()` installs it where apt can (as root), else
stops with the command to run. A Python client tops out near 600 req/s on this machine, below
what the bridge answers, so it would measure itself.

CPU is read from `/proc/<pid>/stat` (user + system, children that were waited for included),
so "CPU ms per message" counts every process of the bridge and nothing else, whatever else
the machine is doing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).with_name("post.lua")
_TICKS = os.sysconf("SC_CLK_TCK")


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit("wrk is needed: apt-get install wrk (Debian package)")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    statuses: dict[int, int]
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def not_ok(self) -> int:
        return self.requests - self.ok + self.socket_errors

    @property
    def rate(self) -> float:
        return self.ok / self.seconds


def run_wrk(
    url: str, *, seconds: float, connections: int, threads: int = 1, body: str | None = None
) -> WrkResult:
    env = dict(os.environ)
    if body is not None:
        env["WRK_BODY"] = body
    argv = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s"]
    argv += ["--timeout", "10s", "-s", str(LUA), url]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_RESULT "))
    data = json.loads(line.removeprefix("WRK_RESULT "))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        statuses={int(k): v for k, v in data["statuses"].items()},
        socket_errors=data["socket_errors"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU of these processes so far (and of their reaped children)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        # Fields 14-17 of stat(5) (utime, stime, cutime, cstime), counted after the ")".
        total += sum(int(x) for x in fields[11:15])
    return total / _TICKS
