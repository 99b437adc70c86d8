"""The bridge service: builds every part from the config and runs the workers.

Owns the homeserver client, the queue consumers (matrix events, webhooks, sends) and the
in-memory state (connection store, admin rooms). HTTP routes are built by `app.py` from
the parts exposed here.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import os
import re
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx

from hookshot import wire
from hookshot.commands.user_tokens import UserTokens
from hookshot.config import Config
from hookshot.core.completions import Completions, Outcome
from hookshot.core.connections import OutgoingMessage
from hookshot.core.hook_ids import HookIds, HookSecrets
from hookshot.core.kinds import Kind
from hookshot.core.lineage import Lineage
from hookshot.core.markdown import notice_content
from hookshot.core.outbox import Outbox
from hookshot.core.permissions import Permissions
from hookshot.core.queue.base import Job, Queue, SeenStore, ValueStore
from hookshot.core.queue.settling import SettlingQueue
from hookshot.core.queue.stopping import StoppingQueue
from hookshot.core.room_state import RoomStateSync
from hookshot.core.router import WebhookRouter
from hookshot.core.sender import Sender, backoff
from hookshot.core.store import ConnectionStore
from hookshot.core.threads import Threads as SubjectThreads
from hookshot.errors import HomeserverUnreachable, HookshotError, MatrixError
from hookshot.matrix.admin_rooms import AdminRooms
from hookshot.matrix.client import MatrixClient
from hookshot.matrix.dispatch import Dispatcher
from hookshot.matrix.permission_rooms import PermissionRooms
from hookshot.matrix.registration import Registration
from hookshot.matrix.upgrades import RoomUpgrades
from hookshot.ops.delivery_log import DeliveryLog, DeliveryRecorder
from hookshot.ops.metrics import CountingQueue, Metrics, refresh_gauges
from hookshot.ops.roles import PLANS, Role
from hookshot.services import registered
from hookshot.services.base import ServiceParts, ServiceRuntime
from hookshot.services.generic.provisioning import Provisioner, WebhookSettings
from hookshot.services.registry import kind_for
from hookshot.widget.backend import BridgeWidgetBackend
from hookshot.widget.openid import OpenIdVerifier
from hookshot.widget.routes import WidgetApi
from hookshot.widget.sessions import MemorySessionStore, SessionStore

if TYPE_CHECKING:
    # Redis is imported only by processes that use it (it costs ~9 MiB of RSS).
    from hookshot.ops.bridge_lock import BridgeLock
    from hookshot.ops.delivery_log_redis import RedisDeliveryLog
    from hookshot.ops.outcome_bus import OutcomeBus
    from hookshot.ops.shared_redis import SharedRedis

log = logging.getLogger(__name__)

MATRIX_EVENT_ATTEMPTS = 5
ROOM_LOAD_CONCURRENCY = 8


class Stage(enum.Enum):
    """How a worker stops, in the order `Bridge.stop` handles them."""

    IDLE = "idle"  # holds no job (its work is redone at start): cancelled at once
    WORK = "work"  # takes jobs: finishes those it holds, within the grace
    LISTEN = "listen"  # waits for news/renews a lock while the workers drain: then cancelled
    FLUSH = "flush"  # writes what the others reported (logs, pub/sub): drained last


class Bridge:
    """Everything but HTTP: start() brings it up, stop() takes it down in reverse."""

    def __init__(
        self,
        config: Config,
        registration: Registration,
        queue: Queue,
        *,
        client: MatrixClient | None = None,
        role: Role = Role.ALL,
        shared: SharedRedis | None = None,
    ) -> None:
        self.config = config
        self.role = role
        self.plan = PLANS[role]
        self.shared = shared
        self.registration = registration
        self.metrics = Metrics()
        # Seen keys live in the queue's own store (SQLite or Redis), not in its wrappers; every
        # queue implementation is one, so a service's seen keys are as durable as its jobs.
        if not isinstance(queue, SeenStore):
            raise TypeError(f"{type(queue).__name__} keeps no seen keys (SeenStore)")
        seen = queue
        self._takes = StoppingQueue(CountingQueue(SettlingQueue(queue), self.metrics))
        self.queue: Queue = self._takes
        queue = self.queue
        self.domain = config.bridge.domain
        self.bot_user_id = f"@{registration.sender_localpart}:{self.domain}"
        self.client = client or MatrixClient(
            config.bridge.url,
            registration.as_token,
            self.bot_user_id,
            observer=self._observe_call,
        )
        self.store = ConnectionStore()
        self.completions = Completions()
        self._redis_log: RedisDeliveryLog | None = None
        if shared is not None and shared.cache is not None:
            from hookshot.ops.delivery_log_redis import RedisDeliveryLog

            self._redis_log = RedisDeliveryLog(shared.cache, shared.prefix)
        self.delivery_log: DeliveryRecorder = self._redis_log or DeliveryLog()
        self.completions.listen(self._log_outcome)
        self.outbox = Outbox(queue)
        # News between roles (waitForComplete answers, discussion roots); None in one process.
        self.bus: OutcomeBus | None = None
        self.lock: BridgeLock | None = None
        # Set when this process must stop on its own (it lost the bridge lock); see runner.
        self.fatal = asyncio.Event()
        self.failure: str | None = None
        if role is not Role.ALL:
            assert shared is not None and shared.coord is not None, "roles need Redis"
            from hookshot.ops.outcome_bus import OutcomeBus

            self.bus = OutcomeBus(shared.coord, shared.prefix)
            self.completions.forward_to(self.bus.publish_outcome)
            if role is Role.BRIDGE:
                from hookshot.ops.bridge_lock import BridgeLock

                lease = config.queue.lease_seconds if config.queue else 30.0
                holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
                self.lock = BridgeLock(shared.coord, shared.prefix, holder, lease)
        self.permissions = Permissions(config.permissions)
        self.permission_rooms = PermissionRooms(self.permissions.members, self.client)
        self.hook_ids = HookIds(self.client)
        self.hook_secrets = HookSecrets(self.client)
        self.admin_rooms = AdminRooms(self.client)
        generic = config.generic
        self.user_tokens = UserTokens(self.client, config.pass_file)
        # The services on the Service interface (services/__init__.py) the config switches on.
        parts = ServiceParts(
            queue,
            self.store,
            lambda: self.ready,
            self.user_tokens,
            self.domain,
            self.outbox,
            seen,
            self.tell_user,
            self.completions,
            self.delivery_log,
            self.metrics,
            role,
            shared,
            self.client.download,
            lambda: self.provisioner,
            self.is_bridge_user,
            config.connections,
        )
        self.services: dict[str, ServiceRuntime] = {
            service.name: service.start(config.services[service.name], parts)
            for service in registered()
            if service.name in config.services
        }
        switches = {
            switch
            for name, runtime in self.services.items()
            for switch in (runtime.switches if runtime.switches is not None else (name,))
        }
        self._kinds = {
            event_type: kind
            for runtime in self.services.values()
            for kind in runtime.kinds
            for event_type in kind.event_types
        }
        self.room_state = RoomStateSync(
            kinds=self.kind_for,
            client=self.client,
            store=self.store,
            hook_ids=self.hook_ids,
            admin_rooms=self.admin_rooms,
            outbox=self.outbox,
            allowed=self.allowed,
            enabled_services=frozenset(switches),
            js_enabled=bool(generic and generic.allow_js_transformation_functions),
            hook_secrets=self.hook_secrets,
            sealed=self._sealed,
            seal=self._seal,
            static_keys=frozenset(
                (c.room_id, c.connection_type, c.state_key) for c in config.connections
            ),
        )
        self.upgrades = RoomUpgrades(
            client=self.client,
            room_state=self.room_state,
            admin_rooms=self.admin_rooms,
            outbox=self.outbox,
            lineage=Lineage(seen) if isinstance(seen, ValueStore) else None,
        )
        max_expiry = generic.max_expiry_time if generic else None
        self.provisioner = Provisioner(
            client=self.client,
            hook_ids=self.hook_ids,
            hook_secrets=self.hook_secrets,
            reload=self.room_state.reload,
            allowed=self.allowed,
            webhooks=WebhookSettings(
                enabled=bool(generic and generic.enabled),
                url_prefix=generic.url_prefix if generic else "",
                max_expiry_seconds=max_expiry.total_seconds() if max_expiry else None,
                require_expiry=bool(generic and generic.require_expiry_time),
                outbound=bool(generic and generic.outbound),
                outbound_allow_private=bool(generic and generic.outbound_allow_private_targets),
            ),
            seal=self._seal,
            published=self._after_change,
        )
        self.dispatcher = Dispatcher(
            client=self.client,
            room_state=self.room_state,
            upgrades=self.upgrades,
            admin_rooms=self.admin_rooms,
            store=self.store,
            outbox=self.outbox,
            provisioner=self.provisioner,
            allowed=self.allowed,
            allowed_any=self.allowed_any,
            is_bridge_user=self.is_bridge_user,
            delivery_log=self.delivery_log,
            widgets=config.widgets,
            queue=queue,
            services=self.services,
            permission_rooms=self.permission_rooms,
        )
        self.router = WebhookRouter(
            queue=queue,
            completions=self.completions,
            metrics=self.metrics,
            renderers={
                name: runtime.renderer
                for name, runtime in self.services.items()
                if runtime.renderer is not None
            },
        )
        self.widget_api = None
        if config.widgets is not None:
            widgets = config.widgets
            self.widget_api = WidgetApi(
                backend=BridgeWidgetBackend(
                    config=config,
                    client=self.client,
                    store=self.store,
                    provisioner=self.provisioner,
                    allowed=self.allowed,
                    log=self.delivery_log,
                    services=self.services,
                ),
                verifier=OpenIdVerifier(
                    overrides=widgets.openid_overrides,
                    disallowed=widgets.disallowed_ip_ranges,
                    allowed=widgets.allowed_ip_ranges,
                ),
                sessions=self._sessions(),
            )
        self.sender = Sender(
            self.client,
            queue,
            self.completions,
            metrics=self.metrics,
            # Services may thread later messages under earlier ones (ServiceRuntime.on_sent).
            on_sent=self.bus.publish_sent if self.bus else self._on_sent,
            threads=SubjectThreads(self.client, seen) if isinstance(seen, ValueStore) else None,
            digest_threshold=config.digest.threshold,
            digest_max_events=config.digest.max_events,
        )
        self._user_patterns = [re.compile(ns.regex) for ns in registration.namespaces.users]
        # Worker tasks by how they stop (see `_spawn` and `stop`).
        self._stages: dict[Stage, list[asyncio.Task[None]]] = {stage: [] for stage in Stage}
        # Set by the runner on the first signal, before the listeners close.
        self.stopping = False
        self._homeserver_seen: tuple[float, bool] = (0.0, False)
        self._refused = asyncio.Event()
        self._stopping = asyncio.Event()
        self.ready = False

    def _sessions(self) -> SessionStore:
        if self.shared is not None and self.shared.cache is not None:
            from hookshot.widget.sessions_redis import RedisSessionStore

            return RedisSessionStore(self.shared.cache, self.shared.prefix)
        return MemorySessionStore()

    async def _seal(self, event_type: str, secret: str) -> None:
        await self.user_tokens.store.set_sealed(event_type, secret)

    async def _sealed(self, event_type: str) -> str | None:
        """A secret sealed in the bot's account data; None when it cannot be read."""
        try:
            return await self.user_tokens.store.get_sealed(event_type)
        except HookshotError as err:
            log.warning("cannot read %s: %s", event_type, err)
            return None

    def _log_outcome(self, job_id: str, outcome: Outcome) -> None:
        if outcome.ok:
            result = f"sent {outcome.event_id}" if outcome.event_id else "nothing to send"
        else:
            result = f"failed: {outcome.error}"
        self.delivery_log.settle(job_id, result)

    def _observe_call(self, name: str, ok: bool) -> None:
        self.metrics.matrix_calls.labels(name).inc()
        if not ok:
            self.metrics.matrix_calls_failed.labels(name).inc()

    async def refresh_metrics(self) -> None:
        counts: dict[str, int] = {}
        for conn in self.store:
            kind = self.kind_for(conn.event_type)
            service = kind.service if kind else "unknown"
            counts[service] = counts.get(service, 0) + 1
        topics = (wire.TOPIC_MATRIX, wire.TOPIC_WEBHOOK, wire.TOPIC_SEND)
        await refresh_gauges(self.metrics, self.queue, topics, counts)

    def kind_for(self, event_type: str) -> Kind | None:
        """The connection kind of a state event type, of any service (a running service's
        own first: it builds with the service's settings)."""
        return self._kinds.get(event_type) or kind_for(event_type)

    def _on_sent(self, payload: dict[str, Any], event_id: str) -> None:
        """A message was sent: tell the services that follow what they sent."""
        for runtime in self.services.values():
            if runtime.on_sent is not None:
                runtime.on_sent(payload, event_id)

    # --- identity and permissions -------------------------------------------------------

    def allowed(self, user_id: str, service: str, level: str) -> bool:
        return self.permissions.allowed(user_id, service, level)

    def allowed_any(self, user_id: str, level: str) -> bool:
        return self.permissions.allowed_any(user_id, level)

    def is_bridge_user(self, user_id: str) -> bool:
        """The bot or any user in our exclusive namespace (never a command sender)."""
        return user_id == self.bot_user_id or any(p.fullmatch(user_id) for p in self._user_patterns)

    async def tell_user(self, user_id: str, text: str) -> None:
        """A notice in the user's admin room (created if needed)."""
        room_id = await self.admin_rooms.get_or_create(user_id)
        notice = OutgoingMessage(room_id=room_id, content=notice_content(text))
        await self.outbox.send(f"tell:{uuid.uuid4()}", [notice])

    async def ensure_user(self, user_id: str) -> None:
        """Register a namespace user the homeserver asked about."""
        await self.client.register_appservice_user(user_id[1:].split(":", 1)[0])

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self, *, homeserver_timeout: float | None = None) -> None:
        """Start what this process's role runs (see `roles.py`), then report ready."""
        plan = self.plan
        if self._redis_log is not None:
            self._spawn(self._redis_log.run, "delivery-log", Stage.FLUSH)
        if self.bus is not None:
            self._spawn(self.bus.run_publisher, "news-publisher", Stage.FLUSH)
            waiting = self.completions if plan.intake else None
            threads = self._on_sent if plan.room_state else None
            subscribe = functools.partial(self.bus.run_subscriber, waiting, threads)
            self._spawn(subscribe, "news-subscriber", Stage.LISTEN)
        if self.lock is not None:
            await self.lock.acquire()  # a second bridge stands by here
            keep = functools.partial(self.lock.keep, self._fail)
            self._spawn(keep, "bridge-lock", Stage.LISTEN)
        if plan.homeserver:
            await self._wait_for_homeserver(homeserver_timeout)
        if plan.room_state:
            await self._start_room_state()
        if plan.sends:
            self._spawn(self.sender.run, "sender")
        for runtime in self.services.values():
            if runtime.until_ready is not None:
                await runtime.until_ready()
        if plan.room_state:
            # Invites sent while we were down are in transactions the homeserver holds for
            # us (it cannot /sync an appservice bot); the ping makes it deliver them now.
            await self._guard(self.client.ping_appservice(self.registration.id))
        self.ready = True

    def _fail(self, reason: str) -> None:
        log.error("stopping: %s", reason)
        self.failure = reason
        self.fatal.set()

    def transactions_refused(self) -> None:
        """The appservice API answered a transaction 503 (the queue was unreachable)."""
        self._refused.set()

    async def _ping_when_queue_back(self) -> None:
        """Synapse backs off up to 512 s after a refused transaction; once the queue works
        again, a ping makes it deliver the held transactions at once."""
        while not self._stopping.is_set():
            await self._refused.wait()
            await asyncio.sleep(1.0)
            try:
                await self.queue.depth(wire.TOPIC_MATRIX)  # the queue answers again
                await self.client.ping_appservice(self.registration.id)
            except Exception as err:
                log.info("queue or homeserver not back yet: %s", err)
                continue
            log.info("queue reachable again; asked the homeserver to resend transactions")
            self._refused.clear()

    async def _after_change(self) -> bool:
        """Tell the services a command or the widget changed connections (False: one of them
        could not pass the change on in time)."""
        done = True
        for runtime in self.services.values():
            if runtime.after_change is not None:
                done = await runtime.after_change() and done
        return done

    async def _start_room_state(self) -> None:
        await self._setup_bot()
        await self.permission_rooms.start()  # joins them, so they load like any other room
        rooms = await self.client.joined_rooms()
        # A few rooms at a time: each costs several sequential homeserver round trips, and
        # Synapse answers reads in parallel well below its single-core limit.
        gate = asyncio.Semaphore(ROOM_LOAD_CONCURRENCY)

        async def load(room_id: str) -> None:
            async with gate:
                try:
                    await self.upgrades.load_room(room_id)
                except (MatrixError, HomeserverUnreachable) as err:
                    # One unreadable room must not keep the bridge from starting.
                    log.warning("could not load room %s: %s", room_id, err)

        await asyncio.gather(*(load(room_id) for room_id in rooms))
        for runtime in self.services.values():
            if runtime.loaded is not None:
                runtime.loaded()
        log.info("loaded %d connections in %d rooms", len(self.store), len(rooms))
        for name, runtime in self.services.items():
            # Only now that room state is loaded: e.g. an early, empty hook directory would
            # make the webhooks processes answer 404.
            for n, worker in enumerate(runtime.draining_workers):
                self._spawn(worker, f"{name}-drain-{n}")
        self._spawn(self._consume_matrix_events, "matrix-events")
        self._spawn(self.router.run, "webhook-router")
        self._spawn(self._ping_when_queue_back, "appservice-replay", Stage.IDLE)
        self._spawn(self.permission_rooms.run, "permission-rooms", Stage.IDLE)
        for name, runtime in self.services.items():
            for n, worker in enumerate(runtime.workers):
                self._spawn(worker, f"{name}-{n}", Stage.IDLE)

    def _spawn(
        self, start: Callable[[], Awaitable[None]], name: str, stage: Stage = Stage.WORK
    ) -> None:
        """Run a worker, restarting it if it crashes (a Redis restart, a bug): a dead worker
        would leave the process up but doing nothing. `stage` says how it stops."""

        async def supervised() -> None:
            delay = 0.5
            while True:
                try:
                    await start()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("worker %s crashed; restarting in %.1fs", name, delay)
                if self._stopping.is_set():
                    return
                await asyncio.sleep(delay)
                delay = min(10.0, delay * 2)

        task = asyncio.create_task(supervised(), name=name)
        self._stages[stage].append(task)

    async def _guard(self, coro: Awaitable[Any]) -> None:
        try:
            await coro
        except (MatrixError, HomeserverUnreachable) as err:
            log.warning("startup step failed: %s", err)

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work, let in-flight work finish (up to `timeout`: what is still running
        then is cancelled and its jobs stay queued for the next start), close the clients."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self.ready = False
        self.stopping = True
        self._stopping.set()
        self._takes.stop_taking()
        self.router.stop()
        self.sender.stop()
        for runtime in self.services.values():
            if runtime.stop is not None:
                runtime.stop()
        await _finish(self._stages[Stage.IDLE], 0.0)
        if not await _finish(self._stages[Stage.WORK], timeout):
            log.warning(
                "shutdown grace (%.0fs) ended with work in flight; its jobs stay queued",
                timeout,
            )
        for part in (self.bus, self._redis_log):
            if part is not None:
                part.stop()
        if self.lock is not None:
            await self.lock.release()
        await _finish(self._stages[Stage.LISTEN], 0.0)
        await _finish(self._stages[Stage.FLUSH], max(1.0, deadline - loop.time()))
        for runtime in self.services.values():
            if runtime.close is not None:
                runtime.close()
        for runtime in self.services.values():
            if runtime.aclose is not None:
                await runtime.aclose()
        await self.client.aclose()

    async def readiness(self) -> dict[str, bool]:
        """What `/ready` reports: started, and each service this role needs reachable."""
        checks = {"started": self.ready}
        if self.shared is not None:
            checks["redis"] = await self.shared.reachable()
        if self.plan.homeserver:
            checks["homeserver"] = await self._homeserver_reachable()
        for runtime in self.services.values():
            if runtime.readiness is not None:
                checks.update(await runtime.readiness())
        return checks

    async def _homeserver_reachable(self) -> bool:
        """`/versions` answered within 2 s (remembered for 2 s: probes come often)."""
        loop = asyncio.get_running_loop()
        at, ok = self._homeserver_seen
        if loop.time() - at < 2.0:
            return ok
        try:
            async with asyncio.timeout(2.0):
                await self.client.versions()
            ok = True
        except (HomeserverUnreachable, MatrixError, TimeoutError):
            ok = False
        self._homeserver_seen = (loop.time(), ok)
        return ok

    async def _wait_for_homeserver(self, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        attempt = 0
        while True:
            try:
                await self.client.versions()
                return
            except (HomeserverUnreachable, MatrixError) as err:
                if deadline is not None and loop.time() > deadline:
                    raise
                if attempt % 5 == 0:
                    log.warning("waiting for homeserver at %s: %s", self.config.bridge.url, err)
                attempt += 1
                await asyncio.sleep(min(5.0, 0.2 * attempt))

    async def _setup_bot(self) -> None:
        await self.client.register_appservice_user(self.registration.sender_localpart)
        bot = self.config.bot
        if bot.displayname is None and bot.avatar is None:
            return
        try:
            profile = await self.client.get_profile(self.bot_user_id)
        except MatrixError:
            profile = {}
        if bot.displayname is not None and profile.get("displayname") != bot.displayname:
            await self.client.set_displayname(self.bot_user_id, bot.displayname)
        if bot.avatar is not None and profile.get("avatar_url") != bot.avatar:
            await self.client.set_avatar_url(self.bot_user_id, bot.avatar)

    # --- matrix event worker ------------------------------------------------------------

    async def _consume_matrix_events(self) -> None:
        while not self._stopping.is_set():
            jobs = await self.queue.take(wire.TOPIC_MATRIX, 32, timeout=0.5)
            if jobs:
                await asyncio.gather(*(self._handle_matrix_event(job) for job in jobs))

    async def _handle_matrix_event(self, job: Job) -> None:
        try:
            await self.dispatcher.handle(job.payload)
        except (HomeserverUnreachable, httpx.HTTPError, MatrixError) as err:
            transient = not isinstance(err, MatrixError) or not err.permanent
            if transient and job.attempts < MATRIX_EVENT_ATTEMPTS:
                await self.queue.retry(job, backoff(job.attempts), str(err))
                return
            log.warning("event %s dropped after %d attempts: %s", job.id, job.attempts + 1, err)
        except Exception:
            log.exception("event %s could not be handled", job.id)
        await self.queue.ack(job)


async def _finish(tasks: list[asyncio.Task[None]], timeout: float) -> bool:
    """Wait up to `timeout` for `tasks`, then cancel what is left; False if any was."""
    if not tasks:
        return True
    pending: set[asyncio.Task[None]] = {t for t in tasks if not t.done()}
    if pending and timeout > 0:
        _done, pending = await asyncio.wait(pending, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return not pending
