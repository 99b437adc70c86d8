"""What a running command can see and do."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hookshot import wire
from hookshot.commands.registry import CommandSet
from hookshot.core.connections import Connection, OutgoingMessage
from hookshot.core.markdown import notice_content, render_markdown, render_markdown_inline
from hookshot.core.outbox import Outbox
from hookshot.core.store import ConnectionStore
from hookshot.errors import MatrixError
from hookshot.matrix.admin_rooms import AdminRooms
from hookshot.matrix.client import MatrixClient
from hookshot.ops.delivery_log import DeliveryRecorder
from hookshot.services.generic.provisioning import Provisioner
from hookshot.widget.settings import WidgetSettings

log = logging.getLogger(__name__)


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
    matrix: MatrixClient | None = None
    delivery_log: DeliveryRecorder | None = None
    widgets: WidgetSettings | None = None
    # The set the running command came from (its help lists that set) and the help headings.
    command_set: CommandSet | None = None
    categories: Mapping[str, str] | None = None
    _sent: int = field(default=0, repr=False)

    async def notice(
        self,
        markdown: str,
        *,
        room_id: str | None = None,
        html: bool = True,
        inline: bool = False,
        reply_to: str | None = None,
    ) -> None:
        """Queue a notice for this room or another: markdown rendered to HTML, or with
        `html=False` plain unless the text has markup (then it carries the HTML too);
        `inline` renders without a paragraph, as hookshot's `md.renderInline`."""
        content: dict[str, Any] = notice_content(markdown)
        if html:
            content["format"] = wire.HTML_FORMAT
            content["formatted_body"] = (
                render_markdown_inline(markdown) if inline else render_markdown(markdown)
            )
        if reply_to is not None:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        target = room_id or self.room_id
        # Ids follow the order of sends, so re-running the same command sends nothing twice.
        cause = f"cmd:{self.event_id}:{self._sent}"
        self._sent += 1
        await self.outbox.send(cause, [OutgoingMessage(room_id=target, content=content)])

    async def redact_command(self, reason: str) -> None:
        """Remove the command message (it held a secret), or ask the user to."""
        if self.matrix is None:
            return
        try:
            await self.matrix.redact(self.room_id, self.event_id, f"redact-{self.event_id}", reason)
        except MatrixError as err:
            log.warning("could not redact %s in %s: %s", self.event_id, self.room_id, err)
            await self.notice(
                "I could not remove your message (I need the power to delete messages here); "
                "please delete it yourself, it contains a secret."
            )

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
