"""Reads each subscribed feed every `pollIntervalSeconds` (once, however many rooms follow
it) and posts new entries, oldest first, through the outbox (durable, one job per room).

- Seen entries are kept in the queue's store (`SeenStore`: SQLite or Redis), so a restart
  posts nothing twice. A feed read for the first time posts only its latest entry (the rest
  counts as seen).
- Conditional GET (ETag / Last-Modified): an unchanged feed costs one 304.
- A failing feed is retried less often (the interval doubling, up to a day); rooms with
  `notifyOnFailure` hear at the first failure, the others after `NOTICE_AFTER` in a row.
- Addresses are checked at connection time (private ones refused unless allowed), redirects
  are followed by hand (each hop checked), and a document over MAX_BYTES is not read.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx

from hookshot.core.connections import OutgoingMessage
from hookshot.core.outbox import Outbox
from hookshot.core.queue.base import SeenStore
from hookshot.core.store import ConnectionStore
from hookshot.services.feeds.config import FeedsConfig
from hookshot.services.feeds.format import failure_notice, message
from hookshot.services.feeds.parse import MAX_BYTES, Feed, FeedError, parse_feed
from hookshot.services.feeds.state import FeedConnection
from hookshot.services.generic.outbound import TargetRefused, TargetUnresolved, guarded_client

log = logging.getLogger(__name__)

NOTICE_AFTER = 3  # failures in a row before rooms without notifyOnFailure are told
MAX_BACKOFF = 24 * 3600.0
MAX_REDIRECTS = 5
SEEN_TTL = 3650 * 86400.0  # entries stay in feeds for years; forgetting one re-posts it
USER_AGENT = "hookshot-python (feeds)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, */*;q=0.8"
)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class FeedStatus:
    etag: str | None = None
    modified: str | None = None
    due: float = 0.0
    failures: int = 0
    failing_since: float = 0.0
    told: set[str] = field(default_factory=set)  # rooms told about the current failure run


class FeedPoller:
    def __init__(
        self,
        store: ConnectionStore,
        outbox: Outbox,
        seen: SeenStore,
        config: FeedsConfig,
        *,
        client: Callable[[], httpx.AsyncClient] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._seen = seen
        self._config = config
        self._client = client or (
            lambda: guarded_client(allow_private=config.allow_private, timeout=config.poll_timeout)
        )
        self._clock = clock
        self._status: dict[str, FeedStatus] = {}
        self._slots = asyncio.Semaphore(config.poll_concurrency)

    def _feeds(self) -> dict[str, list[FeedConnection]]:
        feeds: dict[str, list[FeedConnection]] = {}
        for conn in self._store:
            if isinstance(conn, FeedConnection):
                feeds.setdefault(conn.state.url, []).append(conn)
        return feeds

    async def run(self) -> None:
        """Poll until cancelled (a cancelled poll loses nothing: sends are queued durably)."""
        tick = min(5.0, self._config.poll_interval)
        while True:
            await self.poll_due()
            await asyncio.sleep(tick)

    async def poll_due(self) -> None:
        now = self._clock()
        feeds = self._feeds()
        for url in set(self._status) - set(feeds):
            del self._status[url]  # unsubscribed everywhere
        due = [(url, conns) for url, conns in feeds.items() if self._state(url).due <= now]
        if due:
            async with self._client() as http:
                await asyncio.gather(*(self._poll(http, url, conns) for url, conns in due))

    def _state(self, url: str) -> FeedStatus:
        return self._status.setdefault(url, FeedStatus())

    async def _poll(self, http: httpx.AsyncClient, url: str, conns: list[FeedConnection]) -> None:
        status = self._state(url)
        async with self._slots:
            try:
                feed = await fetch(http, url, status)
            except (FeedError, TargetRefused, httpx.HTTPError) as err:
                await self._failed(url, conns, status, _reason(err))
                return
        status.due = self._clock() + self._config.poll_interval
        status.failures, status.told = 0, set()
        if feed is not None:
            await self._post(url, conns, feed)

    async def _post(self, url: str, conns: list[FeedConnection], feed: Feed) -> None:
        if not feed.entries:
            return
        # One write: the feed's own key (new = its first read ever) and one per entry.
        keys = [f"feeds:{_digest(url)}:{_digest(e.key)}" for e in feed.entries]
        first, *fresh = await self._seen.add_new([f"feeds:{_digest(url)}", *keys], SEEN_TTL)
        entries = (
            feed.entries[-1:]
            if first
            else [e for e, new in zip(feed.entries, fresh, strict=True) if new]
        )
        for entry in entries:
            messages = [
                OutgoingMessage(room_id=c.room_id, content=message(c.state, feed.title, entry))
                for c in conns
            ]
            # One cause per entry: a repeat of this push (a crash in between) sends nothing.
            await self._outbox.send(f"feed:{_digest(url)}:{_digest(entry.key)}", messages)
        if entries:
            log.info("feed %s: %d new entries for %d rooms", url, len(entries), len(conns))

    async def _failed(
        self, url: str, conns: list[FeedConnection], status: FeedStatus, reason: str
    ) -> None:
        if status.failures == 0:
            status.failing_since = time.time()
        status.failures += 1
        backoff = self._config.poll_interval * 2 ** min(status.failures, 16)
        status.due = self._clock() + min(backoff, max(MAX_BACKOFF, self._config.poll_interval))
        log.info("feed %s failed (%d in a row): %s", url, status.failures, reason)
        told = []
        for conn in conns:
            wanted = conn.state.notify_on_failure or status.failures >= NOTICE_AFTER
            if wanted and conn.room_id not in status.told:
                status.told.add(conn.room_id)
                content = failure_notice(url, reason, status.failures)
                told.append(OutgoingMessage(room_id=conn.room_id, content=content))
        run = f"{_digest(url)}:{int(status.failing_since)}"
        for n, notice in enumerate(told):
            await self._outbox.send(f"feedfail:{run}:{_digest(notice.room_id)}:{n}", [notice])


async def fetch(http: httpx.AsyncClient, url: str, status: FeedStatus) -> Feed | None:
    """Read `url` (conditionally, with `status`'s validators; None on 304), following
    redirects by hand and stopping past MAX_BYTES; `status` keeps the new validators."""
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if status.etag:
        headers["If-None-Match"] = status.etag
    if status.modified:
        headers["If-Modified-Since"] = status.modified
    target = url
    for _ in range(MAX_REDIRECTS + 1):
        async with http.stream("GET", target, headers=headers) as response:
            if response.is_redirect and "location" in response.headers:
                target = urljoin(target, response.headers["location"])
                continue
            if response.status_code == 304:
                return None
            if response.status_code != 200:
                raise FeedError(f"the server answered {response.status_code}")
            raw = bytearray()
            async for chunk in response.aiter_bytes():
                raw += chunk
                if len(raw) > MAX_BYTES:
                    raise FeedError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
            status.etag = response.headers.get("etag")
            status.modified = response.headers.get("last-modified")
            return parse_feed(bytes(raw), target, response.headers.get("content-type"))
    raise FeedError(f"more than {MAX_REDIRECTS} redirects")


async def try_read(url: str, config: FeedsConfig, timeout: float = 10.0) -> Feed:
    """Read a feed once (before subscribing a room); FeedError with the reason if it fails."""
    client = guarded_client(allow_private=config.allow_private, timeout=timeout)
    async with client as http:
        try:
            feed = await fetch(http, url, FeedStatus())
        except (TargetRefused, httpx.HTTPError) as err:
            raise FeedError(_reason(err)) from None
    if feed is None:  # a 304 without validators sent: not a feed server we can read
        raise FeedError("the server answered 304 to a first read")
    return feed


def _reason(err: Exception) -> str:
    if isinstance(err, TargetUnresolved):
        return "its host does not resolve"
    if isinstance(err, TargetRefused):
        return "its address is private or reserved, which this bridge does not read"
    if isinstance(err, httpx.TimeoutException):
        return "timed out"
    if isinstance(err, httpx.HTTPError):
        return f"could not connect ({type(err).__name__})"
    return str(err) or type(err).__name__
