"""Creating and removing connections: the one path shared by commands and the widget API.

Checks follow hookshot: the user needs `manageConnections` for the service and the power to
set state (state_default); the bot needs the power to send the connection's event type.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hookshot import wire
from hookshot.core.digest import FIELD as DIGEST_FIELD
from hookshot.core.digest import DigestSetting
from hookshot.core.durations import describe_duration
from hookshot.core.hook_ids import HookIds, HookSecrets
from hookshot.errors import CommandError, PermissionDenied, StateError
from hookshot.matrix import power
from hookshot.matrix.client import MatrixClient
from hookshot.services.generic import hook as generic_hook
from hookshot.services.generic import outbound_hook
from hookshot.services.generic.hook import GenericHookState
from hookshot.services.generic.outbound import TargetRefused, check_target, new_outbound_token

PermissionCheck = Callable[[str, str, str], bool]
# hookshot refuses webhooks that would expire within the hour.
MIN_EXPIRY_SECONDS = 3600


@dataclass(frozen=True)
class WebhookSettings:
    """The parts of `generic` config that provisioning needs."""

    enabled: bool
    url_prefix: str
    max_expiry_seconds: float | None = None
    require_expiry: bool = False
    outbound: bool = False
    outbound_allow_private: bool = False

    def hook_url(self, hook_id: str) -> str:
        sep = "" if self.url_prefix.endswith("/") else "/"
        return f"{self.url_prefix}{sep}{hook_id}"


@dataclass(frozen=True)
class CreatedHook:
    name: str
    hook_id: str
    url: str
    expires: datetime | None


@dataclass(frozen=True)
class RotatedHook:
    """A hook's new URL; `kept_secret`: it still requires the secret it had."""

    name: str
    hook_id: str
    url: str
    kept_secret: bool


