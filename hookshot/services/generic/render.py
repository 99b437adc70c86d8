"""Generic webhook jobs into messages: the hook's template, built-in format or JS
transformation, else the default rendering of the body."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

from hookshot.core.connections import OutgoingMessage
from hookshot.core.queue.base import Job
from hookshot.core.service import Rendered
from hookshot.core.store import ConnectionStore
from hookshot.core.threads import ThreadAction, ThreadRef
from hookshot.ops.delivery_log import DeliveryRecorder
from hookshot.services.generic.format import assemble, render_generic
from hookshot.services.generic.hook import GenericHook, find_hook
from hookshot.services.generic.transform.formats import render_format
from hookshot.services.generic.transform.js import run_transformation
from hookshot.services.generic.transform.result import (
    TRANSFORM_FAILED_TEXT,
    TransformError,
    TransformResult,
    WebhookResponse,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenericRenderSettings:
    domain: str
    user_id_prefix: str | None
    include_hook_body: bool
    allow_js: bool = False


def response_payload(response: WebhookResponse) -> dict[str, Any]:
    """A transformation's webhookResponse as JSON for a job payload."""
    return {
        "body": response.body,
        "contentType": response.content_type,
        "statusCode": response.status_code,
    }


def threaded(message: OutgoingMessage, key: str, *, edit_root: bool) -> list[OutgoingMessage]:
    """`message` into the thread of `key` (in its room, whichever hook posts it), and with
    `edit_root` also as the thread root's new content."""
    subject = f"generic:{key}"
    messages = [replace(message, thread=ThreadRef(subject))]
    if edit_root:
        messages.append(replace(message, thread=ThreadRef(subject, ThreadAction.EDIT_ROOT)))
    return messages


class GenericRenderer:
    """Renders `kind: generic` jobs (one message per job, into the hook's room)."""

    def __init__(
        self,
        store: ConnectionStore,
        settings: GenericRenderSettings,
        delivery_log: DeliveryRecorder | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._delivery_log = delivery_log

    def stop(self) -> None:
        pass

    async def render(self, job: Job) -> Rendered:
        hook = find_hook(self._store, str(job.payload.get("hook_id")))
        if hook is None:
            log.info("webhook job %s: hook was removed before delivery", job.id)
            return Rendered()
        data = job.payload.get("body")
        include = hook.state.include_hook_body
        if include is None:
            include = self._settings.include_hook_body
        result = await self._transform(hook, data, job.id)
        response = None
        if result is None:
            content = render_generic(data, include_hook_body=include)
        else:
            if result.webhook_response is not None:
                response = response_payload(result.webhook_response)
            if result.empty:
                return Rendered(response=response)
            content = assemble(
                result.plain or "",
                result.html,
                data,
                include_hook_body=include,
                msgtype=result.msgtype,
                extra=result.extra_content(),
            )
        message = hook.message(
            content, user_id_prefix=self._settings.user_id_prefix, domain=self._settings.domain
        )
        if result is None or result.thread_key is None:
            return Rendered([message], response=response)
        # A built-in format's keys are used only when the hook opted in; a transformation's
        # author asked for theirs.
        from_format = hook.template is None and hook.state.format is not None
        if from_format and not hook.state.threads:
            return Rendered([message], response=response)
        messages = threaded(message, result.thread_key, edit_root=result.thread_edit_root)
        return Rendered(messages, response=response)

    async def _transform(
        self, hook: GenericHook, data: object, job_id: str
    ) -> TransformResult | None:
        """The hook's template, format or JS function result; None for the default rendering."""
        try:
            if hook.template is not None:
                return hook.template.render(data)
            if hook.state.format is not None:
                return render_format(hook.state.format, data)
            source = hook.state.transformation_function
            if source is not None and self._settings.allow_js:
                return await asyncio.to_thread(run_transformation, source, data)
        except TransformError as err:
            log.warning("webhook %s: transformation failed: %s", hook.hook_id, err)
            if self._delivery_log is not None:
                self._delivery_log.note(job_id, f"transformation failed: {err}")
            return TransformResult(plain=TRANSFORM_FAILED_TEXT)
        return None
