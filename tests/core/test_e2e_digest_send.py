"""The sender's digests against the real Synapse, with the send queue on disk: a crash
between a digest's send and its ack must not send it again or differently, and a job sent on
its own before a crash is not summarised as well. The sender runs in-process as the spare
bridge's bot (that bridge need not run), so the test can stop it right after a send."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from hookshot import wire
from hookshot.core.completions import Completions
from hookshot.core.connections import OutgoingMessage
from hookshot.core.digest import DigestTag
from hookshot.core.outbox import send_jobs
from hookshot.core.queue import SqliteQueue
from hookshot.core.sender import Sender, txn_id_for
from hookshot.dev.client import MatrixUser
from hookshot.dev.homeserver import LocalSynapse
from hookshot.dev.stack import BridgeFiles
from hookshot.matrix.client import MatrixClient

TAG = DigestTag("burst-group", 'webhook "burst"')


@pytest.fixture
async def user(
    synapse: LocalSynapse, spare_admin_login: tuple[str, str]
) -> AsyncIterator[MatrixUser]:
    """The room's creator is the spare bridge's admin: other tests start the spare bridge,
    which refuses an invite from anyone else by making its bot (the bot this test sends as)
    leave the room."""
    async with MatrixUser(synapse.base_url, *spare_admin_login) as admin:
        yield admin


class Recording(MatrixClient):
    """A real client that notes every send; with `crash_after`, the send that many sends in
    lands and then the process "dies" (the task is cancelled before anything is acked)."""

    def __init__(self, *args: Any, crash_after: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sends: list[tuple[str, dict[str, Any]]] = []
        self._crash_after = crash_after
        self.crashed = asyncio.Event()

    async def send_event(
        self,
        room_id: str,
        event_type: str,
        content: Mapping[str, Any],
        txn_id: str,
        *,
        user_id: str | None = None,
    ) -> str:
        event_id = await super().send_event(room_id, event_type, content, txn_id, user_id=user_id)
        self.sends.append((txn_id, dict(content)))
        if self._crash_after is not None and len(self.sends) >= self._crash_after:
            self.crashed.set()
            raise asyncio.CancelledError  # dies here: no ack, no retry
        return event_id


def bot_client(synapse: LocalSynapse, files: BridgeFiles, **kwargs: Any) -> Recording:
    token = yaml.safe_load(files.registration_path.read_text())["as_token"]
    bot = f"@{files.sender_localpart}:localhost"
    return Recording(synapse.base_url, token, bot, **kwargs)


async def drain(client: Recording, queue: SqliteQueue) -> None:
    """Run a sender until the send queue is empty (or, with a crash, until it crashed)."""
    sender = Sender(client, queue, Completions(), digest_threshold=20)
    task = asyncio.create_task(sender.run())
    crashed = asyncio.ensure_future(client.crashed.wait())
    try:
        async with asyncio.timeout(60):
            while await queue.depth(wire.TOPIC_SEND) and not crashed.done() and not task.done():
                await asyncio.wait({task, crashed}, timeout=0.05)  # a poll, with a deadline
    finally:
        crashed.cancel()
        sender.stop()
        await task


def burst(room_id: str, run: str, start: int, n: int) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(room_id, {"msgtype": "m.notice", "body": f"burst {run} #{i}"}, digest=TAG)
        for i in range(start, start + n)
    ]


def quiet(room_id: str, run: str, i: int) -> OutgoingMessage:
    return OutgoingMessage(room_id, {"msgtype": "m.notice", "body": f"quiet {run} #{i}"})


async def setup_room(user: MatrixUser, client: Recording) -> str:
    room_id = await user.create_room(invite=[client.bot_user_id])
    await client.join(room_id)
    return room_id


async def bot_bodies(user: MatrixUser, room_id: str, bot: str) -> list[dict[str, Any]]:
    events = await user.messages(room_id, limit=500)
    return [e["content"] for e in events if e["type"] == wire.M_ROOM_MESSAGE and e["sender"] == bot]


async def test_a_crash_between_a_digests_send_and_ack_sends_nothing_again(
    synapse: LocalSynapse, spare_files: BridgeFiles, user: MatrixUser, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    first = bot_client(synapse, spare_files, crash_after=1)
    room_id = await setup_room(user, first)
    messages = [*burst(room_id, run, 0, 15), quiet(room_id, run, 0), *burst(room_id, run, 15, 15)]
    messages.append(quiet(room_id, run, 1))
    queue = await SqliteQueue.open(tmp_path / "q.db")
    await queue.push(wire.TOPIC_SEND, send_jobs(f"cause-{run}", messages))
    try:
        await drain(first, queue)
    finally:
        await first.aclose()
        await queue.close()
    ((digest_txn, sent),) = first.sends
    assert sent[wire.DIGEST_CONTENT_KEY] == {"events": 30, "shown": 10}
    assert digest_txn != txn_id_for(f"cause-{run}#0")  # a digest's own txn id

    queue = await SqliteQueue.open(tmp_path / "q.db")  # the restart: nothing was acked
    second = bot_client(synapse, spare_files)
    try:
        assert await queue.depth(wire.TOPIC_SEND) == 32
        await drain(second, queue)
        assert await queue.depth(wire.TOPIC_SEND) == 0
    finally:
        await second.aclose()
        await queue.close()
    # The digest was found in the room, not sent again; only the two others were sent.
    assert [txn for txn, _ in second.sends if txn == digest_txn] == []
    assert [c["body"] for _, c in second.sends] == [f"quiet {run} #0", f"quiet {run} #1"]
    bodies = await bot_bodies(user, room_id, first.bot_user_id)
    assert len(bodies) == 3
    assert bodies[0] == {**sent, wire.TXN_KEY: digest_txn}
    assert [b["body"] for b in bodies[1:]] == [f"quiet {run} #0", f"quiet {run} #1"]


async def test_a_job_sent_alone_before_a_crash_is_not_summarised_too(
    synapse: LocalSynapse, spare_files: BridgeFiles, user: MatrixUser, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    first = bot_client(synapse, spare_files, crash_after=1)
    room_id = await setup_room(user, first)
    queue = await SqliteQueue.open(tmp_path / "q.db")
    await queue.push(wire.TOPIC_SEND, send_jobs(f"a-{run}", burst(room_id, run, 0, 5)))
    try:
        await drain(first, queue)  # 5 waiting: the first is sent alone, then the crash
    finally:
        await first.aclose()
        await queue.close()
    assert [c["body"] for _, c in first.sends] == [f"burst {run} #0"]

    queue = await SqliteQueue.open(tmp_path / "q.db")
    await queue.push(wire.TOPIC_SEND, send_jobs(f"b-{run}", burst(room_id, run, 5, 25)))
    second = bot_client(synapse, spare_files)
    try:
        await drain(second, queue)  # 30 waiting now, #0 among them
    finally:
        await second.aclose()
        await queue.close()
    bodies = await bot_bodies(user, room_id, first.bot_user_id)
    assert bodies[0]["body"] == f"burst {run} #0"
    assert len(bodies) == 2
    assert bodies[1][wire.DIGEST_CONTENT_KEY] == {"events": 29, "shown": 10}
    listed = bodies[1]["body"].split("\n")[1:]
    assert listed[0] == f"• burst {run} #1"  # #0 is not in it
    assert listed[-1] == "…and 19 more"
