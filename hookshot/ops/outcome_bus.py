"""Redis pub/sub between the scale-out roles for what is not work but news about work:

- `outcomes`: what became of a webhook (sent, nothing to send, failed), for a `webhooks`
  process holding a `waitForComplete` request;
- `sent`: where a notice that starts a discussion thread landed, for the `bridge` process,
  which threads later GitLab notes under it.

Pub/sub is fire-and-forget: a message published while a subscriber is reconnecting is lost.
That costs a waiting request its 200 (it gets 202 after its timeout) or a later note its
thread; never a message. Publishing never blocks the caller (`redis_buffer.WriteBuffer`),
and only outcomes someone waits for are published (`completions.waited_for`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from hookshot import wire
from hookshot.core.completions import Completions, Outcome
from hookshot.ops.redis_buffer import WriteBuffer
from hookshot.services.gitlab.wire import DISCUSSIONS_KEY

log = logging.getLogger(__name__)

RECONNECT_CAP = 5.0


def encode_outcome(job_id: str, outcome: Outcome) -> str:
    return json.dumps(
        {
            "job": job_id,
            "ok": outcome.ok,
            "error": outcome.error,
            "event": outcome.event_id,
            "response": outcome.response,
        },
        separators=(",", ":"),
    )


def decode_outcome(text: str) -> tuple[str, Outcome] | None:
    try:
        raw = json.loads(text)
        job, ok = raw["job"], raw["ok"]
        if not isinstance(job, str) or not isinstance(ok, bool):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    error, event, response = raw.get("error"), raw.get("event"), raw.get("response")
    return job, Outcome(
        ok=ok,
        error=error if isinstance(error, str) else None,
        event_id=event if isinstance(event, str) else None,
        response=response if isinstance(response, dict) else None,
    )


def encode_sent(payload: dict[str, Any], event_id: str) -> str:
    """The part of a sent job the bridge's discussion threads need."""
    return json.dumps(
        {
            "room_id": payload.get("room_id"),
            DISCUSSIONS_KEY: payload.get(DISCUSSIONS_KEY),
            "event": event_id,
        },
        separators=(",", ":"),
    )


def decode_sent(text: str) -> tuple[dict[str, Any], str] | None:
    try:
        raw = json.loads(text)
    except ValueError:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("event"), str):
        return None
    if not isinstance(raw.get("room_id"), str) or not isinstance(raw.get(DISCUSSIONS_KEY), list):
        return None
    event = raw.pop("event")
    return raw, event


class OutcomeBus:
    """Publishes news to the other roles and feeds what they publish to this process."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._outcomes = prefix + wire.REDIS_OUTCOMES
        self._sent = prefix + wire.REDIS_SENT
        self._writes = WriteBuffer(redis, "news")
        self._stopping = False

    # --- publishing ------------------------------------------------------------------

    def publish_outcome(self, job_id: str, outcome: Outcome) -> None:
        self._post(self._outcomes, encode_outcome(job_id, outcome))

    def publish_sent(self, payload: dict[str, Any], event_id: str) -> None:
        if payload.get(DISCUSSIONS_KEY):
            self._post(self._sent, encode_sent(payload, event_id))

    def _post(self, channel: str, message: str) -> None:
        def write(pipe: Pipeline) -> None:
            pipe.publish(channel, message)

        self._writes.post(write)

    async def run_publisher(self) -> None:
        """Send buffered news until stopped (and what is buffered then)."""
        await self._writes.run()

    # --- subscribing -----------------------------------------------------------------

    async def run_subscriber(
        self,
        completions: Completions | None,
        on_sent: Callable[[dict[str, Any], str], None] | None,
    ) -> None:
        """Feed published outcomes to `completions` and sent notices to `on_sent`."""
        channels = [c for c, want in ((self._outcomes, completions), (self._sent, on_sent)) if want]
        if not channels:
            return
        attempt = 0
        while not self._stopping:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*channels)
                attempt = 0
                while not self._stopping:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    self._receive(
                        str(message["channel"]), str(message["data"]), completions, on_sent
                    )
            except RedisError as err:
                attempt += 1
                log.warning("Redis subscription lost: %s", err)
                await asyncio.sleep(min(RECONNECT_CAP, 0.1 * 2**attempt))
            finally:
                with contextlib.suppress(RedisError):
                    await pubsub.aclose()

    def _receive(
        self,
        channel: str,
        data: str,
        completions: Completions | None,
        on_sent: Callable[[dict[str, Any], str], None] | None,
    ) -> None:
        if channel == self._outcomes and completions is not None:
            decoded = decode_outcome(data)
            if decoded is not None:
                completions.wake(*decoded)
        elif channel == self._sent and on_sent is not None:
            sent = decode_sent(data)
            if sent is not None:
                on_sent(*sent)

    def stop(self) -> None:
        self._stopping = True
        self._writes.stop()
