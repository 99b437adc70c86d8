"""The feed poller against a real HTTP server on loopback and the real queue stores (SQLite
on disk: what a restart keeps)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.feed_server import FeedServer, Served, rss

from hookshot import wire
from hookshot.core.outbox import Outbox
from hookshot.core.queue.sqlite import SqliteQueue
from hookshot.core.store import ConnectionStore
from hookshot.services.feeds.config import FeedsConfig
from hookshot.services.feeds.parse import MAX_BYTES
from hookshot.services.feeds.poller import NOTICE_AFTER, FeedPoller
from hookshot.services.feeds.state import from_state
from hookshot.services.feeds.wire import FEED

CONFIG = FeedsConfig(poll_interval=60, allow_private=True)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as feeds:
        yield feeds


def _store(*subs: tuple[str, str, dict[str, object]]) -> ConnectionStore:
    store = ConnectionStore()
    for room, url, extra in subs:
        store.apply((room, FEED, url), from_state(room, FEED, url, {"url": url, **extra}))
    return store


async def _sent(queue: SqliteQueue) -> list[tuple[str, str]]:
    """(room, body) of every queued message, in queue order (one room's at a time, as the
    queue hands them out); acks them."""
    out = []
    while jobs := await queue.take(wire.TOPIC_SEND, 1000, timeout=0):
        for job in jobs:
            content = job.payload["content"]
            assert isinstance(content, dict)
            out.append((str(job.payload["room_id"]), str(content["body"])))
            await queue.ack(job)
    return out


async def test_first_read_posts_the_latest_then_only_new_ones_across_a_restart(
    server: FeedServer, tmp_path: Path
) -> None:
    url = server.publish("blog.xml", rss(("b", "Second"), ("a", "First")))
    store = _store(("!r1:x", url, {"label": "Blog"}), ("!r2:x", url, {}))
    queue = await SqliteQueue.open(tmp_path / "q.db")
    clock = Clock()
    poller = FeedPoller(store, Outbox(queue), queue, CONFIG, clock=clock)
    await poller.poll_due()
    first = await _sent(queue)
    assert sorted(first) == [
        ("!r1:x", "New post in Blog: [Second](https://blog.test/b)"),
        ("!r2:x", "New post in Test feed: [Second](https://blog.test/b)"),
    ]
    # Not due yet: nothing is read.
    await poller.poll_due()
    assert len(server.requests) == 1
    clock.now += 61
    await poller.poll_due()  # unchanged: a conditional GET answered 304
    assert server.requests[-1][1] is not None and await _sent(queue) == []

    server.publish(
        "blog.xml", rss(("d", "Fourth"), ("c", "Third"), ("b", "Second"), ("a", "First"))
    )
    await queue.close()
    # A restart: a new poller, the same store on disk.
    queue = await SqliteQueue.open(tmp_path / "q.db")
    poller = FeedPoller(store, Outbox(queue), queue, CONFIG, clock=clock)
    await poller.poll_due()
    bodies = [body for room, body in await _sent(queue) if room == "!r1:x"]
    assert bodies == [
        "New post in Blog: [Third](https://blog.test/c)",
        "New post in Blog: [Fourth](https://blog.test/d)",
    ]
    clock.now += 61
    await poller.poll_due()
    assert await _sent(queue) == []
    await queue.close()


async def test_failures_back_off_and_tell_the_room(server: FeedServer, tmp_path: Path) -> None:
    url = f"{server.url}/missing.xml"
    store = _store(("!quiet:x", url, {}), ("!loud:x", url, {"notifyOnFailure": True}))
    queue = await SqliteQueue.open(tmp_path / "q.db")
    clock = Clock()
    poller = FeedPoller(store, Outbox(queue), queue, CONFIG, clock=clock)
    told: list[tuple[str, str]] = []
    for attempt in range(NOTICE_AFTER):
        if attempt:
            clock.now += 10_000_000  # past any backoff
        await poller.poll_due()
        told += await _sent(queue)
    assert told[0] == ("!loud:x", f"Error fetching {url}: the server answered 404")
    assert [room for room, _ in told] == ["!loud:x", "!quiet:x"]  # each room told once
    assert "3 times in a row" in told[1][1]
    reads = len(server.requests)
    clock.now += 61  # within the backoff: not read again
    await poller.poll_due()
    assert len(server.requests) == reads
    await queue.close()


async def test_hostile_and_oversized_documents_are_not_read(
    server: FeedServer, tmp_path: Path
) -> None:
    bomb = server.publish(
        "bomb.xml",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<rss version="2.0"><channel><title>&b;</title></channel></rss>',
    )
    big = server.publish("big.xml", b"<rss>" + b" " * (MAX_BYTES + 10) + b"</rss>")
    store = _store(
        ("!r:x", bomb, {"notifyOnFailure": True}), ("!r:x", big, {"notifyOnFailure": True})
    )
    queue = await SqliteQueue.open(tmp_path / "q.db")
    poller = FeedPoller(store, Outbox(queue), queue, CONFIG, clock=Clock())
    await poller.poll_due()
    bodies = sorted(body for _, body in await _sent(queue))
    assert bodies == [
        f"Error fetching {big}: larger than 5 MiB",
        f"Error fetching {bomb}: Not read: the document declares a DTD or entities",
    ]
    await queue.close()


async def test_private_addresses_are_refused_unless_allowed(
    server: FeedServer, tmp_path: Path
) -> None:
    url = server.publish("blog.xml", rss(("a", "First")))
    store = _store(("!r:x", url, {"notifyOnFailure": True}))
    queue = await SqliteQueue.open(tmp_path / "q.db")
    poller = FeedPoller(store, Outbox(queue), queue, FeedsConfig(poll_interval=60), clock=Clock())
    await poller.poll_due()
    [(_, body)] = await _sent(queue)
    why = "its address is private or reserved, which this bridge does not read"
    assert body == f"Error fetching {url}: {why}"
    assert server.requests == []  # never connected
    await queue.close()


async def test_redirects_are_followed(server: FeedServer, tmp_path: Path) -> None:
    target = server.publish("new.xml", rss(("a", "Moved")))
    server.documents["old.xml"] = Served(b"", location=target)
    store = _store(("!r:x", f"{server.url}/old.xml", {}))
    queue = await SqliteQueue.open(tmp_path / "q.db")
    poller = FeedPoller(store, Outbox(queue), queue, CONFIG, clock=Clock())
    await poller.poll_due()
    assert [body for _, body in await _sent(queue)] == [
        "New post in Test feed: [Moved](https://blog.test/a)"
    ]
    await queue.close()
