"""Intake throughput: webhooks accepted per second by the bridge (durable: each 202 means the
job is committed to SQLite) against a bare starlette endpoint on uvicorn that only answers
202, on the same machine in the same run. Prints the ratio, never bare times alone.

    .venv/bin/python bench/intake_bench.py [--seconds 10] [--concurrency 16]

Starts a local Synapse and the bridge (as in `hookshot demo`) in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

from hookshot.devclient import MatrixUser
from hookshot.devhomeserver import LocalSynapse, aregister_user, free_port
from hookshot.devstack import BridgeFiles, BridgeProcess

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


async def load(url: str, seconds: float, concurrency: int) -> tuple[int, int]:
    """(accepted, errors) from `concurrency` clients posting for `seconds`."""
    deadline = time.monotonic() + seconds
    accepted = errors = 0
    body = b'{"text": "bench"}'

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal accepted, errors
        while time.monotonic() < deadline:
            resp = await http.post(url, content=body, headers={"Content-Type": "application/json"})
            if resp.status_code in (200, 202):
                accepted += 1
            else:
                errors += 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return accepted, errors


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


def wait_port(port: int) -> None:
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"port {port} never opened")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = BridgeFiles(root / "bridge")
        synapse = LocalSynapse(root / "synapse", app_service_config_files=[files.registration_path])
        files.write(synapse.base_url)
        bridge = BridgeProcess(files)
        bare_port = free_port()
        bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port)])
        try:
            synapse.start()
            bridge.start()
            url = asyncio.run(make_hook(synapse, "@hookshot:localhost"))
            wait_port(bare_port)
            bare_url = f"http://127.0.0.1:{bare_port}/webhook/x"
            asyncio.run(load(bare_url, 2, args.concurrency))  # warm-up
            bare_ok, bare_err = asyncio.run(load(bare_url, args.seconds, args.concurrency))
            ours_ok, ours_err = asyncio.run(load(url, args.seconds, args.concurrency))
        finally:
            bare.terminate()
            bare.wait()
            bridge.stop()
            synapse.stop()
    bare_rate, ours_rate = bare_ok / args.seconds, ours_ok / args.seconds
    print(f"concurrency {args.concurrency}, {args.seconds:.0f} s each")
    print(f"bare starlette+uvicorn : {bare_rate:8.0f} req/s  ({bare_err} errors)  = 1.00")
    print(
        f"hookshot intake        : {ours_rate:8.0f} req/s  ({ours_err} errors)  = "
        f"{ours_rate / bare_rate:.2f} of the bare endpoint (each one durably queued)"
    )


if __name__ == "__main__":
    main()
