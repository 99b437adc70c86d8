"""The scale-out queue: `Queue` and `SeenStore` on Redis, shared by several processes.

Layout, under a key prefix P (default `hookshot:`) and per topic T:

    P{T}:tickets          stream + consumer group `hookshot`: one entry ("ticket") per job that
                          may run now; a consumer's pending entries (PEL) are its jobs in flight
    P{T}:jobs             hash id -> {"p": partition, "e": enqueued_at, "d": payload, "g": group
                          if any} (JSON) of every job not yet acked or failed (pending, delayed
                          or in flight)
    P{T}:tries            hash id -> attempts (earlier `retry` calls), absent for 0
    P{T}:lane:{partition} list of the partition's unfinished job ids in push order; its head is
                          the one job of the partition that has a ticket or waits in `delayed`
    P{T}:group:{n:g:p}    list of the unsettled job ids of group g in partition p (n = len(g)),
                          in push order; its length is the group's size (digests)
    P{T}:bundle:{id}      list of the job ids bundled under job `id` (`take_group`), settled with it
    P{T}:delayed          sorted set id -> ready_at of retried jobs waiting for their time
    P{T}:wake             stream of one entry, bumped by `retry` to wake every waiting `take`
    P{T}:done:{id}        dedupe-window expiry of an acked/failed id (Redis TTL = the window)
    P{T}:failed           sorted set of failed-job records by failed_at (kept for the retention)
    Pseen:{key}           `SeenStore` key: its expiry time (Redis TTL = its ttl)
    Pkv:{key}             `ValueStore` value (Redis TTL = its ttl)

Ordering and leases: a partition gets a ticket only when its lane was empty (push) or its head
finished (ack/fail), so at most one job per partition is ever ticketed, delayed or in flight,
across all processes. `take` reads tickets with XREADGROUP; while a job is in flight its
consumer renews the entry's idle time (XCLAIM to itself) every lease/3. A consumer that dies
stops renewing: after `lease` seconds another consumer's XAUTOCLAIM takes the entry over, so the
dead consumer's job is redelivered before anything behind it in its partition, which stays
held all along. Every settle first checks that this consumer still holds the entry, so a
consumer that lost its lease gets `NotInFlight` instead of acking someone else's delivery.
Each operation is one Lua script (atomic: ack + follow-ups, push all-or-nothing); the scripts
of concurrent callers share one pipelined round trip, in call order, and adjacent pushes to
one topic in it are one push call (all-or-nothing together: an error fails each of them).

Clocks: dedupe, retry and failure times use the injected client clock (so tests can move it);
leases use Redis' own idle times. Redis TTLs only garbage-collect expired keys.

Durability: a call returns once Redis has applied its script, so what Redis keeps is what the
queue keeps. With `appendonly yes` + `appendfsync everysec` (the usual setting) a power loss or
OS crash of the Redis host loses the last second (up to two on a slow disk) of acknowledged
pushes and acks: a webhook answered 2xx in that window is gone, an ack is undone (its job runs
again). A crash of the Redis *process* alone normally loses nothing, as Redis writes the AOF
before it replies. `appendfsync always` closes the window at a cost per write; without AOF
(logged as a warning at open) a restart loses everything since the last RDB snapshot.
Replication is asynchronous: a Sentinel failover loses what had not reached the replica.
Standalone Redis or Sentinel only: the scripts build key names, which Redis Cluster forbids.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar, cast
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.maint_notifications import MaintNotificationsConfig

from hookshot.core.queue.base import (
    DEDUPE_WINDOW,
    FAILED_RETENTION,
    FailedJob,
    GroupInfo,
    Job,
    NewJob,
    NotInFlight,
    QueueClosed,
    QueueError,
)
from hookshot.core.queue.index import Clock
from hookshot.core.queue.memory import decode, encode
from hookshot.core.queue.redis_writer import Arg, ScriptWriter

logger = logging.getLogger(__name__)

T = TypeVar("T")

GROUP: Final = "hookshot"  # the one consumer group of every tickets stream
DEFAULT_PREFIX: Final = "hookshot:"
DEFAULT_LEASE: Final = 30.0

# Key suffixes after P{T}, shared by the Python side and the generated Lua key functions.
_KEYS: Final = {
    "tickets": ":tickets",
    "wake": ":wake",
    "jobs": ":jobs",
    "tries": ":tries",
    "delayed": ":delayed",
    "failed": ":failed",
    "lane": ":lane:",
    "done": ":done:",
    "group": ":group:",
    "bundle": ":bundle:",
}
_SEEN: Final = "seen:"
_KV: Final = "kv:"

_BACKOFF: Final = 0.5  # seconds a `take` waits after Redis could not be reached
_IO_TIMEOUT: Final = 30.0  # seconds without a reply before a call fails: a hung Redis hangs no one
_TRANSIENT: Final = (RedisConnectionError, RedisTimeoutError)

# Topic scripts get ARGV[1..4] = prefix, group, consumer, topic; the rest is per script.
_PREAMBLE: Final = (
    "local P, GROUP, ME = ARGV[1], ARGV[2], ARGV[3]\n"
    + "".join(
        f"local function {name}(t, x) return P .. t .. '{suffix}' .. (x or '') end\n"
        for name, suffix in _KEYS.items()
    )
    + """
