"""`connections:` from the config (hookshot 7.3): read-only generic hooks whose hookId is the
stateKey, with transformations working like any other hook's."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hookshot.core.store import ConnectionStore
from hookshot.errors import StateError
from hookshot.services.generic import hook as generic_hook

if TYPE_CHECKING:
    from hookshot.config import StaticConnection

log = logging.getLogger(__name__)


def apply_static_connections(
    store: ConnectionStore, connections: Sequence[StaticConnection], *, js_enabled: bool
) -> None:
    """Put each valid static connection into `store` (a bad one is logged and skipped)."""
    for static in connections:
        key = (static.room_id, static.connection_type, static.state_key)
        try:
            hook = generic_hook.from_state(*key, static.state, hook_id=static.state_key)
        except StateError as err:
            log.error("static connection %s is invalid: %s", static.state_key, err)
            continue
        hook, warning = generic_hook.vet_function(hook, None, js_enabled=js_enabled)
        if warning:
            log.warning("static connection %s: %s", static.state_key, warning)
        store.apply(key, hook)
