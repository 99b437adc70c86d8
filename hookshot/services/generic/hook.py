"""Inbound ("generic") webhooks: state parsing and what a delivery turns into.

State: `uk.half-shot.matrix-hookshot.generic.hook`, state_key = name. The secret hookId lives
in the bot's room account data of the same type ({hookId: state_key}), as in hookshot, so a
migrated room keeps its URLs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hookshot import wire
from hookshot.core.connections import Connection, OutgoingMessage, connection_id, parse_priority
from hookshot.core.digest import FIELD as DIGEST_FIELD
from hookshot.core.digest import DigestSetting, digest_tag, parse_digest, read_digest
from hookshot.core.kinds import BuildContext, Vetted
from hookshot.core.rate_limit import UNSET, RateLimit, parse_rate_limit
from hookshot.core.store import ConnectionStore
from hookshot.errors import StateError
from hookshot.ops.redaction import register_secret
from hookshot.services.generic.transform.formats import FORMATS
from hookshot.services.generic.transform.js import COMPILE_ERROR_PREFIX, compile_check
from hookshot.services.generic.transform.result import TransformError
from hookshot.services.generic.transform.template import Template, compile_template

NAME_MIN, NAME_MAX = 3, 64


@dataclass(frozen=True)
class GenericHookState:
    """The validated content of a generic hook state event."""

    name: str
    transformation_function: str | None = None
    wait_for_complete: bool | None = None
    # hookshot's per-hook override of `generic.includeHookBody` (None: the config decides).
    include_hook_body: bool | None = None
    expiration_date: datetime | None = None
    priority: int = -1
    # Ours: a declarative template ({plain, html, msgtype, empty_if}) or a built-in format.
    template: Mapping[str, Any] | None = None
    format: str | None = None
    # Ours: requests must carry the hook's secret (kept in account data, not in state).
    require_secret: bool = False
    # Ours: this hook's token bucket, over `generic.rateLimit` (unset fields: the config's).
    rate_limit: RateLimit = UNSET
    # Ours: a built-in format's thread keys are used (a transformation's always are).
    threads: bool = False
    # Ours: a backlog over the threshold is sent as one digest (core/digest.py); None: off.
    digest: DigestSetting | None = None

    def to_content(self) -> dict[str, Any]:
        """The state content we write (hookshot's field names). Never the hookId: hookshot
        copies it into state as a display field, but every member can read state."""
        content: dict[str, Any] = {"name": self.name}
        if self.transformation_function is not None:
            content["transformationFunction"] = self.transformation_function
        if self.wait_for_complete is not None:
            content["waitForComplete"] = self.wait_for_complete
        if self.include_hook_body is not None:
            content["includeHookBody"] = self.include_hook_body
        if self.expiration_date is not None:
            content["expirationDate"] = format_timestamp(self.expiration_date)
        if self.priority != -1:
            content["priority"] = self.priority
        if self.template is not None:
            content["template"] = dict(self.template)
        if self.format is not None:
            content["format"] = self.format
        if self.require_secret:
            content["secret"] = True
        if self.rate_limit != UNSET:
            content["rateLimit"] = self.rate_limit.to_content()
        if self.threads:
            content["threads"] = True
        if self.digest is not None:
            content[DIGEST_FIELD] = self.digest.to_content()
        return content


def validate_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise StateError("Missing name")
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise StateError(f"A webhook name must be between {NAME_MIN}-{NAME_MAX} characters.")
    return name


def parse_state(content: Mapping[str, Any], *, strict: bool = False) -> GenericHookState:
    """Validate generic hook state content; raises StateError naming the bad field. A bad
    `digest` is refused only when `strict` (the widget); room state logs it (core/digest.py)."""
    name = validate_name(content.get("name"))
    fn = content.get("transformationFunction")
    if fn is not None and not isinstance(fn, str):
        raise StateError("'transformationFunction' must be a string")
    wait = content.get("waitForComplete")
    if wait is not None and not isinstance(wait, bool):
        raise StateError("'waitForComplete' must be a boolean")
    include_body = content.get("includeHookBody")
    if include_body is not None and not isinstance(include_body, bool):
        raise StateError("'includeHookBody' must be a boolean")
    expiry_raw = content.get("expirationDate")
    expiry = None
    if expiry_raw is not None:
        if not isinstance(expiry_raw, str):
            raise StateError("'expirationDate' must be an ISO 8601 date string")
        expiry = parse_timestamp(expiry_raw)
    template = content.get("template")
    if template is not None:
        if not isinstance(template, Mapping):
            raise StateError("'template' must be an object with at least `plain`")
        try:
            compile_template(template)
        except TransformError as err:
            raise StateError(str(err)) from None
    require_secret = content.get("secret", False)
    if not isinstance(require_secret, bool):
        raise StateError("'secret' must be a boolean")
    fmt = content.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise StateError(f"'format' must be one of {', '.join(FORMATS)}")
    rate_limit = UNSET
    if content.get("rateLimit") is not None:
        try:
            rate_limit = parse_rate_limit(content["rateLimit"])
        except ValueError as err:
            raise StateError(f"'rateLimit' {err}") from None
    threads = content.get("threads", False)
    if not isinstance(threads, bool):
        raise StateError("'threads' must be a boolean")
    digest_setting = read_digest(content.get(DIGEST_FIELD), f"webhook {name}")
    if strict:
        try:
            digest_setting = parse_digest(content.get(DIGEST_FIELD))
        except ValueError as err:
            raise StateError(str(err)) from None
    return GenericHookState(
        name=name,
        transformation_function=fn or None,
        wait_for_complete=wait,
        include_hook_body=include_body,
        expiration_date=expiry,
        priority=parse_priority(content),
        template=dict(template) if template is not None else None,
        format=fmt,
        require_secret=require_secret,
        rate_limit=rate_limit,
        threads=threads,
        digest=digest_setting,
    )


def parse_timestamp(value: str) -> datetime:
    """ISO 8601 (JavaScript's toISOString form included); naive times are UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise StateError("'expirationDate' must be an ISO 8601 date string") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_timestamp(value: datetime) -> str:
    """JavaScript's Date.toISOString() form, which hookshot writes."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


_LOCALPART_STRIP = re.compile(r"[^a-z0-9\-.=_]+")


def virtual_user_id(prefix: str, name: str, domain: str) -> str:
    """hookshot's per-hook sender: lower-cased name, characters outside a localpart dropped."""
    local = _LOCALPART_STRIP.sub("", name.lower())
    return f"@{prefix}{local or 'bot'}:{domain}"


@dataclass(frozen=True)
class GenericHook(Connection):
    """A room's inbound webhook."""

    hook_id: str
    state: GenericHookState
    secret: str | None = None  # set when the state requires one and it exists

    @property
    def address(self) -> str | None:
        return self.hook_id

    @property
    def name(self) -> str:
        return self.state.name

    @functools.cached_property
    def template(self) -> Template | None:
        """The compiled template (validated when the state was parsed)."""
        return compile_template(self.state.template) if self.state.template else None

    def expired(self, now: datetime | None = None) -> bool:
        expiry = self.state.expiration_date
        return expiry is not None and expiry <= (now or datetime.now(UTC))

    def message(
        self, content: Mapping[str, Any], *, user_id_prefix: str | None, domain: str
    ) -> OutgoingMessage:
        """The message for a rendered delivery: from the bot or the hook's virtual user."""
        group = connection_id(self.room_id, wire.GENERIC_HOOK, self.state_key)
        tag = digest_tag(group, f'webhook "{self.name}"', self.state.digest)
        if not user_id_prefix:
            return OutgoingMessage(room_id=self.room_id, content=content, digest=tag)
        return OutgoingMessage(
            room_id=self.room_id,
            content=content,
            sender=virtual_user_id(user_id_prefix, self.name, domain),
            displayname=f"{self.name} (Webhook)",
            digest=tag,
        )


def from_state(
    room_id: str,
    event_type: str,
    state_key: str,
    content: Mapping[str, Any],
    hook_id: str,
    secret: str | None = None,
) -> GenericHook:
    state = parse_state(content)
    register_secret(hook_id)
    register_secret(secret)
    return GenericHook(
        room_id=room_id,
        event_type=event_type,
        state_key=state_key,
        priority=state.priority,
        hook_id=hook_id,
        state=state,
        secret=secret if state.require_secret else None,
    )


def is_generic_hook_type(event_type: str) -> bool:
    return event_type in wire.GENERIC_HOOK_TYPES


def vet_function(
    hook: GenericHook, previous: GenericHook | None, *, js_enabled: bool
) -> tuple[GenericHook, str | None]:
    """Check a hook's transformation function before it is used: a function that does not
    compile is not taken (the previous one stays, as in hookshot) and the room is told why."""
    source = hook.state.transformation_function
    if source is None or (previous and previous.state.transformation_function == source):
        return hook, None
    if not js_enabled:
        return hook, (
            f"Webhook {hook.name}: transformation functions are disabled on this bridge "
            "(generic.allowJsTransformationFunctions), so it posts the default format."
        )
    error = compile_check(source)
    if error is None:
        return hook, None
    kept = previous.state.transformation_function if previous else None
    state = dataclasses.replace(hook.state, transformation_function=kept)
    # Say what the hook does now: a room admin fixing it must know nothing broke meanwhile.
    outcome = (
        "it keeps its previous transformation function"
        if kept is not None
        else "it posts the default format"
    )
    # The compiler's words in a code block, as hookshot shows them.
    detail = error.removeprefix(COMPILE_ERROR_PREFIX).strip()
    notice = f"{COMPILE_ERROR_PREFIX}\n\n```\n{detail}\n```\n\nWebhook {hook.name}: {outcome}."
    return dataclasses.replace(hook, state=state), notice


def refuse_bad_function(state: GenericHookState, *, js_enabled: bool) -> None:
    """For paths that can answer the writer (the widget): a function that does not compile
    is refused with the compiler's message, before any state is written."""
    source = state.transformation_function
    if source is None or not js_enabled:
        return
    error = compile_check(source)
    if error is not None:
        raise StateError(error)


async def vet(ctx: BuildContext, built: Connection, previous: Connection | None) -> Vetted:
    """A generic hook's checks after a state write: a required secret not set yet, and its
    transformation function (compiled in a thread; hooks without one skip the hand-off, as
    10k hooks at startup would be 10k of them)."""
    assert isinstance(built, GenericHook)
    notices = []
    if built.state.require_secret and built.secret is None:
        notices.append(
            f"Webhook {built.name} requires a secret but has none yet, so it refuses "
            f"every request. Use `!hookshot webhook secret {built.name}`."
        )
    hook = built
    if built.state.transformation_function is not None:
        before = previous if isinstance(previous, GenericHook) else None
        hook, warning = await asyncio.to_thread(
            vet_function, built, before, js_enabled=ctx.js_enabled
        )
        if warning:
            notices.append(warning)
    return Vetted(hook, tuple(notices))


async def forget(ctx: BuildContext, room_id: str, state_key: str) -> None:
    """The hook's state was removed: its hookId goes too (a new hook gets a new URL)."""
    await ctx.hook_ids.forget(room_id, state_key)


async def carry(ctx: BuildContext, old_room: str, new_room: str, state_key: str) -> None:
    """A room upgrade: the hook keeps its hookId (so its URL) and its secret."""
    hook_id = await ctx.hook_ids.find(old_room, state_key)
    if hook_id is None:
        return  # never built here: the new room mints its first hookId
    await ctx.hook_ids.assign(new_room, state_key, hook_id)
    if ctx.hook_secrets is not None:
        secret = await ctx.hook_secrets.get(old_room, hook_id)
        if secret is not None:
            await ctx.hook_secrets.put(new_room, hook_id, secret)


def find_hook(store: ConnectionStore, hook_id: str) -> GenericHook | None:
    """The generic hook with this (secret) hookId, if the store holds one."""
    found = store.addressed(hook_id)
    return found if isinstance(found, GenericHook) else None
