"""The delivery log in Redis, shared by every process (the `webhooks` process records a
request, the `bridge` notes a transformation error, the `sender` settles it) and kept across
restarts for `RETENTION`.

Keys, under the prefix P:
    P deliveries:h:{hookId}  list of entry ids, newest first, trimmed to `per_hook`
    P deliveries:e:{id}      hash at/method/status/size/result of one request
    P deliveries:n:{id}      list of notes

Writes go through a `redis_buffer.WriteBuffer`, so logging never slows or fails a delivery.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from hookshot import wire
from hookshot.ops.delivery_log import Delivery
from hookshot.ops.redis_buffer import WriteBuffer
from hookshot.services.generic.intake import JOB_PREFIX

log = logging.getLogger(__name__)

RETENTION = 7 * 24 * 3600
# A posted record: hook id, then its entry's id, at, method, status, size and result.
_Record = tuple[str, str, str, str, int, int, str]
# Only an entry that exists is settled: a settle for an entry trimmed away must not create a
# stray hash.
_SETTLE = (
    "if redis.call('exists', KEYS[1]) == 1 then redis.call('hset', KEYS[1], 'result', ARGV[1]) end"
)
# Requests' entries and their places in their hooks' lists: one command for all the records
# of a write batch, as packing a command per request was most of a webhooks process's
# delivery-log cost. KEYS: per record, its entry hash and its hook list. ARGV: per_hook,
# retention, then per record: entry id, at, method, status, size, result.
_RECORD = """
local last, ttl = tonumber(ARGV[1]) - 1, ARGV[2]
for r = 0, #KEYS / 2 - 1 do
  local entry, hook, a = KEYS[2 * r + 1], KEYS[2 * r + 2], 3 + 6 * r
  redis.call('hset', entry, 'at', ARGV[a + 1], 'method', ARGV[a + 2], 'status', ARGV[a + 3],
             'size', ARGV[a + 4], 'result', ARGV[a + 5])
  redis.call('expire', entry, ttl)
  redis.call('lpush', hook, ARGV[a])
  redis.call('ltrim', hook, 0, last)
  redis.call('expire', hook, ttl)
end
"""


class RedisDeliveryLog:
    def __init__(self, redis: Redis, prefix: str, per_hook: int = 20) -> None:
        self._redis = redis
        self._base = prefix + wire.REDIS_DELIVERIES
        self._per_hook = per_hook
        self._writes = WriteBuffer(redis, "delivery log")
        # Run as EVALSHA; a pipeline loads the script first when Redis lacks it.
        self._record = redis.register_script(_RECORD)

    def _hook_key(self, hook_id: str) -> str:
        return f"{self._base}:h:{hook_id}"

    def _entry_key(self, entry_id: str) -> str:
        return f"{self._base}:e:{entry_id}"

    def _notes_key(self, entry_id: str) -> str:
        return f"{self._base}:n:{entry_id}"

    def record(
        self, hook_id: str, method: str, status: int, size: int, result: str, job_id: str | None
    ) -> None:
        entry_id = job_id or f"r:{secrets.token_hex(8)}"
        record = (hook_id, entry_id, repr(time.time()), method, status, size, result)
        self._writes.post_grouped(self._write_records, record)

    def _write_records(self, pipe: Pipeline, records: list[_Record]) -> None:
        keys: list[str] = []
        args: list[Any] = [self._per_hook, RETENTION]
        for record in records:
            keys += (self._entry_key(record[1]), self._hook_key(record[0]))
            args += record[1:]
        # What `Script.__call__` does, without awaiting (its stubs type it for sync Redis).
        pipe.scripts.add(cast(Any, self._record))
        pipe.evalsha(self._record.sha, len(keys), *keys, *args)

    def note(self, job_id: str, text: str) -> None:
        key = self._notes_key(job_id)

        def write(pipe: Pipeline) -> None:
            pipe.rpush(key, text)
            pipe.expire(key, RETENTION)

        self._writes.post(write)

    def settle(self, job_id: str, result: str) -> None:
        if not job_id.startswith(JOB_PREFIX):
            return  # GitHub/GitLab jobs and bot notices have no entry: no write per message
        key = self._entry_key(job_id)

        def write(pipe: Pipeline) -> None:
            pipe.eval(_SETTLE, 1, key, result)

        self._writes.post(write)

    async def entries(self, hook_id: str) -> list[Delivery]:
        ids = cast("list[str]", await self._redis.lrange(self._hook_key(hook_id), 0, -1))
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id in ids:
                pipe.hgetall(self._entry_key(entry_id))
                pipe.lrange(self._notes_key(entry_id), 0, -1)
            replies = await pipe.execute()
        found = []
        for fields, notes in zip(replies[::2], replies[1::2], strict=True):
            delivery = _delivery(fields, notes)
            if delivery is not None:
                found.append(delivery)
        found.reverse()
        return found

    async def run(self) -> None:
        """Send buffered writes in order until stopped (then what is left, if Redis is up)."""
        await self._writes.run()

    def stop(self) -> None:
        self._writes.stop()


def _delivery(fields: dict[str, str], notes: list[str]) -> Delivery | None:
    try:
        return Delivery(
            at=float(fields["at"]),
            method=fields["method"],
            status=int(fields["status"]),
            size=int(fields["size"]),
            result=fields.get("result", ""),
            notes=list(notes),
        )
    except (KeyError, ValueError):
        return None  # expired between the list and the hash, or foreign data
