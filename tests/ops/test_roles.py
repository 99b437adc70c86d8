"""The pure parts of the scale-out roles: what each role serves, the config it needs, and the
wire forms of the hook directory and the news the roles exchange. The same parts against
real processes, Synapse and Redis are in test_e2e_roles.py; the Redis stores here run on the
real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hookshot.cli import main
from hookshot.config import parse_config
from hookshot.core.completions import Completions, Outcome
from hookshot.core.rate_limit import RateLimit
from hookshot.core.store import ConnectionStore
from hookshot.errors import ConfigError
from hookshot.ops.bridge_lock import BridgeLock
from hookshot.ops.delivery_log_redis import RedisDeliveryLog
from hookshot.ops.outcome_bus import OutcomeBus, decode_outcome, decode_sent, encode_outcome
from hookshot.ops.redis_buffer import WriteBuffer
from hookshot.ops.roles import PLANS, Role, check_role
from hookshot.services.generic.hook import GenericHook, from_state
from hookshot.services.generic.hook_directory import (
    DirectoryUnavailable,
    HookEntry,
    StoreLookup,
    decode_entry,
    encode_entry,
    entry_for,
)
from hookshot.services.generic.hook_directory_redis import (
    CACHE_SIZE,
    CACHE_TTL,
    DirectoryPublisher,
    RedisHookDirectory,
)
from hookshot.widget.sessions_redis import RedisSessionStore

BASE = {
    "bridge": {"domain": "hooks.test", "url": "http://hs:8008", "port": 9993},
    "listeners": [{"port": 9000, "resources": ["webhooks"]}],
    "generic": {"enabled": True, "urlPrefix": "https://hooks.test/webhook/"},
}


def test_every_role_but_all_needs_a_redis_queue() -> None:
    plain = parse_config(BASE)
    check_role(Role.ALL, plain)
    for role in (Role.WEBHOOKS, Role.BRIDGE, Role.SENDER):
        with pytest.raises(ConfigError, match=r"queue\.redisUri: is required by role"):
            check_role(role, plain)
        check_role(role, parse_config({**BASE, "queue": {"redisUri": "redis://r:6379"}}))


def test_a_single_process_does_not_load_redis() -> None:
    # ~9 MiB of RSS for nothing when the queue is SQLite (the idle-memory budget is 80 MB).
    code = "import sys, hookshot.cli, hookshot.runner, hookshot.app; print('redis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_roles_split_the_work_without_gaps() -> None:
    split = [PLANS[r] for r in (Role.WEBHOOKS, Role.BRIDGE, Role.SENDER)]
    # Exactly one role of the split does each job; `all` does every one.
    for job in ("intake", "room_state", "sends"):
        assert [getattr(p, job) for p in split].count(True) == 1, job
        assert getattr(PLANS[Role.ALL], job)
    assert "appservice" not in PLANS[Role.WEBHOOKS].resources
    assert PLANS[Role.SENDER].resources == {"metrics"}
    assert not PLANS[Role.WEBHOOKS].homeserver  # accepts webhooks while the homeserver is down


def test_queue_options_of_ours() -> None:
    config = parse_config(
        {**BASE, "queue": {"redisUri": "redis://r", "prefix": "hs1:", "leaseSeconds": 5}}
    )
    assert config.queue is not None
    assert (config.queue.prefix, config.queue.lease_seconds) == ("hs1:", 5.0)
    with pytest.raises(ConfigError, match=r"queue\.leaseSeconds: must be a number"):
        parse_config({**BASE, "queue": {"redisUri": "redis://r", "leaseSeconds": 0}})
    with pytest.raises(ConfigError, match=r"queue\.leaseSeconds: must be a number"):
        parse_config({**BASE, "queue": {"redisUri": "redis://r", "leaseSeconds": "5"}})


def test_the_cli_refuses_a_role_without_redis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yml"
    config.write_text(json.dumps(BASE))
    assert main(["generate-registration", str(config), "-o", str(tmp_path / "reg.yml")]) == 0
    assert main([str(config), str(tmp_path / "reg.yml"), "--role", "sender"]) == 2
    assert "queue.redisUri: is required by role 'sender'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", str(config), str(tmp_path / "reg.yml"), "--role", "everything"])


def _hook(**content: object) -> GenericHook:
    return from_state(
        "!r:example.org",
        "uk.half-shot.matrix-hookshot.generic.hook",
        "alerts",
        {"name": "alerts", **content},
        hook_id="h00k",
        secret="s3cret",
    )


def test_directory_entries_round_trip() -> None:
    hook = _hook(secret=True, waitForComplete=True, expirationDate="2030-01-01T00:00:00Z")
    entry = entry_for(hook)
    assert entry == HookEntry(
        "h00k", "!r:example.org", "alerts", True, "s3cret", True, 1893456000.0
    )
    assert decode_entry("h00k", encode_entry(entry)) == entry
    limited = entry_for(_hook(rateLimit={"perSecond": 2}))
    assert limited.rate_limit == RateLimit(2, 0)
    assert decode_entry("h00k", encode_entry(limited)) == limited
    assert not entry.expired(now=1893455999.0) and entry.expired(now=1893456000.0)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"room": 1, "key": "k"}',
        '{"room": "!r", "key": "k", "secret": 5}',
        '{"room": "!r", "key": "k", "wait": "yes"}',
        '{"room": "!r", "key": "k", "expires": true}',
        '{"room": "!r", "key": "k", "rate": {"perSecond": -1}}',
        '{"key": "k"}',
    ],
)
def test_malformed_directory_entries_are_unknown_hooks(text: str) -> None:
    assert decode_entry("h00k", text) is None


def test_news_round_trips_and_hostile_news_is_dropped() -> None:
    outcome = Outcome(ok=True, event_id="$e", response={"body": "hi", "statusCode": 201})
    assert decode_outcome(encode_outcome("generic:1", outcome)) == ("generic:1", outcome)
    for bad in ("", "{}", '{"job": 1, "ok": true}', '{"job": "j", "ok": "yes"}', "[1]"):
        assert decode_outcome(bad) is None
    assert decode_sent('{"room_id": "!r", "discussions": ["d1"], "event": "$e"}') == (
        {"room_id": "!r", "discussions": ["d1"]},
        "$e",
    )
    for bad in ("nope", '{"room_id": "!r", "event": "$e"}', '{"discussions": [], "event": 1}'):
        assert decode_sent(bad) is None


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)


async def _true(value: bool) -> bool:
    return value


async def _finds(directory: RedisHookDirectory, entry: HookEntry | None) -> bool:
    try:
        return await directory.find("h00k") == entry
    except DirectoryUnavailable:
        return False


@dataclass
class _Directory:
    """A bridge's side (its store and the publisher writing it to Redis) and a webhooks
    process's side (the directory reading Redis)."""

    store: ConnectionStore
    publisher: DirectoryPublisher
    directory: RedisHookDirectory


