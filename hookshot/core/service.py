"""What the core asks of a service, and nothing more.

A service (GitHub, GitLab, generic hooks, ...) lives in `hookshot/services/<name>/`. The core
never imports one: `bridge.py` builds each service's parts from the registry in
`hookshot/services/__init__.py` and hands the core these interfaces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hookshot.core.connections import OutgoingMessage
from hookshot.core.queue.base import Job


@dataclass(frozen=True)
class Rendered:
    """What became of one webhook job."""

    messages: Sequence[OutgoingMessage] = ()
    # A transformation's answer for a sender waiting for completion: {body, contentType,
    # statusCode} (hookshot's `webhookResponse`).
    response: Mapping[str, Any] | None = None
    # The service kept the job (a debounce or a batch) and acknowledges it itself later; it
    # stays unacknowledged until then, so a crash loses nothing.
    held: bool = False


HELD = Rendered(held=True)


class JobRenderer(Protocol):
    """Turns one service's webhook jobs (payload `kind` = the service's name) into messages."""

    async def render(self, job: Job) -> Rendered: ...

    def stop(self) -> None:
        """Drop timers of held jobs (they stay queued for the next start)."""
