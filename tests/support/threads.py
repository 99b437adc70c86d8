"""Reading threads back from Synapse: relations of a root, its latest edit, reactions on it,
and waiting with a deadline (the quiet-rooms e2e tests of every service)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from hookshot.dev.client import MatrixUser


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 20.0) -> Any:
    """The first truthy value of `check()`, polled until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def relations(user: MatrixUser, room_id: str, root: str, rel: str) -> list[dict[str, Any]]:
    path = f"/_matrix/client/v1/rooms/{quote(room_id)}/relations/{quote(root)}/{rel}"
    body = await user.request("GET", path, params={"limit": 50, "dir": "f"})
    return list(body["chunk"])


async def latest_edit(user: MatrixUser, room_id: str, root: str) -> str:
    """The body of the root's latest `m.replace` edit ("" if never edited)."""
    event = await user.request("GET", f"/rooms/{quote(room_id)}/event/{quote(root)}")
    replaced = event.get("unsigned", {}).get("m.relations", {}).get("m.replace")
    if not replaced:
        return ""
    edit = await user.request("GET", f"/rooms/{quote(room_id)}/event/{quote(replaced['event_id'])}")
    return str(edit["content"]["m.new_content"]["body"])


async def reactions_by(user: MatrixUser, room_id: str, root: str, sender: str) -> list[str]:
    """The keys of `sender`'s reactions on `root`."""
    events = await relations(user, room_id, root, "m.annotation")
    return [
        e["content"]["m.relates_to"]["key"]
        for e in events
        if e["sender"] == sender and e["content"].get("m.relates_to")
    ]