@pytest.fixture
def sides(redis: tuple[Redis, str]) -> _Directory:
    client, prefix = redis
    store = ConnectionStore()
    return _Directory(
        store, DirectoryPublisher(client, prefix, store), RedisHookDirectory(client, prefix)
    )


@contextlib.asynccontextmanager
async def _publishing(publisher: DirectoryPublisher) -> AsyncIterator[None]:
    running = asyncio.create_task(publisher.run())
    try:
        yield
    finally:
        publisher.stop()
        await running


async def test_the_directory_follows_the_store(redis: tuple[Redis, str], sides: _Directory) -> None:
    client, prefix = redis
    store, publisher, directory = sides.store, sides.publisher, sides.directory
    with pytest.raises(DirectoryUnavailable):  # no bridge published yet: not a 404
        await directory.find("h00k")
    hook = _hook()
    store.apply(hook.key, hook)
    async with _publishing(publisher):
        await _until(lambda: _finds(directory, entry_for(hook)))
        assert await directory.find("other") is None
        changed = _hook(waitForComplete=True)
        store.apply(hook.key, changed)
        await _until(lambda: _finds(directory, entry_for(changed)))
        store.drop_room(hook.room_id)
        await _until(lambda: _finds(directory, None))
        # Redis restarted empty: the publisher notices and writes the directory again.
        store.apply(changed.key, changed)
        await client.delete(prefix + "hooks", prefix + "hooks:ready")
        publisher.CHECK_INTERVAL = 0.1
        await _until(lambda: _finds(directory, entry_for(changed)))


async def test_the_directory_follows_a_hook_into_an_upgraded_room(sides: _Directory) -> None:
    """A room upgrade applies the hook (same hookId) in the new room, then drops the old room:
    the webhooks processes must route to the new room, never to neither."""
    store, publisher, directory = sides.store, sides.publisher, sides.directory
    old = _hook()
    store.apply(old.key, old)
    async with _publishing(publisher):
        await _until(lambda: _finds(directory, entry_for(old)))
        moved = from_state(
            "!new:example.org", old.event_type, old.state_key, {"name": "alerts"}, "h00k", "s3cret"
        )
        store.apply(moved.key, moved)
        store.drop_room(old.room_id)
        await _until(lambda: _finds(directory, entry_for(moved)))
        # And the one-process directory (the store itself) agrees.
        assert await StoreLookup(store).find("h00k") == entry_for(moved)


