"""What a running command can see and do."""

from __future__ import annotations

from dataclasses import dataclass, field

from hookshot import wire
from hookshot.admin_rooms import AdminRooms
from hookshot.connections.base import Connection, OutgoingMessage
from hookshot.formatting.markdown import render_markdown
from hookshot.outbox import Outbox
from hookshot.provisioning import Provisioner
from hookshot.store import ConnectionStore


@dataclass
class CommandContext:
    """One command invocation: who, where, and the services it may use."""

    room_id: str
    sender: str
    event_id: str
    provisioner: Provisioner
    admin_rooms: AdminRooms
    outbox: Outbox
    store: ConnectionStore
    connection: Connection | None = None  # set for a connection's own commands
    _sent: int = field(default=0, repr=False)

    async def notice(self, markdown: str, *, room_id: str | None = None, html: bool = True) -> None:
        """Queue a notice (markdown rendered to HTML) for this room or another."""
        content: dict[str, str] = {"msgtype": wire.M_NOTICE, "body": markdown}
        if html:
            content["format"] = wire.HTML_FORMAT
            content["formatted_body"] = render_markdown(markdown)
        target = room_id or self.room_id
        # Ids follow the order of sends, so re-running the same command sends nothing twice.
        cause = f"cmd:{self.event_id}:{self._sent}"
        self._sent += 1
        await self.outbox.send(cause, [OutgoingMessage(room_id=target, content=content)])

    async def react(self, key: str) -> None:
        content = {
            "m.relates_to": {"rel_type": "m.annotation", "event_id": self.event_id, "key": key}
        }
        cause = f"cmd:{self.event_id}:{self._sent}"
        self._sent += 1
        await self.outbox.send(
            cause,
            [OutgoingMessage(room_id=self.room_id, content=content, event_type=wire.M_REACTION)],
        )
