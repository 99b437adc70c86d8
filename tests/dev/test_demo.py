"""`hookshot demo` as a user runs it: the banner's curl works, messages show up as they arrive,
and Ctrl-C (SIGINT to the terminal's process group) stops everything with exit 0.

The demo starts its own Synapse and bridge. The stop time goes to
test-artifacts/shutdown-times.txt; the deadlines here only guard against a hang.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO

import httpx
from conftest import ARTIFACTS

from hookshot.dev.demo import message_line

HANG_GUARD = 120.0


class _Lines:
    """The demo's stdout, read on a thread so each wait has a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        self._stdout = proc.stdout
        self._thread = threading.Thread(target=self._read, args=(self._stdout,), daemon=True)
        self._thread.start()

    def rest(self) -> list[str]:
        """The lines not yet waited for (once closed, so the reader put them all)."""
        left = []
        while (line := self._queue.get_nowait()) is not None:
            left.append(line)
        return left

    def close(self) -> None:
        """After the process exited: the reader sees EOF and ends."""
        self._thread.join(HANG_GUARD)
        self._stdout.close()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, needle: str, timeout: float = HANG_GUARD) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no line with {needle!r}; output:\n" + "\n".join(self.seen))
            self.seen.append(line)
            if needle in line:
                return line


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_demo_prints_arrivals_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookshot", "demo", "--dir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group, as a shell gives a foreground job: Ctrl-C signals the group.
        start_new_session=True,
    )
    lines = _Lines(proc)
    children: list[int] = []
    try:
        url = lines.wait_for("webhook    :").split()[-1]
        lines.wait_for("curl -X POST")
        lines.wait_for("Hello from the **hookshot demo**!")
        children = _children(proc.pid)
        assert len(children) == 2, children  # Synapse and the bridge

        marker = f"arrived {uuid.uuid4().hex}"
        reply = httpx.post(url, json={"text": f"{marker}\nsecond line"}, timeout=10)
        assert reply.status_code == 202
        shown = lines.wait_for(marker)
        assert shown.split()[1:] == ["@_webhooks_demo:localhost", "arrived", marker.split()[1]]
        assert not any("second line" in line for line in lines.seen)

        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(HANG_GUARD)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # They run in sessions of their own, so a failed test must not leave them behind.
        leftovers = [pid for pid in children if _alive(pid)]
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        lines.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "shutdown-times.txt").open("a") as out:
        out.write(f"demo, Ctrl-C: {took:.3f}s\n")
    output = lines.seen + lines.rest()
    assert code == 0, "\n".join(output)
    assert any(line.startswith("Stopped in") for line in output), output
    assert not leftovers


def test_message_line_is_one_line_per_message() -> None:
    event = {
        "type": "m.room.message",
        "sender": "@_webhooks_demo:localhost",
        "origin_server_ts": 1_700_000_000_000,
        "content": {"msgtype": "m.notice", "body": "\n  first **line**\nsecond"},
    }
    line = message_line(event)
    assert line is not None
    assert line.endswith("  @_webhooks_demo:localhost  first **line**")
    assert message_line({**event, "content": {"body": "x" * 500}}) == (
        line.split("  ")[0] + "  @_webhooks_demo:localhost  " + "x" * 159 + "…"
    )
    assert message_line({**event, "type": "m.reaction"}) is None
    assert message_line({**event, "content": {"body": 5}}) is None
    assert message_line({**event, "content": {"msgtype": "m.text", "body": ""}}) is not None