async def test_flush_returns_once_a_rotation_is_in_redis(sides: _Directory) -> None:
    """What `!hookshot webhook rotate` waits for: the old id gone, the new one there."""
    store, publisher, directory = sides.store, sides.publisher, sides.directory
    hook = _hook()
    store.apply(hook.key, hook)
    async with _publishing(publisher):
        assert await publisher.flush()
        assert await directory.find("h00k") == entry_for(hook)
        rotated = from_state(
            hook.room_id, hook.event_type, hook.state_key, {"name": "alerts"}, "n3w"
        )
        store.apply(hook.key, rotated)
        assert await publisher.flush()  # no polling: written when it returns
        assert await directory.find("h00k") is None
        assert await directory.find("n3w") == entry_for(rotated)
        assert await publisher.flush()  # nothing new: at once
    store.apply(hook.key, hook)
    assert not await publisher.flush(timeout=0.05)  # not running: says so, does not hang


async def test_a_webhooks_process_keeps_what_it_read_for_a_moment(
    redis: tuple[Redis, str],
) -> None:
    """Entries and misses are kept for CACHE_TTL (no Redis read per request), an unpublished
    directory is not, and the cache stays bounded whatever ids a flood makes up."""
    client, prefix = redis
    now = [100.0]
    directory = RedisHookDirectory(client, prefix, clock=lambda: now[0])
    with pytest.raises(DirectoryUnavailable):
        await directory.find("h00k")
    hook = _hook()
    store = ConnectionStore()
    store.apply(hook.key, hook)
    publisher = DirectoryPublisher(client, prefix, store)
    await publisher.publish_all()
    assert await directory.find("h00k") == entry_for(hook)  # the miss above was not kept
    assert await directory.find("nope") is None
    await client.delete(prefix + "hooks")  # Redis changes under the cache...
    await client.hset(prefix + "hooks", "nope", encode_entry(entry_for(hook)))
    assert await directory.find("h00k") == entry_for(hook)  # ...which still answers
    assert await directory.find("nope") is None
    now[0] += CACHE_TTL
    assert await directory.find("h00k") is None  # read again once it is stale
    assert await directory.find("nope") is not None
    for n in range(CACHE_SIZE + 10):
        await directory.find(f"made-up-{n}")
    assert len(directory._cache) == CACHE_SIZE


async def test_flush_waits_out_the_webhooks_caches(sides: _Directory) -> None:
    """A webhooks process that read a hook just before its rotation was written answers 404
    for the old id by the time `flush` returns (the real clock here)."""
    store, publisher, directory = sides.store, sides.publisher, sides.directory
    hook = _hook()
    store.apply(hook.key, hook)
    async with _publishing(publisher):
        assert await publisher.flush()
        assert await directory.find("h00k") == entry_for(hook)  # now in its cache
        rotated = from_state(
            hook.room_id, hook.event_type, hook.state_key, {"name": "alerts"}, "n3w"
        )
        store.apply(hook.key, rotated)
        assert await publisher.flush()
        assert await directory.find("h00k") is None