class Provisioner:
    """Writes connection state on behalf of a user, after hookshot's checks."""

    def __init__(
        self,
        *,
        client: MatrixClient,
        hook_ids: HookIds,
        allowed: PermissionCheck,
        webhooks: WebhookSettings,
        hook_secrets: HookSecrets | None = None,
        reload: Callable[[str, str, str, dict[str, Any]], Awaitable[None]] | None = None,
        seal: Callable[[str, str], Awaitable[None]] | None = None,
        published: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._published = published
        self._seal = seal
        self._reload = reload
        self._client = client
        self._hook_ids = hook_ids
        self._hook_secrets = hook_secrets
        self._allowed = allowed
        self.webhooks = webhooks

    async def check(self, room_id: str, user_id: str, service: str, event_type: str) -> None:
        """Raise PermissionDenied unless user and bot may set up `event_type` here."""
        if not self._allowed(user_id, service, "manageConnections"):
            raise PermissionDenied(f"You are not permitted to provision connections for {service}.")
        levels = await self._client.get_state(room_id, wire.M_ROOM_POWER_LEVELS)
        create_ev = await self._create_event(room_id)
        creator_ids = power.creators(create_ev.get("content"), create_ev.get("sender"))
        if not power.can_send_state(levels, user_id, "", creator_ids=creator_ids):
            raise PermissionDenied(
                "You must be able to set state in a room ('Change settings') in order to set "
                "up new integrations."
            )
        if not power.can_send_state(
            levels, self._client.bot_user_id, event_type, creator_ids=creator_ids
        ):
            raise PermissionDenied(
                "I do not have permission to set up a bridge in this room. Please promote me "
                "to an Admin/Moderator."
            )

    async def _create_event(self, room_id: str) -> dict[str, Any]:
        # The create event's sender matters (v12 creators), so read the full event.
        for event in await self._client.room_state(room_id):
            if event.get("type") == wire.M_ROOM_CREATE:
                return event
        return {}

    def expiry_for(
        self, duration_seconds: float | None, now: datetime | None = None
    ) -> datetime | None:
        """When a hook created now for `duration_seconds` expires, within config limits."""
        # hookshot's texts (its provisionConnection), with the limit or an example added.
        limit = self.webhooks.max_expiry_seconds
        if duration_seconds is None:
            if self.webhooks.require_expiry:
                raise CommandError("Expiration date must be set (a duration such as 7d).")
            return None
        if duration_seconds < MIN_EXPIRY_SECONDS:
            raise CommandError("Expiration date must at least be a hour in the future")
        if limit is not None and duration_seconds > limit:
            raise CommandError(
                "Expiration date cannot exceed the configured max expiry time "
                f"({describe_duration(limit)})"
            )
        return (now or datetime.now(UTC)) + timedelta(seconds=duration_seconds)

    async def create_webhook(
        self,
        room_id: str,
        user_id: str,
        name: str,
        duration_seconds: float | None = None,
        *,
        state: GenericHookState | None = None,
    ) -> CreatedHook:
        """Create an inbound webhook: account data (hookId) first, then the state event.
        `state` (from the widget) carries the other fields and an absolute expiry."""
        if not self.webhooks.enabled:
            raise CommandError("The bridge is not configured to support webhooks.")
        await self.check(room_id, user_id, wire.SERVICE_WEBHOOKS, wire.GENERIC_HOOK)
        try:
            generic_hook.validate_name(name)
        except StateError as err:
            raise CommandError(str(err)) from None
        expires = self.expiry_for(duration_seconds)
        if state is not None and state.expiration_date is not None:
            remaining = (state.expiration_date - datetime.now(UTC)).total_seconds()
            expires = self.expiry_for(remaining)
        for event_type in wire.GENERIC_HOOK_TYPES:
            existing = await self._client.get_state(room_id, event_type, name)
            if existing and existing.get("disabled") is not True:
                raise CommandError(f'A webhook named "{name}" already exists in this room.')
        hook_id = await self._hook_ids.ensure(room_id, name, hook_id=str(uuid.uuid4()))
        if state is None:
            state = GenericHookState(name=name)
        state = dataclasses.replace(state, name=name, expiration_date=expires)
        await self._write(room_id, wire.GENERIC_HOOK, name, state.to_content())
        return CreatedHook(name, hook_id, self.webhooks.hook_url(hook_id), expires)

    async def set_webhook_secret(
        self, room_id: str, user_id: str, name: str, enable: bool
    ) -> str | None:
        """Require a (new) secret for the hook, or stop requiring one; returns the secret."""
        await self.check(room_id, user_id, wire.SERVICE_WEBHOOKS, wire.GENERIC_HOOK)
        assert self._hook_secrets is not None
        event_type, existing = await self._active_hook(room_id, name)
        hook_id = await self._hook_ids.ensure(room_id, name)
        secret = None
        if enable:
            secret = await self._hook_secrets.renew(room_id, hook_id)
        else:
            await self._hook_secrets.remove(room_id, hook_id)
        content = {k: v for k, v in existing.items() if k not in ("secret", "hookId")}
        if enable:
            content["secret"] = True
        # Also when unchanged: the hook must be rebuilt with its new secret.
        await self._write(room_id, event_type, name, content)
        return secret

    async def set_webhook_digest(
        self, room_id: str, user_id: str, name: str, setting: DigestSetting | None
    ) -> None:
        """Switch the hook's digest on (with its own threshold, or the bridge's) or off."""
        await self.check(room_id, user_id, wire.SERVICE_WEBHOOKS, wire.GENERIC_HOOK)
        event_type, existing = await self._active_hook(room_id, name)
        content = {k: v for k, v in existing.items() if k not in (DIGEST_FIELD, "hookId")}
        if setting is not None:
            content[DIGEST_FIELD] = setting.to_content()
        await self._write(room_id, event_type, name, content)

    async def rotate_webhook(self, room_id: str, user_id: str, name: str) -> RotatedHook:
        """Give a hook a new hookId: the old URL answers 404 once this returns (here and, in
        the roles, on every webhooks process); the state and any secret are kept."""
        await self.check(room_id, user_id, wire.SERVICE_WEBHOOKS, wire.GENERIC_HOOK)
        event_type, existing = await self._active_hook(room_id, name)
        old_id = await self._hook_ids.ensure(room_id, name)
        new_id = str(uuid.uuid4())
        # The secret is copied before the id changes, so no rebuild sees the hook without it.
        kept = self._hook_secrets is not None and await self._hook_secrets.copy(
            room_id, old_id, new_id
        )
        await self._hook_ids.assign(room_id, name, new_id)
        if kept and self._hook_secrets is not None:
            await self._hook_secrets.remove(room_id, old_id)
        # Rewritten so every bridge process rebuilds the hook from the account data; without
        # `hookId`, which members could read (our state never carries it).
        content = {k: v for k, v in existing.items() if k != "hookId"}
        await self._write(room_id, event_type, name, content)
        if self._published is not None:
            await self._published()
        return RotatedHook(name, new_id, self.webhooks.hook_url(new_id), kept)

    async def _active_hook(self, room_id: str, name: str) -> tuple[str, dict[str, Any]]:
        """The event type and content of the room's webhook `name`; CommandError if none."""
        for event_type in wire.GENERIC_HOOK_TYPES:
            existing = await self._client.get_state(room_id, event_type, name)
            if existing and existing.get("disabled") is not True:
                return event_type, existing
        raise CommandError(f'No webhook by the name of "{name}" is configured.')

    async def create_outbound_hook(
        self, room_id: str, user_id: str, name: str, url: str, method: str = "PUT"
    ) -> str:
        """Create an outbound hook; returns its token (sealed in the bot's account data)."""
        if not self.webhooks.outbound or self._seal is None:
            raise CommandError("The bridge is not configured to support webhooks.")
        await self.check(room_id, user_id, wire.SERVICE_WEBHOOKS, wire.OUTBOUND_HOOK)
        try:
            generic_hook.validate_name(name)
            state = outbound_hook.parse_state({"name": name, "url": url, "method": method})
        except StateError as err:
            raise CommandError(str(err)) from None
        try:
            await check_target(url, allow_private=self.webhooks.outbound_allow_private)
        except TargetRefused as err:
            raise CommandError(str(err)) from None
        token = new_outbound_token()
        await self._seal(outbound_hook.token_account_data_key(room_id, name), token)
        await self._write(room_id, wire.OUTBOUND_HOOK, name, state.to_content())
        return token

    async def remove_webhook(self, room_id: str, user_id: str, name: str) -> None:
        await self.check(room_id, user_id, wire.SERVICE_WEBHOOKS, wire.GENERIC_HOOK)
        event_type, _ = await self._active_hook(room_id, name)
        await self._write(room_id, event_type, name, {"disabled": True})

    async def write_state(
        self, room_id: str, event_type: str, state_key: str, content: dict[str, Any]
    ) -> None:
        """Write connection state (after `check`); the echo applies it."""
        await self._write(room_id, event_type, state_key, content)

    async def _write(
        self, room_id: str, event_type: str, state_key: str, content: dict[str, Any]
    ) -> None:
        """Write connection state and apply it at once: a webhook URL handed to the user must
        work before the homeserver's echo arrives (applying the echo again changes nothing)."""
        await self._client.send_state(room_id, event_type, state_key, content)
        if self._reload is not None:
            await self._reload(room_id, event_type, state_key, content)

    async def webhook_names(self, room_id: str) -> list[str]:
        """Names of the room's active webhooks, from room state (as hookshot lists them)."""
        names = []
        for event in await self._client.room_state(room_id):
            content = event.get("content")
            if (
                event.get("type") in wire.GENERIC_HOOK_TYPES
                and isinstance(content, dict)
                and isinstance(content.get("name"), str)
                and content.get("disabled") is not True
            ):
                names.append(content["name"])
        return sorted(names, key=str.lower)
