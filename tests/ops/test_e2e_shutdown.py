"""SIGTERM/SIGINT end every role cleanly: idle processes exit 0 at once; work in flight is
finished or left queued within `shutdown.graceSeconds`, and the next start delivers it
exactly once; a second signal exits at once.

Its own Synapse, because these tests pause it (SIGSTOP) to hold sends in flight. Measured
exit times go to test-artifacts/shutdown-times.txt; the assertions check outcomes (exit code,
what the process logged, what reached the room), with deadlines only as a hang guard.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import ARTIFACTS, REDIS_URL
from support.cluster import Cluster
from support.flows import count_markers, create_webhook, room_with_bot

from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeFiles, BridgeProcess

BOT = "@hookshot:localhost"
CLUSTER_BOT = "@hookshot_cluster:localhost"
# Well past any clean stop, well short of a hang: only a guard, not a measurement.
HANG_GUARD = 30.0
IN_FLIGHT_GRACE = 2


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[BridgeFiles, BridgeFiles]:
    root = tmp_path_factory.mktemp("shutdown")
    return BridgeFiles(root / "single"), BridgeFiles(
        root / "cluster", appservice_id="hookshot_cluster", sender_localpart="hookshot_cluster"
    )


@pytest.fixture(scope="module")
def hs(
    files: tuple[BridgeFiles, BridgeFiles], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalSynapse]:
    single, cluster = files
    server = LocalSynapse(
        tmp_path_factory.mktemp("shutdown-hs"),
        app_service_config_files=[single.registration_path, cluster.registration_path],
    )
    single.write(server.base_url)
    cluster.write(server.base_url, generic={"userIdPrefix": "_clusterhooks_"})
    with server:
        yield server


@pytest.fixture
async def user(hs: LocalSynapse) -> AsyncIterator[MatrixUser]:
    async with await MatrixUser.create(hs.base_url, hs.shared_secret) as person:
        yield person


@contextlib.contextmanager
def paused(hs: LocalSynapse) -> Iterator[None]:
    """The homeserver frozen (SIGSTOP): requests to it hang, so sends stay in flight."""
    assert hs.pid is not None
    os.kill(hs.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(hs.pid, signal.SIGCONT)


def _record(what: str, seconds: float) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "shutdown-times.txt").open("a") as out:
        out.write(f"{what}: {seconds:.3f}s\n")
    print(f"{what}: exited in {seconds:.3f}s")


def _stop(proc: BridgeProcess, what: str, sig: int = signal.SIGTERM) -> int:
    started = time.monotonic()
    proc.send_signal(sig)
    code = proc.wait(HANG_GUARD)
    _record(what, time.monotonic() - started)
    return code


def _with_grace(config: Path, grace: float, path: Path) -> Path:
    """A copy of `config` with `shutdown.graceSeconds: grace`."""
    raw = yaml.safe_load(config.read_text())
    raw["shutdown"] = {"graceSeconds": grace}
    path.write_text(yaml.safe_dump(raw))
    return path


async def _metric(base: str, name: str, labels: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{base}/metrics", timeout=5)).text
    match = re.search(rf"^{name}\{{{labels}\}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def _until(check: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Poll `check` (sync or async) until it is truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _post_all(url: str, markers: list[str]) -> None:
    async with httpx.AsyncClient() as http:
        for marker in markers:
            resp = await http.post(url, json={"text": marker})
            assert resp.status_code == 202, resp.text


def _log_says(proc: BridgeProcess, text: str) -> bool:
    return text in proc.log_path.read_text(errors="replace")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_idle_single_process_exits_at_once(
    hs: LocalSynapse, files: tuple[BridgeFiles, BridgeFiles], sig: int
) -> None:
    single, _ = files
    proc = BridgeProcess(single, single.root / f"idle-{sig}.log")
    proc.start()
    assert _stop(proc, f"single process, idle, {signal.Signals(sig).name}", sig) == 0
    assert _log_says(proc, "stopped in")
    assert not _log_says(proc, "work in flight")
    # One line per event: nothing said twice (one uvicorn server per listener used to repeat
    # its startup lines), and no access log by default (/ready was polled).
    lines = [line.split(" ", 3)[-1] for line in proc.tail(1000).splitlines()]
    assert len(lines) == len(set(lines)), lines
    assert not any("HTTP/1.1" in line for line in lines)


async def test_json_logs_are_one_object_per_line_with_access_lines_on_request(
    hs: LocalSynapse, files: tuple[BridgeFiles, BridgeFiles], user: MatrixUser
) -> None:
    single, _ = files
    raw = yaml.safe_load(single.config_path.read_text())
    raw["logging"] = {"level": "info", "format": "json", "accessLog": True}
    config = single.root / "json-logs.yml"
    config.write_text(yaml.safe_dump(raw))
    proc = BridgeProcess(single, single.root / "json.log", config_path=config)
    proc.start()
    async with httpx.AsyncClient() as http:
        resp = await http.post(f"{single.webhook_base}/webhook/no-such-hook", json={})
        assert resp.status_code == 404
    assert _stop(proc, "single process, idle, JSON logs") == 0
    entries = [json.loads(line) for line in proc.log_path.read_text().splitlines()]
    assert {"timestamp", "level", "module", "message"} <= set(entries[0])
    messages = [e["message"] for e in entries]
    # The hook id in the path is a secret: the access line shows it redacted.
    assert sum("POST /webhook/<redacted> HTTP/1.1" in m for m in messages) == 1
    assert any(m.startswith("stopped in") for m in messages)
    startup = [e["message"] for e in entries if "access" not in e["module"]]
    assert len(startup) == len(set(startup)), startup


def test_every_idle_role_exits_at_once(
    hs: LocalSynapse, files: tuple[BridgeFiles, BridgeFiles]
) -> None:
    _, cluster_files = files
    cluster = Cluster(cluster_files, webhooks=1, senders=1)
    cluster.start(REDIS_URL)
    try:
        for name in ("webhooks-1", "sender-1", "bridge"):
            proc = cluster.procs[name]
            assert _stop(proc, f"--role {cluster.role_of(name)}, idle") == 0, proc.tail()
            assert _log_says(proc, "stopped in")
            assert not _log_says(proc, "work in flight")
    finally:
        cluster.stop()


async def test_sends_in_flight_at_the_grace_stay_queued_and_arrive_once(
    hs: LocalSynapse, files: tuple[BridgeFiles, BridgeFiles], user: MatrixUser
) -> None:
    single, _ = files
    config = _with_grace(single.config_path, IN_FLIGHT_GRACE, single.root / "grace.yml")
    proc = BridgeProcess(single, single.root / "in-flight.log", config_path=config)
    proc.start()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "inflight")
    markers = [f"in flight {uuid.uuid4().hex[:8]} #{i}" for i in range(5)]
    base = single.webhook_base
    with paused(hs):
        await _post_all(url, markers)
        await _until(
            lambda: _metric(base, "hookshot_queue_in_flight", 'topic="send"'),
            "the sender to hold a send",
        )
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        await _until(lambda: _log_says(proc, "stopping (grace"), "the stop to begin")
        # The intake no longer takes requests: the listener is closed (or answers 503).
        async with httpx.AsyncClient() as http:
            with contextlib.suppress(httpx.TransportError):
                late = await http.post(url, json={"text": "too late"})
                assert late.status_code == 503
        code = proc.wait(HANG_GUARD)
        _record("single process, a send stuck in flight, grace 2s", time.monotonic() - started)
    assert code == 0
    assert _log_says(proc, "ended with work in flight")
    proc.start()
    try:
        seen = await count_markers(hs, user, room_id, markers, timeout=60, settle=2.0)
        assert seen == markers  # each once, in order; the stuck one was not sent twice
    finally:
        proc.stop()


async def test_a_second_signal_exits_at_once_and_loses_nothing(
    hs: LocalSynapse, files: tuple[BridgeFiles, BridgeFiles], user: MatrixUser
) -> None:
    single, _ = files
    config = _with_grace(single.config_path, 600, single.root / "long-grace.yml")
    proc = BridgeProcess(single, single.root / "second-signal.log", config_path=config)
    proc.start()
    room_id = await room_with_bot(user, BOT)
    url = await create_webhook(user, room_id, BOT, "twice")
    markers = [f"second signal {uuid.uuid4().hex[:8]} #{i}" for i in range(5)]
    base = single.webhook_base
    with paused(hs):
        await _post_all(url, markers)
        await _until(
            lambda: _metric(base, "hookshot_queue_in_flight", 'topic="send"'),
            "the sender to hold a send",
        )
        proc.send_signal(signal.SIGTERM)
        await _until(lambda: _log_says(proc, "stopping (grace"), "the stop to begin")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(HANG_GUARD)  # the grace is 600 s: only the second signal ends it
        _record("single process, second SIGTERM during a 600s grace", time.monotonic() - started)
    assert code == 1
    assert _log_says(proc, "second SIGTERM: exiting at once")
    proc.start()
    try:
        seen = await count_markers(hs, user, room_id, markers, timeout=60, settle=2.0)
        assert seen == markers
    finally:
        proc.stop()


async def test_a_stopped_sender_leaves_its_jobs_to_the_next_one(
    hs: LocalSynapse, files: tuple[BridgeFiles, BridgeFiles], user: MatrixUser
) -> None:
    _, cluster_files = files
    cluster = Cluster(cluster_files, webhooks=1, senders=1)
    cluster.configure(REDIS_URL)
    sender = cluster.procs["sender-1"]
    sender.config_path = _with_grace(
        sender.config_path, IN_FLIGHT_GRACE, cluster_files.root / "config.sender-grace.yml"
    )
    for proc in cluster.procs.values():
        proc.start()
    try:
        room_id = await room_with_bot(user, CLUSTER_BOT)
        url = await create_webhook(user, room_id, CLUSTER_BOT, "roles")
        intake = url.replace(cluster_files.webhook_base, cluster.webhook_bases[0])
        markers = [f"roles {uuid.uuid4().hex[:8]} #{i}" for i in range(5)]
        with paused(hs):
            await _post_all(intake, markers)
            await _until(
                lambda: _metric(sender.base_url, "hookshot_queue_in_flight", 'topic="send"'),
                "the sender to hold a send",
            )
            code = _stop(sender, "--role sender, a send stuck in flight, grace 2s")
        assert code == 0
        assert _log_says(sender, "ended with work in flight")
        sender.start()
        seen = await count_markers(hs, user, room_id, markers, timeout=60, settle=2.0)
        assert seen == markers
    finally:
        cluster.stop()