async def test_outcomes_reach_a_waiter_in_another_process(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    deciding, waiting = OutcomeBus(client, prefix), OutcomeBus(client, prefix)
    decided, here = Completions(), Completions()
    decided.forward_to(deciding.publish_outcome)
    roots: list[tuple[dict[str, object], str]] = []
    tasks = [
        asyncio.create_task(deciding.run_publisher()),
        asyncio.create_task(waiting.run_subscriber(here, lambda p, e: roots.append((p, e)))),
    ]
    try:
        await asyncio.sleep(0.2)  # subscribed
        future = here.expect("generic:7")
        unwaited = here.expect("generic:8")
        # Only outcomes a request waits for are published.
        decided.resolve("generic:8", Outcome(ok=True, event_id="$quiet"))
        decided.resolve("generic:7", Outcome(ok=True, event_id="$sent"), announce=True)
        deciding.publish_sent({"room_id": "!r", "discussions": ["d"], "content": {}}, "$root")
        deciding.publish_sent({"room_id": "!r", "content": {}}, "$plain")  # not news
        async with asyncio.timeout(5):
            assert await future == Outcome(ok=True, event_id="$sent")
        await _until(lambda: _true(bool(roots)))
        assert roots == [({"room_id": "!r", "discussions": ["d"]}, "$root")]
        assert not unwaited.done()
    finally:
        deciding.stop()
        waiting.stop()
        await asyncio.gather(*tasks)


async def test_the_delivery_log_is_shared_through_redis(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    intake, sender = RedisDeliveryLog(client, prefix, per_hook=3), RedisDeliveryLog(client, prefix)
    tasks = [asyncio.create_task(intake.run()), asyncio.create_task(sender.run())]
    try:
        intake.record("h", "POST", 401, 10, "refused: Missing or invalid secret", None)
        for n in range(3):
            intake.record("h", "POST", 202, 20 + n, "queued", f"generic:job{n}")

        async def recorded() -> bool:
            return len(await sender.entries("h")) == 3

        await _until(recorded)
        sender.settle("github:1", "sent $x")  # no entry: creates nothing
        sender.settle("generic:gone", "sent $y")  # trimmed or never recorded: nothing either
        sender.note("generic:job2", "transformation failed: boom")
        sender.settle("generic:job2", "sent $e")

        async def settled() -> bool:
            return (await sender.entries("h"))[-1].result == "sent $e"

        await _until(settled)
        entries = await sender.entries("h")
        assert [(e.status, e.size, e.result, e.notes) for e in entries] == [
            (202, 20, "queued", []),
            (202, 21, "queued", []),
            (202, 22, "sent $e", ["transformation failed: boom"]),
        ]  # oldest first, trimmed to 3
        assert not await client.exists(f"{prefix}deliveries:e:github:1")
        assert not await client.exists(f"{prefix}deliveries:e:generic:gone")
        # Redis restarted and forgot its scripts: the next record loads it again.
        await client.script_flush()
        intake.record("h", "POST", 202, 99, "queued", "generic:after-flush")

        async def reloaded() -> bool:
            return (await sender.entries("h"))[-1].size == 99

        await _until(reloaded)
        assert await client.ttl(f"{prefix}deliveries:h:h") > 0  # and it still expires
        assert await client.ttl(f"{prefix}deliveries:e:generic:after-flush") > 0
    finally:
        intake.stop()
        sender.stop()
        await asyncio.gather(*tasks)


async def test_widget_sessions_live_in_redis(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    now = [1000.0]
    store = RedisSessionStore(client, prefix, clock=lambda: now[0])
    a = await store.create("@a:example.org", 60)
    b = await store.create("@a:example.org", 60)
    other = await store.create("@b:example.org", 60)
    assert await RedisSessionStore(client, prefix).get(a.token) == a  # another process
    assert await client.ttl(f"{prefix}sessions:t:{a.token}") > 60
    await store.delete(a.token)
    assert await store.get(a.token) is None
    await store.delete_all("@a:example.org")
    assert await store.get(b.token) is None
    assert await store.get(other.token) == other
    assert await store.get("hookshot_" + "0" * 32) is None


async def test_buffered_writes_wait_out_an_unreachable_redis() -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    buffer = WriteBuffer(down, "test", limit=3)
    for n in range(5):
        buffer.post(lambda pipe, n=n: pipe.set(f"k{n}", n))
    assert buffer.dropped == 2
    running = asyncio.create_task(buffer.run())
    await asyncio.sleep(0.5)
    assert not running.done()  # still trying; the caller never saw an error
    buffer.stop()
    async with asyncio.timeout(5):
        await running
    await down.aclose()


async def test_one_bridge_holds_the_lock_and_a_standby_takes_over(
    redis: tuple[Redis, str],
) -> None:
    client, prefix = redis
    key = prefix + "bridge:lock"
    first = BridgeLock(client, prefix, "first", lease=0.6)
    second = BridgeLock(client, prefix, "second", lease=0.6)
    await first.acquire()
    lost: list[str] = []
    keeping = asyncio.create_task(first.keep(lost.append))
    await asyncio.sleep(0.9)  # longer than the lease: renewals keep it
    assert await client.get(key) == "first"
    # Redis restarted empty: the holder takes its lock again.
    await client.delete(key)
    await asyncio.sleep(0.5)
    assert await client.get(key) == "first"
    standby = asyncio.create_task(second.acquire())
    await asyncio.sleep(0.9)
    assert not standby.done()  # stands by while the first one holds it
    await first.release()
    await keeping
    async with asyncio.timeout(3):
        await standby  # released: the standby holds it now
    assert await client.get(key) == "second" and lost == []
    # A holder whose lock was taken stops (it would route on a stale picture).
    async with asyncio.timeout(3):
        await BridgeLock(client, prefix, "first", lease=0.6).keep(lost.append)
    assert lost == ["another bridge process took the bridge lock"]
    await second.release()
    assert await client.get(key) is None