-- Whether this consumer still holds the ticket entry `eid` (its lease was not taken over).
local function holds(t, eid)
  return #redis.call('XPENDING', tickets(t), GROUP, eid, eid, 1, ME) == 1
end

local function drop_ticket(t, eid)
  redis.call('XACK', tickets(t), GROUP, eid)
  redis.call('XDEL', tickets(t), eid)
end

-- The group list's name part: length-prefixed, so no group and partition pair reads as another.
local function gkey(p, g) return #g .. ':' .. g .. ':' .. p end

-- Stores the (id, partition, group, record) quads at ARGV[first..]; 1 per stored job, 0 per
-- id already pending, in flight or done within the window (or earlier in this batch).
local function push(t, now, first, n)
  local out, fresh = {}, {}
  for j = 0, n - 1 do
    local at = first + 4 * j
    local id, p, g = ARGV[at], ARGV[at + 1], ARGV[at + 2]
    local ok = not fresh[id] and redis.call('HEXISTS', jobs(t), id) == 0
    if ok then
      local expiry = redis.call('GET', done(t, id))
      ok = not expiry or tonumber(expiry) <= now
    end
    if ok then
      fresh[id] = true
      redis.call('HSET', jobs(t), id, ARGV[at + 3])
      if p ~= '' and g ~= '' then redis.call('RPUSH', group(t, gkey(p, g)), id) end
      -- A partition gets a ticket only if nothing of it was queued already.
      if p == '' or redis.call('RPUSH', lane(t, p), id) == 1 then
        redis.call('XADD', tickets(t), '*', 'id', id)
      end
    end
    out[j + 1] = ok and 1 or 0
  end
  return out
end

local function forget(t, id, expiry, window_ms)
  redis.call('HDEL', jobs(t), id)
  redis.call('HDEL', tries(t), id)
  redis.call('SET', done(t, id), expiry, 'PX', window_ms)
end

-- Forgets a finished job and its bundle, remembers their ids for the window and unblocks
-- the partition.
local function finish(t, id, p, g, expiry, window_ms)
  forget(t, id, expiry, window_ms)
  if p ~= '' and g ~= '' then
    local gk = group(t, gkey(p, g))
    redis.call('LREM', gk, 1, id)
    for _, m in ipairs(redis.call('LRANGE', bundle(t, id), 0, -1)) do
      forget(t, m, expiry, window_ms)
      redis.call('LREM', gk, 1, m)
      redis.call('LREM', lane(t, p), 1, m)
    end
    redis.call('DEL', bundle(t, id))
  end
  if p ~= '' then
    local head = redis.call('LINDEX', lane(t, p), 0)
    redis.call('LREM', lane(t, p), 1, id)
    local nxt = redis.call('LINDEX', lane(t, p), 0)
    if head == id and nxt then
      redis.call('XADD', tickets(t), '*', 'id', nxt)
    end
  end
end

local function last_id(key)
  local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  return last and last[1] or '0-0'
end
"""
)

_SCRIPTS: Final = {
    # ARGV[5..] = now, then (id, partition, group, record) quads.
    "push": "return push(ARGV[4], tonumber(ARGV[5]), 6, (#ARGV - 5) / 4)",
    # ARGV[5..] = now, limit, claim idle ms (0: no claim), recover own history (1/0).
    # Returns {flat (entry, id, record, attempts), next ready_at, last ticket, last wake,
    # claimed, dropped}.
    "take": """
