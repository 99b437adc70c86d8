"""Runs the bridge: opens storage, serves every listener, starts the bridge, and shuts it all
down in reverse on SIGTERM/SIGINT, letting in-flight requests and sends finish."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import uvicorn

from hookshot.app import create_site_app, plan_sites
from hookshot.bridge import Bridge
from hookshot.config import Config
from hookshot.core.queue.base import Queue
from hookshot.core.queue.sqlite import SqliteQueue
from hookshot.matrix.registration import Registration
from hookshot.ops.roles import Role

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to us (several run in one process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run(main: Coroutine[Any, Any, int]) -> int:
    """Run `main` on uvloop where it is installed (not on Windows), else on asyncio's loop.

    uvloop's loop and transports take about a fifth less CPU per delivered message than
    asyncio's selector loop (docs/performance.md); everything here runs on either.
    """
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


async def open_queue(config: Config) -> Queue:
    """Redis streams with `queue.redisUri`, else the embedded SQLite database."""
    if config.queue is not None:
        from hookshot.core.queue.redis import RedisQueue  # only processes that use Redis load it

        return await RedisQueue.open(
            config.queue.redis_uri,
            prefix=config.queue.prefix,
            lease=config.queue.lease_seconds,
        )
    return await SqliteQueue.open(Path(config.storage.path))


async def serve(config: Config, registration: Registration, role: Role = Role.ALL) -> int:
    """Run until SIGTERM/SIGINT (exit code 0) or until the bridge must stop (1).

    On the first signal the listeners close (requests in progress are answered), then the
    workers finish the jobs they hold; both within `shutdown.graceSeconds`, after which what
    is still running is cancelled and its jobs stay queued. A second signal exits at once.
    """
    grace = config.shutdown.grace_seconds
    queue = await open_queue(config)
    shared = None
    if config.queue or config.cache:
        from hookshot.ops.shared_redis import SharedRedis

        shared = SharedRedis.from_config(config)
    bridge = Bridge(config, registration, queue, role=role, shared=shared)
    servers = [
        _Server(
            uvicorn.Config(
                create_site_app(bridge, site),
                host=site.host,
                port=site.port,
                lifespan="off",
                log_config=None,
                access_log=config.logging.access_log,
                timeout_graceful_shutdown=max(1, math.ceil(grace)),
            )
        )
        for site in plan_sites(bridge)
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            # Nothing acknowledged is lost: unsettled jobs are redelivered at the next start.
            log.warning("second %s: exiting at once", sig.name)
            logging.shutdown()
            os._exit(1)
        bridge.stopping = True  # webhooks get 503 from now on
        log.info("%s: stopping (grace %.0fs; a second signal exits at once)", sig.name, grace)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    serving = [asyncio.create_task(s.serve()) for s in servers]
    stopping_at: float | None = None
    try:
        # Listen first: the homeserver must reach us while we start (ping, replays).
        while not all(s.started for s in servers):
            if any(t.done() for t in serving):
                failed = next(t for t in serving if t.done())
                failed.result()
                raise SystemExit("a listener stopped during startup")
            await asyncio.sleep(0.02)
        for site in plan_sites(bridge):
            log.info(
                "listening on %s:%d for %s",
                site.host,
                site.port,
                ", ".join(r for _, r in site.mounts),
            )
        starting: asyncio.Task[Any] = asyncio.create_task(bridge.start())
        stopped: asyncio.Task[Any] = asyncio.create_task(stop.wait())
        fatal: asyncio.Task[Any] = asyncio.create_task(bridge.fatal.wait())
        await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()
            log.info("ready: role %s as %s", role.value, bridge.bot_user_id)
            await asyncio.wait({stopped, fatal}, return_when=asyncio.FIRST_COMPLETED)
        else:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        stopped.cancel()
        fatal.cancel()
    finally:
        bridge.stopping = True
        stopping_at = loop.time()
        for s in servers:
            s.should_exit = True
        await asyncio.gather(*serving, return_exceptions=True)
        left = max(0.0, grace - (loop.time() - stopping_at))
        await bridge.stop(left)
        await queue.close()
        if shared is not None:
            await shared.close()
        log.info("stopped in %.2fs", loop.time() - stopping_at)
    return 1 if bridge.failure else 0
