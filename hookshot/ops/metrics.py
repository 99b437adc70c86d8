"""Prometheus metrics, with hookshot's names where hookshot has them.

One registry per bridge (not the global default), so tests can run several bridges in a
process; `/metrics` on a listener with the `metrics` resource serves it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hookshot.core.queue.base import Job, NewJob, Queue, QueueWrapper

log = logging.getLogger(__name__)


class Metrics:
    """Every metric the bridge exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.webhook_requests = Counter(
            "hookshot_webhooks_http_request",
            "Webhook requests received, by route and response status",
            ["path", "method", "status"],
            registry=r,
        )
        self.webhooks_rate_limited = Counter(
            "hookshot_webhooks_rate_limited",
            "Webhook requests refused (429) by a hook's rate limit, by service",
            ["service"],
            registry=r,
        )
        self.queue_pushes = Counter(
            "hookshot_queue_event_pushes", "Jobs pushed to a queue", ["event"], registry=r
        )
        self.connection_failed = Counter(
            "hookshot_connection_event_failed",
            "Events a connection failed to handle",
            ["event", "connectionId"],
            registry=r,
        )
        self.connections = Gauge(
            "hookshot_connections", "Connections in rooms, by kind", ["service"], registry=r
        )
        self.matrix_calls = Counter(
            "matrix_api_calls", "Homeserver API calls", ["method"], registry=r
        )
        self.matrix_calls_failed = Counter(
            "matrix_api_calls_failed", "Failed homeserver API calls", ["method"], registry=r
        )
        self.appservice_events = Counter(
            "matrix_appservice_events", "Events pushed by the homeserver", registry=r
        )
        self.queue_depth = Gauge(
            "hookshot_queue_depth", "Jobs waiting or in flight, by topic", ["topic"], registry=r
        )
        self.delivery_latency = Histogram(
            "hookshot_delivery_latency_seconds",
            "From queueing a message to the homeserver accepting it",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=r,
        )
        self.queue_in_flight = Gauge(
            "hookshot_queue_in_flight",
            "Jobs this process has taken and not yet settled, by topic",
            ["topic"],
            registry=r,
        )
        self.send_retries = Counter(
            "hookshot_send_retries", "Sends retried, by reason", ["reason"], registry=r
        )
        self.send_failures = Counter(
            "hookshot_send_failures", "Sends given up for good", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def routes(self, refresh: Callable[[], Any] | None = None) -> list[BaseRoute]:
        async def metrics(_: Request) -> Response:
            if refresh is not None:
                await refresh()
            return Response(self.render(), media_type=CONTENT_TYPE_LATEST)

        return [Route("/metrics", metrics)]


class CountingQueue(QueueWrapper):
    """A Queue that counts pushes (its own and follow-ups) into `hookshot_queue_event_pushes`
    and the jobs it holds into `hookshot_queue_in_flight`."""

    def __init__(self, inner: Queue, metrics: Metrics) -> None:
        super().__init__(inner)
        self._metrics = metrics

    async def push(self, topic: str, jobs: Sequence[NewJob]) -> list[bool]:
        fresh = await self.inner.push(topic, jobs)
        self._metrics.queue_pushes.labels(topic).inc(sum(fresh))
        return fresh

    async def take(self, topic: str, limit: int, timeout: float | None = None) -> list[Job]:
        jobs = await self.inner.take(topic, limit, timeout)
        if jobs:
            self._metrics.queue_in_flight.labels(topic).inc(len(jobs))
        return jobs

    async def ack(self, job: Job, follow_ups: Mapping[str, Sequence[NewJob]] | None = None) -> None:
        try:
            await self.inner.ack(job, follow_ups)
        finally:
            self._metrics.queue_in_flight.labels(job.topic).dec()
        for topic, jobs in (follow_ups or {}).items():
            self._metrics.queue_pushes.labels(topic).inc(len(jobs))

    async def retry(self, job: Job, delay: float, error: str) -> None:
        try:
            await self.inner.retry(job, delay, error)
        finally:
            self._metrics.queue_in_flight.labels(job.topic).dec()

    async def fail(self, job: Job, error: str) -> None:
        try:
            await self.inner.fail(job, error)
        finally:
            self._metrics.queue_in_flight.labels(job.topic).dec()


async def refresh_gauges(
    metrics: Metrics, queue: Queue, topics: Sequence[str], connections: Mapping[str, int]
) -> None:
    """Sample the values that are cheaper to read on scrape than to track."""
    depths = await asyncio.gather(*(queue.depth(t) for t in topics))
    for topic, depth in zip(topics, depths, strict=True):
        metrics.queue_depth.labels(topic).set(depth)
    metrics.connections.clear()
    for service, count in connections.items():
        metrics.connections.labels(service).set(count)