local t, now, limit, idle = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
redis.pcall('XGROUP', 'CREATE', tickets(t), GROUP, '0', 'MKSTREAM')
local due = redis.call('ZRANGEBYSCORE', delayed(t), '-inf', now, 'LIMIT', 0, 500)
for _, id in ipairs(due) do
  redis.call('XADD', tickets(t), '*', 'id', id)
end
if #due > 0 then redis.call('ZREM', delayed(t), unpack(due)) end

local got = {}
local function collect(entries)
  for _, e in ipairs(entries) do got[#got + 1] = e end
end
if ARGV[8] == '1' then
  -- Entries delivered to this consumer name before (a restart under a stable name).
  collect(redis.call('XREADGROUP', 'GROUP', GROUP, ME, 'STREAMS', tickets(t), '0')[1][2])
end
local claimed = 0
if idle > 0 then
  local r = redis.call('XAUTOCLAIM', tickets(t), GROUP, ME, idle, '0-0', 'COUNT', limit)
  claimed = #r[2]
  collect(r[2])
  -- Forget long-gone consumers that hold nothing (each process start adds one).
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', tickets(t), GROUP)) do
    local info = {}
    for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
    if info['pending'] == 0 and info['idle'] > idle * 100 then
      redis.call('XGROUP', 'DELCONSUMER', tickets(t), GROUP, info['name'])
    end
  end
end
if #got < limit then
  local r = redis.call('XREADGROUP', 'GROUP', GROUP, ME, 'COUNT', limit - #got,
    'STREAMS', tickets(t), '>')
  if r then collect(r[1][2]) end
end

local out, dropped = {}, 0
for _, e in ipairs(got) do
  local id = e[2] and e[2][2]
  local record = id and redis.call('HGET', jobs(t), id)
  if record then
    out[#out + 1] = e[1]
    out[#out + 1] = id
    out[#out + 1] = record
    out[#out + 1] = redis.call('HGET', tries(t), id) or '0'
  else
    -- A ticket whose job is gone (deleted by hand?) would block its partition forever.
    drop_ticket(t, e[1])
    dropped = dropped + 1
  end
end
local nxt = redis.call('ZRANGE', delayed(t), 0, 0, 'WITHSCORES')[2] or ''
return {out, nxt, last_id(tickets(t)), last_id(wake(t)), claimed, dropped}
""",
    # ARGV[5..] = entry, id, partition, now, done expiry, window ms, group, then follow-ups:
    # topic count, and per topic: topic, job count, (id, partition, group, record) quads.
    "ack": """
local t, eid, id = ARGV[4], ARGV[5], ARGV[6]
if not holds(t, eid) then return 0 end
drop_ticket(t, eid)
finish(t, id, ARGV[7], ARGV[11], ARGV[9], ARGV[10])
local now, i = tonumber(ARGV[8]), 13
for _ = 1, tonumber(ARGV[12]) do
  local n = tonumber(ARGV[i + 1])
  push(ARGV[i], now, i + 2, n)
  i = i + 2 + 4 * n
end
return 1
""",
    # ARGV[5..] = entry, id, ready_at, attempts.
    "retry": """
local t, eid, id = ARGV[4], ARGV[5], ARGV[6]
if not holds(t, eid) then return 0 end
drop_ticket(t, eid)
redis.call('HSET', tries(t), id, ARGV[8])
redis.call('ZADD', delayed(t), ARGV[7], id)
redis.call('XADD', wake(t), 'MAXLEN', 1, '*', 'at', ARGV[7])
return 1
""",
    # ARGV[5..] = entry, id, partition, done expiry, window ms, failed_at, retention cutoff,
    # record head (JSON [id, failed_at, error, attempts]), retention ms, group, error.
    "fail": """
local t, eid, id = ARGV[4], ARGV[5], ARGV[6]
if not holds(t, eid) then return 0 end
local record = redis.call('HGET', jobs(t), id)
drop_ticket(t, eid)
if record then
  redis.call('ZADD', failed(t), ARGV[10], '[' .. ARGV[12] .. ',' .. record .. ']')
end
for _, m in ipairs(redis.call('LRANGE', bundle(t, id), 0, -1)) do
  local r = redis.call('HGET', jobs(t), m)
  if r then
    local tried = tonumber(redis.call('HGET', tries(t), m) or '0')
    local head = cjson.encode({m, tonumber(ARGV[10]), ARGV[15], tried})
    redis.call('ZADD', failed(t), ARGV[10], '[' .. head .. ',' .. r .. ']')
  end
end
redis.call('ZREMRANGEBYSCORE', failed(t), '-inf', '(' .. ARGV[11])
redis.call('PEXPIRE', failed(t), ARGV[13])
finish(t, id, ARGV[7], ARGV[14], ARGV[8], ARGV[9])
return 1
""",
    # ARGV[5..] = entry, id, partition, group. Returns {size, bundled}; size -1: not held.
    "group_info": """
local t, id, p, g = ARGV[4], ARGV[6], ARGV[7], ARGV[8]
if not holds(t, ARGV[5]) then return {-1, 0} end
local size = 0
if p ~= '' and g ~= '' then size = redis.call('LLEN', group(t, gkey(p, g))) end
return {size, redis.call('EXISTS', bundle(t, id))}
""",
    # ARGV[5..] = entry, id, partition, group, more than, limit. Returns {held (1/0), flat
    # (id, record, attempts) of the bundle's members}.
    "take_group": """
local t, id, p, g = ARGV[4], ARGV[6], ARGV[7], ARGV[8]
if not holds(t, ARGV[5]) then return {0, {}} end
local members = redis.call('LRANGE', bundle(t, id), 0, -1)
if #members == 0 and p ~= '' and g ~= '' then
  local gk, limit = group(t, gkey(p, g)), tonumber(ARGV[10])
  if limit > 1 and redis.call('LLEN', gk) > tonumber(ARGV[9]) then
    -- The rest of the group is pending behind this job, which holds the partition.
    for _, m in ipairs(redis.call('LRANGE', gk, 0, limit - 1)) do
      if m ~= id and #members < limit - 1 then members[#members + 1] = m end
    end
    if #members > 0 then redis.call('RPUSH', bundle(t, id), unpack(members)) end
  end
end
local out = {}
for _, m in ipairs(members) do
  local record = redis.call('HGET', jobs(t), m)
  if record then
    out[#out + 1] = m
    out[#out + 1] = record
    out[#out + 1] = redis.call('HGET', tries(t), m) or '0'
  end
end
return {1, out}
""",
    # ARGV[5..] = entries; renews those still held, returns the others (leases lost).
    "renew": """
local t, lost = ARGV[4], {}
for i = 5, #ARGV do
  if holds(t, ARGV[i]) then
    redis.call('XCLAIM', tickets(t), GROUP, ME, 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
""",
    # ARGV[5..] = (entry, id) pairs; gives held jobs new tickets for other consumers now.
    "release": """
local t = ARGV[4]
for i = 5, #ARGV, 2 do
  if holds(t, ARGV[i]) then
    drop_ticket(t, ARGV[i])
    redis.call('XADD', tickets(t), '*', 'id', ARGV[i + 1])
  end
end
return 1
""",
    # ARGV[2..] = now, expiry, ttl ms, keys (ARGV[1] is the prefix; no topic).
    "add_new": """
local now, out = tonumber(ARGV[2]), {}
for i = 5, #ARGV do
  local key = P .. '"""
    + _SEEN
    + """' .. ARGV[i]
  local expiry = redis.call('GET', key)
  if expiry and tonumber(expiry) > now then
    out[#out + 1] = 0
  else
    redis.call('SET', key, ARGV[3], 'PX', ARGV[4])
    out[#out + 1] = 1
  end
end
return out
""",
}


def _ms(seconds: float) -> int:
    """Whole milliseconds, at least 1 (Redis reads 0 as "forever" or refuses it)."""
    return max(1, math.ceil(seconds * 1000))


def _utf8(text: str) -> bytes:
    # Encoded here so a lone surrogate fails its own call, not the shared pipeline.
    return text.encode("utf-8")


def _redact(url: str) -> str:
    """`url` without credentials, for messages."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()


def _job(topic: str, job_id: str, record: str, attempts: str | int) -> Job:
    """A job from its stored record."""
    data = decode(record)
    group = str(data.get("g", ""))
    return Job(topic, job_id, data["p"], data["d"], int(attempts), data["e"], group)


async def _load_scripts(redis: Redis) -> dict[str, str]:
    return {name: await redis.script_load(_PREAMBLE + body) for name, body in _SCRIPTS.items()}


@dataclass(slots=True)
class _Flight:
    """A job delivered to this consumer: the ticket entry it holds and the job handed out."""

    entry: str
    job: Job
    settling: bool = False
    renewed: bool = True  # False after a settle whose reply was lost: let the lease run out


@dataclass(slots=True)
class _Taken:
    """What one `take` script call saw besides the jobs: when and where to wait next."""

    next_ready: float | None
    last_ticket: str
    last_wake: str
    dropped: int  # tickets without a job, removed: look again at once


@dataclass(slots=True)
class _TopicState:
    received: list[Job] = field(default_factory=list)  # delivered here, not yet handed out
    recovered: bool = False  # own history read once since open
    next_claim: float = 0.0  # loop time of the next XAUTOCLAIM


class RedisQueue:
    """`Queue` and `SeenStore` on Redis for several processes; create with
    `await RedisQueue.open(url, prefix=..., consumer=...)`."""

    def __init__(
        self,
        redis: Redis,
        shas: dict[str, str],
        *,
        prefix: str,
        consumer: str,
        lease: float,
        dedupe_window: float,
        failed_retention: float,
        clock: Clock,
    ) -> None:
        self._redis = redis
        self._shas = shas  # shared with the writer, which reloads them after a Redis restart
        self._writer = ScriptWriter(redis, shas, _load_scripts)
        self._prefix = prefix
        self._consumer = consumer
        self._lease = lease
        self._dedupe_window = dedupe_window
        self._failed_retention = failed_retention
        self._clock = clock
        self._closed = False
        self._flights: dict[tuple[str, str], _Flight] = {}
        self._topics: dict[str, _TopicState] = {}
        self._waits: set[asyncio.Future[Any]] = set()
        self._renewer = asyncio.create_task(self._keep_leases(), name="hookshot-redis-leases")

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        consumer: str | None = None,
        lease: float = DEFAULT_LEASE,
        dedupe_window: float = DEDUPE_WINDOW,
        failed_retention: float = FAILED_RETENTION,
        clock: Clock = time.time,
    ) -> RedisQueue:
        """Connect to Redis at `url`. `consumer` names this process in the consumer groups and
        must be unique among live processes (default: host, pid and a random suffix; a stable
        name lets a restarted process take back its own jobs at once instead of after
        `lease`). A job in flight here is handed to another consumer `lease` seconds after
        this process stops renewing it."""
        if lease <= 0:
            raise ValueError("lease must be positive")
        redis = Redis.from_url(
            url,
            decode_responses=True,
            # No automatic resend: a script whose reply was lost may have run already.
            retry=Retry(NoBackoff(), 0),
            # Without this redis-py skips its check for pooled connections the server closed.
            maint_notifications_config=MaintNotificationsConfig(enabled=False),
            socket_connect_timeout=_IO_TIMEOUT,
            socket_timeout=lease / 2 + _IO_TIMEOUT,  # `take` blocks in XREAD for lease/2 at most
        )
        try:
            shas = await _load_scripts(redis)
            persistence: dict[str, Any] = {"aof_enabled": 1}
            with contextlib.suppress(ResponseError):  # INFO may be forbidden to this user
                persistence = await redis.info("persistence")
        except BaseException as exc:
            await redis.aclose()
            if isinstance(exc, RedisError):
                raise QueueError(f"cannot use Redis at {_redact(url)}: {exc}") from exc
            raise
        if not persistence.get("aof_enabled"):
            logger.warning(
                "Redis at %s has no append-only file: a Redis restart loses queued jobs",
                _redact(url),
            )
        name = consumer or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        return cls(
            redis,
            shas,
            prefix=prefix,
            consumer=name,
            lease=lease,
            dedupe_window=dedupe_window,
            failed_retention=failed_retention,
            clock=clock,
        )

    @property
    def consumer(self) -> str:
        """This process's name in the consumer groups."""
        return self._consumer

    @property
    def round_trips(self) -> int:
        """Pipelines sent so far (concurrent calls share one, so this stays below the calls)."""
        return self._writer.round_trips

    @property
    def script_calls(self) -> int:
        """Script calls sent so far (adjacent pushes to one topic in a round trip are one)."""
        return self._writer.script_calls

    def _key(self, topic: str, name: str) -> str:
        return f"{self._prefix}{topic}{_KEYS[name]}"

    def _head(self, topic: str) -> list[Arg]:
        return [self._prefix, GROUP, self._consumer, topic]

    def _topic(self, topic: str) -> _TopicState:
        state = self._topics.get(topic)
        if state is None:
            state = self._topics[topic] = _TopicState()
        return state

    def _check_open(self) -> None:
        if self._closed:
            raise QueueClosed("queue is closed")

    def _submit(
        self,
        script: str,
        args: list[Arg],
        apply: Callable[[Any], T],
        undo: Callable[[], None] | None = None,
    ) -> asyncio.Future[T]:
        self._check_open()
        return self._writer.submit(script, args, apply, undo)

    @staticmethod
    def _quads(jobs: Sequence[NewJob], now: float) -> list[Arg]:
        """Push arguments of `jobs`; raises before anything is sent if one cannot be stored."""
        args: list[Arg] = []
        for job in jobs:
            fields: dict[str, Any] = {"p": job.partition, "e": now, "d": job.payload}
            if job.group:
                fields["g"] = job.group
            record = encode(fields)
            args += [_utf8(job.id), _utf8(job.partition), _utf8(job.group), _utf8(record)]
        return args

    async def push(self, topic: str, jobs: Sequence[NewJob]) -> list[bool]:
        """See `Queue.push`."""
        self._check_open()
        now = self._clock()
        args = [*self._head(topic), now, *self._quads(jobs, now)]
        if not jobs:
            return []
        replies = await self._submit("push", args, list)
        return [bool(r) for r in replies]

    async def take(self, topic: str, limit: int, timeout: float | None = None) -> list[Job]:
        """See `Queue.take`. Redis being unreachable is logged and waited out until
        `timeout`: a consumer loop outlives a Redis restart."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        state = self._topic(topic)
        while True:
            self._check_open()
            if jobs := self._hand_out(topic, state, limit):
                return jobs
            taken: _Taken | None = None
            try:
                taken = await self._deliver(topic, state, limit)
            except _TRANSIENT as err:
                logger.warning("taking %s jobs from Redis failed: %s", topic, err)
            self._check_open()  # jobs delivered while closing are released by `close`
            if jobs := self._hand_out(topic, state, limit):
                return jobs
            if taken is not None and taken.dropped:
                continue
            now = loop.time()
            if deadline is not None and deadline <= now:
                return []
            if taken is None:
                wait = _BACKOFF
            else:
                wait = state.next_claim - now
                if taken.next_ready is not None:
                    wait = min(wait, taken.next_ready - self._clock())
            if deadline is not None:
                wait = min(wait, deadline - now)
            if wait > 0:
                await self._wait(topic, taken, wait)

    def _hand_out(self, topic: str, state: _TopicState, limit: int) -> list[Job]:
        """Up to `limit` received jobs whose lease this consumer still holds."""
        jobs: list[Job] = []
        while state.received and len(jobs) < limit:
            job = state.received.pop(0)
            flight = self._flights.get((topic, job.id))
            if flight is not None and flight.job is job:
                jobs.append(job)
        return jobs

    def _deliver(self, topic: str, state: _TopicState, limit: int) -> asyncio.Future[_Taken]:
        """One take script call; its jobs land in `state.received` even if the caller is
        cancelled meanwhile, so a cancelled take loses nothing."""
        now = asyncio.get_running_loop().time()
        claim = now >= state.next_claim
        if claim:
            state.next_claim = now + self._lease / 2
        recover = not state.recovered
        state.recovered = True
        args = [
            *self._head(topic),
            self._clock(),
            limit,
            _ms(self._lease) if claim else 0,
            int(recover),
        ]

        def apply(reply: list[Any]) -> _Taken:
            flat, next_ready, last_ticket, last_wake, claimed, dropped = reply
            for i in range(0, len(flat), 4):
                entry, job_id, record, attempts = flat[i : i + 4]
                job = _job(topic, job_id, record, attempts)
                self._flights[(topic, job_id)] = _Flight(entry, job)
                state.received.append(job)
            if claim and claimed >= limit:
                state.next_claim = 0.0  # a full batch: more may be waiting to be claimed
            ready = float(next_ready) if next_ready else None
            return _Taken(ready, last_ticket, last_wake, dropped)

        def undo() -> None:
            if recover:
                state.recovered = False  # the reply is lost: read the history again

        return self._submit("take", args, apply, undo)

    async def _wait(self, topic: str, taken: _Taken | None, seconds: float) -> None:
        """Sleep until a ticket or a retry is added to `topic`, `seconds` pass or we close."""
        if taken is None:
            waiting: asyncio.Future[Any] = asyncio.ensure_future(asyncio.sleep(seconds))
        else:
            streams = {
                self._key(topic, "tickets"): taken.last_ticket,
                self._key(topic, "wake"): taken.last_wake,
            }
            # XREAD delivers nothing, so cancelling it (close, caller) cannot lose a job.
            waiting = asyncio.ensure_future(
                self._redis.xread(cast(Any, streams), count=1, block=_ms(seconds))
            )
        self._waits.add(waiting)
        waiting.add_done_callback(self._waits.discard)  # kept until done, so close awaits it
        try:
            await asyncio.wait({waiting})
        finally:
            waiting.cancel()
        if not waiting.cancelled() and (err := waiting.exception()) is not None:
            if not isinstance(err, _TRANSIENT):
                raise err
            logger.warning("waiting for %s jobs in Redis failed: %s", topic, err)
            await asyncio.sleep(min(seconds, _BACKOFF))

    def _claim(self, job: Job) -> _Flight:
        self._check_open()
        flight = self._flights.get((job.topic, job.id))
        if flight is None or flight.settling or flight.job.attempts != job.attempts:
            raise NotInFlight(f"job {job.topic}/{job.id} is not in flight")
        flight.settling = True
        return flight

    def _settled(self, job: Job, flight: _Flight) -> Callable[[int], None]:
        """`apply` of a settle: forget the flight; a lost lease makes it NotInFlight."""

        def apply(held: int) -> None:
            if self._flights.get((job.topic, job.id)) is flight:
                del self._flights[(job.topic, job.id)]
            if not held:
                raise NotInFlight(f"job {job.topic}/{job.id} was taken over (lease expired)")

        return apply

    def _unclaim(self, flight: _Flight) -> Callable[[], None]:
        def undo() -> None:
            # The caller may settle again; if it does not, the job goes to another consumer.
            flight.settling = flight.renewed = False

        return undo

    async def ack(self, job: Job, follow_ups: Mapping[str, Sequence[NewJob]] | None = None) -> None:
        """See `Queue.ack`."""
        self._check_open()
        now = self._clock()
        tail: list[Arg] = [_utf8(job.group), len(follow_ups or {})]
        for topic, jobs in (follow_ups or {}).items():
            tail += [topic, len(jobs), *self._quads(jobs, now)]
        flight = self._claim(job)
        args = [
            *self._head(job.topic),
            flight.entry,
            _utf8(job.id),
            _utf8(job.partition),
            now,
            now + self._dedupe_window,
            _ms(self._dedupe_window),
            *tail,
        ]
        await self._submit("ack", args, self._settled(job, flight), self._unclaim(flight))

    async def retry(self, job: Job, delay: float, error: str) -> None:
        """See `Queue.retry`."""
        flight = self._claim(job)
        ready_at = self._clock() + max(delay, 0.0)
        args = [*self._head(job.topic), flight.entry, _utf8(job.id), ready_at, job.attempts + 1]
        await self._submit("retry", args, self._settled(job, flight), self._unclaim(flight))

    async def fail(self, job: Job, error: str) -> None:
        """See `Queue.fail`."""
        flight = self._claim(job)
        now = self._clock()
        args = [
            *self._head(job.topic),
            flight.entry,
            _utf8(job.id),
            _utf8(job.partition),
            now + self._dedupe_window,
            _ms(self._dedupe_window),
            now,
            now - self._failed_retention,
            json.dumps([job.id, now, error, job.attempts]),  # ASCII: no text can fail it
            _ms(self._failed_retention),
            _utf8(job.group),
            error.encode("utf-8", "backslashreplace"),  # for the bundle's records (cjson)
        ]
        await self._submit("fail", args, self._settled(job, flight), self._unclaim(flight))

    async def failed(self, topic: str, limit: int = 100) -> list[FailedJob]:
        """See `Queue.failed`."""
        self._check_open()
        after = self._clock() - self._failed_retention
        members = await self._redis.zrevrangebyscore(
            self._key(topic, "failed"), "+inf", f"({after!r}", start=0, num=limit
        )
        records = []
        for member in members:
            (job_id, failed_at, error, attempts), data = json.loads(cast(str, member))
            job = FailedJob(
                topic, job_id, data["p"], data["d"], attempts, data["e"], failed_at, error
            )
            records.append(job)
        return records

    async def depth(self, topic: str) -> int:
        """See `Queue.depth`."""
        self._check_open()
        return await self._redis.hlen(self._key(topic, "jobs"))

    def _held(self, job: Job) -> list[Arg]:
        """The group scripts' arguments for in-flight `job`; NotInFlight if it is not."""
        self._check_open()
        flight = self._flights.get((job.topic, job.id))
        if flight is None or flight.settling or flight.job.attempts != job.attempts:
            raise NotInFlight(f"job {job.topic}/{job.id} is not in flight")
        ids = [_utf8(job.id), _utf8(job.partition), _utf8(job.group)]
        return [*self._head(job.topic), flight.entry, *ids]

    async def group_info(self, job: Job) -> GroupInfo:
        """See `Queue.group_info`."""

        def apply(reply: list[int]) -> GroupInfo:
            if reply[0] < 0:
                raise NotInFlight(f"job {job.topic}/{job.id} was taken over (lease expired)")
            return GroupInfo(int(reply[0]), bool(reply[1]))

        return await self._submit("group_info", self._held(job), apply)

    async def take_group(self, job: Job, more_than: int, limit: int) -> list[Job]:
        """See `Queue.take_group`."""

        def apply(reply: list[Any]) -> list[Job]:
            held, flat = reply
            if not held:
                raise NotInFlight(f"job {job.topic}/{job.id} was taken over (lease expired)")
            return [_job(job.topic, *flat[i : i + 3]) for i in range(0, len(flat), 3)]

        args = [*self._held(job), more_than, limit]
        return await self._submit("take_group", args, apply)

    async def add_new(self, keys: Sequence[str], ttl: float) -> list[bool]:
        """See `SeenStore.add_new`."""
        self._check_open()
        now = self._clock()
        args: list[Arg] = [self._prefix, now, now + ttl, _ms(ttl), *map(_utf8, keys)]
        if not keys:
            return []
        replies = await self._submit("add_new", args, list)
        return [bool(r) for r in replies]

    async def get_value(self, key: str) -> str | None:
        """See `ValueStore.get_value`."""
        self._check_open()
        value = await self._redis.get(self._prefix + _KV + key)
        return None if value is None else str(value)  # the client decodes replies

    async def set_value(self, key: str, value: str, ttl: float) -> None:
        """See `ValueStore.set_value`."""
        self._check_open()
        await self._redis.set(self._prefix + _KV + key, value, px=_ms(ttl))

    async def _keep_leases(self) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                await self._renew()
            except QueueClosed:
                return
            except Exception as exc:
                logger.warning("renewing Redis queue leases failed: %s", exc)

    async def _renew(self) -> None:
        """Reset the idle time of every entry held here; forget those taken over."""
        by_topic: dict[str, list[Arg]] = {}
        for (topic, _), flight in self._flights.items():
            if flight.renewed:
                by_topic.setdefault(topic, []).append(flight.entry)
        for topic, entries in by_topic.items():

            def apply(lost: list[str], topic: str = topic) -> None:
                gone = set(lost)
                for key, flight in list(self._flights.items()):
                    if key[0] == topic and flight.entry in gone:
                        logger.warning("lease of job %s/%s expired: redelivered", *key)
                        del self._flights[key]

            await self._submit("renew", [*self._head(topic), *entries], apply)

    async def close(self) -> None:
        """See `Queue.close`; jobs in flight here are handed back for other consumers at once."""
        if self._closed:
            return
        self._closed = True
        for waiting in list(self._waits):
            waiting.cancel()
        self._renewer.cancel()
        await asyncio.gather(self._renewer, *self._waits, return_exceptions=True)
        await self._writer.stop()
        by_topic: dict[str, list[Arg]] = {}
        for (topic, job_id), flight in self._flights.items():
            by_topic.setdefault(topic, []).extend([flight.entry, _utf8(job_id)])
        self._flights.clear()
        with contextlib.suppress(RedisError):  # unreleased leases just expire
            for topic, pairs in by_topic.items():
                await self._redis.evalsha(self._shas["release"], 0, *self._head(topic), *pairs)
        await self._redis.aclose()
