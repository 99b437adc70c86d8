"""The generic hook and outbound hook connection kinds (`core.kinds.Kind`).

Both belong to the `webhooks` permission service; outbound hooks have their own switch
(`genericOutbound`, on with `generic.outbound`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hookshot import wire
from hookshot.core.connections import Connection
from hookshot.core.kinds import BuildContext, Kind
from hookshot.services.generic import hook as generic_hook
from hookshot.services.generic import outbound_hook


async def _build_generic(
    ctx: BuildContext, room_id: str, event_type: str, state_key: str, content: Mapping[str, Any]
) -> Connection:
    state = generic_hook.parse_state(content)  # validate before minting a hookId for bad state
    hook_id = await ctx.hook_ids.ensure(room_id, state_key)
    secret = None
    if state.require_secret and ctx.hook_secrets is not None:
        secret = await ctx.hook_secrets.get(room_id, hook_id)
    return generic_hook.from_state(room_id, event_type, state_key, content, hook_id, secret)


async def _build_outbound(
    ctx: BuildContext, room_id: str, event_type: str, state_key: str, content: Mapping[str, Any]
) -> Connection:
    outbound_hook.parse_state(content)
    token = None
    if ctx.sealed is not None:
        token = await ctx.sealed(outbound_hook.token_account_data_key(room_id, state_key))
    return outbound_hook.from_state(room_id, event_type, state_key, content, token or "")


async def _carry_outbound(ctx: BuildContext, old_room: str, new_room: str, state_key: str) -> None:
    """A room upgrade: the hook keeps its token (the receiver need not be told a new one)."""
    if ctx.sealed is None or ctx.seal is None:
        return
    token = await ctx.sealed(outbound_hook.token_account_data_key(old_room, state_key))
    if token:
        await ctx.seal(outbound_hook.token_account_data_key(new_room, state_key), token)


GENERIC_KIND = Kind(
    "generic",
    wire.SERVICE_WEBHOOKS,
    wire.GENERIC_HOOK_TYPES,
    _build_generic,
    vet=generic_hook.vet,
    forget=generic_hook.forget,
    carry=generic_hook.carry,
)

OUTBOUND_KIND = Kind(
    "outbound_hook",
    wire.SERVICE_WEBHOOKS,
    wire.OUTBOUND_HOOK_TYPES,
    _build_outbound,
    feature=wire.SERVICE_OUTBOUND,
    carry=_carry_outbound,
)
