"""StoppingQueue: idle takes end at once on stop, and no job is lost on the way."""

from __future__ import annotations

import asyncio

from hookshot.core.queue.base import NewJob
from hookshot.core.queue.memory import MemoryQueue
from hookshot.core.queue.stopping import StoppingQueue


async def test_a_waiting_take_returns_nothing_once_taking_stops() -> None:
    queue = StoppingQueue(MemoryQueue())
    waiting = asyncio.ensure_future(queue.take("t", 10, timeout=None))  # would wait forever
    await asyncio.sleep(0)
    assert not waiting.done()
    queue.stop_taking()
    assert await asyncio.wait_for(waiting, 5) == []
    # Later takes do not wait either, and leave pending jobs pending.
    await queue.push("t", [NewJob("a", "p", {})])
    assert await queue.take("t", 10, timeout=None) == []
    assert await queue.depth("t") == 1
    await queue.close()


async def test_jobs_pushed_after_a_stop_stay_for_the_next_start() -> None:
    inner = MemoryQueue()
    queue = StoppingQueue(inner)
    await queue.push("t", [NewJob("a", "p", {"n": 1})])
    (job,) = await queue.take("t", 10, timeout=1)
    queue.stop_taking()
    await queue.push("t", [NewJob("b", "p", {"n": 2})])
    # The job in flight is settled as usual; the next one waits for another taker.
    await queue.ack(job)
    (next_job,) = await inner.take("t", 10, timeout=1)
    assert next_job.id == "b"
    await inner.close()


async def test_a_take_that_races_the_stop_hands_out_what_it_got() -> None:
    inner = MemoryQueue()
    queue = StoppingQueue(inner)
    waiting = asyncio.ensure_future(queue.take("t", 10, timeout=None))
    await asyncio.sleep(0)
    # The push wakes the take and the stop comes in the same tick: whichever wins, the
    # job is either handed out or still pending, never lost in between.
    await queue.push("t", [NewJob("a", "p", {})])
    queue.stop_taking()
    got = await asyncio.wait_for(waiting, 5)
    if got:
        assert [j.id for j in got] == ["a"]
        await queue.ack(got[0])
        assert await inner.depth("t") == 0
    else:
        (again,) = await inner.take("t", 10, timeout=1)
        assert again.id == "a"
    await inner.close()
