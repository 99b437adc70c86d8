"""Turns queued webhook jobs into send jobs: finds the connections an event is for (highest
priority first), lets each render its messages, and hands them to the send queue in the same
transaction that acknowledges the webhook job."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hookshot import wire
from hookshot.clients.github import GitHubApp
from hookshot.completions import WAITING_KEY, Completions, Outcome, response_payload, waited_for
from hookshot.connections.base import OutgoingMessage
from hookshot.connections.generic_hook import GenericHook
from hookshot.connections.github_notices import GitHubDefaults, notices
from hookshot.connections.github_repo import GitHubRepo
from hookshot.connections.gitlab_repo import GitLabRepo
from hookshot.debounce import JobDebouncer
from hookshot.delivery_log import DeliveryRecorder
from hookshot.errors import HookshotError
from hookshot.formatting.generic import assemble, render_generic
from hookshot.formatting.gitlab import ReviewActivity, project_ref
from hookshot.metrics import Metrics
from hookshot.outbox import send_jobs
from hookshot.queue.base import Job, Queue
from hookshot.review_batches import DiscussionThreads, ReviewBatcher
from hookshot.store import ConnectionStore
from hookshot.transform.formats import render_format
from hookshot.transform.js import run_transformation
from hookshot.transform.result import (
    TRANSFORM_FAILED_TEXT,
    TransformError,
    TransformResult,
    WebhookResponse,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RouterSettings:
    domain: str
    user_id_prefix: str | None
    include_hook_body: bool
    github: GitHubDefaults
    allow_js: bool = False
    label_delay: float = 5.0  # hookshot's issue label debounce
    review_delay: float = 5.0  # gitlab.commentDebounceMs, in seconds


def _label_burst_key(job: Job) -> str | None:
    """Issue label events are debounced per issue."""
    if job.payload.get("name") != "github.issues.labeled":
        return None
    body = job.payload.get("body")
    issue = body.get("issue") if isinstance(body, dict) else None
    repo = body.get("repository") if isinstance(body, dict) else None
    if not isinstance(issue, dict) or not isinstance(repo, dict):
        return None
    return f"{str(repo.get('full_name')).lower()}#{issue.get('number')}"


# Events whose notice quotes what the closer (or reopener) just commented, as in hookshot.
_COMMENTED_EVENTS = ("github.pull_request.closed", "github.issues.closed", "github.issues.reopened")

# hookshot quotes the closer's comment of the two minutes before the close.
CLOSING_WINDOW = timedelta(minutes=2)


class WebhookRouter:
    """Consumes the `webhook` topic until stopped."""

    def __init__(
        self,
        *,
        queue: Queue,
        store: ConnectionStore,
        completions: Completions,
        settings: RouterSettings,
        metrics: Metrics | None = None,
        threads: DiscussionThreads | None = None,
        github_app: GitHubApp | None = None,
        delivery_log: DeliveryRecorder | None = None,
        batch: int = 64,
    ) -> None:
        self._delivery_log = delivery_log
        self._github_app = github_app
        self._metrics = metrics
        self._responses: dict[str, WebhookResponse] = {}
        self.threads = threads or DiscussionThreads()
        self._reviews = ReviewBatcher(queue, self.threads, settings.review_delay)
        self._labels = JobDebouncer(queue, settings.label_delay, self._github_messages)
        self._queue = queue
        self._store = store
        self._completions = completions
        self._settings = settings
        self._batch = batch
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()
        self._reviews.cancel()
        self._labels.cancel()

    async def run(self) -> None:
        while not self._stopping.is_set():
            jobs = await self._queue.take(wire.TOPIC_WEBHOOK, self._batch, timeout=0.5)
            if jobs:
                await asyncio.gather(*(self._process(job) for job in jobs))

    async def messages_for(self, job: Job) -> Sequence[OutgoingMessage]:
        """What a generic or GitHub webhook job turns into (reads the store; JS runs in a
        worker thread). GitLab jobs go through `gitlab_routes`, which may batch them."""
        payload = job.payload
        kind = payload.get("kind")
        if kind == "generic":
            return await self._generic_messages(job)
        if kind == "github":
            return await self._github_messages(job)
        log.warning("webhook job %s of unknown kind %r dropped", job.id, kind)
        return []

    async def _generic_messages(self, job: Job) -> list[OutgoingMessage]:
        hook = self._store.hook(str(job.payload.get("hook_id")))
        if hook is None:
            log.info("webhook job %s: hook was removed before delivery", job.id)
            return []
        data = job.payload.get("body")
        include = self._settings.include_hook_body
        result = await self._transform(hook, data, job.id)
        if result is None:
            content = render_generic(data, include_hook_body=include)
        else:
            if result.webhook_response is not None:
                self._responses[job.id] = result.webhook_response
            if result.empty:
                return []
            content = assemble(
                result.plain or "",
                result.html,
                data,
                include_hook_body=include,
                msgtype=result.msgtype,
                extra=result.extra_content(),
            )
        return [
            hook.message(
                content, user_id_prefix=self._settings.user_id_prefix, domain=self._settings.domain
            )
        ]

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

    async def _github_messages(self, job: Job) -> list[OutgoingMessage]:
        body = job.payload.get("body")
        name = str(job.payload.get("name"))
        repo = body.get("repository") if isinstance(body, dict) else None
        full_name = repo.get("full_name") if isinstance(repo, dict) else None
        if not isinstance(body, dict) or not isinstance(full_name, str):
            return []
        conns = [
            c
            for c in self._store.routed(f"github:{full_name.lower()}")
            if isinstance(c, GitHubRepo)
        ]
        comment = diff = None
        if conns and name in _COMMENTED_EVENTS:
            comment = await self._closing_comment(full_name, body)
        if name == "github.pull_request.opened" and any(
            c.state.pr_diff and c.state.pr_diff.enabled for c in conns
        ):
            diff = await self._pr_diff(full_name, body)
        messages = []
        for conn in conns:
            notes = notices(conn, name, body, self._settings.github, comment=comment, diff=diff)
            for content in notes:
                messages.append(OutgoingMessage(room_id=conn.room_id, content=content))
        return messages

    async def _pr_diff(self, full_name: str, body: dict[str, Any]) -> str | None:
        """The diff of an opened pull request, for rooms with `prDiff` (via the GitHub App)."""
        pr = body.get("pull_request")
        number = pr.get("number") if isinstance(pr, dict) else None
        if self._github_app is None or not isinstance(number, int):
            return None
        try:
            client = await self._github_app.client_for_repo(full_name)
            return await client.get_pr_diff(full_name, number)
        except HookshotError as err:
            log.info("no diff for %s#%s: %s", full_name, number, err)
            return None

    async def _closing_comment(self, full_name: str, body: dict[str, Any]) -> str | None:
        """What the closer wrote when closing (GitHub sends it as a separate comment)."""
        if self._github_app is None:
            return None
        item = body.get("pull_request") or body.get("issue")
        sender = body.get("sender")
        if not isinstance(item, dict) or not isinstance(sender, dict):
            return None
        number, closer = item.get("number"), sender.get("login")
        changed_at = item.get("closed_at") or item.get("updated_at")
        if not isinstance(number, int) or not isinstance(changed_at, str):
            return None
        try:
            since = datetime.fromisoformat(changed_at.replace("Z", "+00:00")) - CLOSING_WINDOW
            client = await self._github_app.client_for_repo(full_name)
            comments = await client.list_issue_comments(full_name, number, since=since)
        except (HookshotError, ValueError) as err:
            log.info("no closing comment for %s#%s: %s", full_name, number, err)
            return None
        mine = [c.body for c in comments if c.user == closer and c.body]
        return mine[-1] if mine else None

    def gitlab_routes(
        self, job: Job
    ) -> tuple[list[OutgoingMessage], list[tuple[GitLabRepo, ReviewActivity]]]:
        """Notices to send now, and review activity to batch, for a GitLab delivery."""
        body = job.payload.get("body")
        if not isinstance(body, dict):
            return [], []
        name = str(job.payload.get("name"))
        header = job.payload.get("header")
        header = header if isinstance(header, str) else None
        project = project_ref(body)
        if project is None:
            return [], []
        instance = job.payload.get("instance") or project.instance_url
        instance = instance if isinstance(instance, str) else None
        messages: list[OutgoingMessage] = []
        reviews: list[tuple[GitLabRepo, ReviewActivity]] = []
        parts = project.path.lower().split("/")
        # The project itself, then each group above it (group connections, ours).
        for depth in range(len(parts), 0, -1):
            for conn in self._store.routed("gitlab:" + "/".join(parts[:depth])):
                if not isinstance(conn, GitLabRepo) or not conn.matches(instance, project.path):
                    continue
                activity = conn.review_activity(name, body, header=header)
                if activity is not None:
                    reviews.append((conn, activity))
                    continue
                content = conn.render(name, body, header=header)
                if content is not None:
                    messages.append(OutgoingMessage(room_id=conn.room_id, content=content))
        return messages, reviews

    async def _process(self, job: Job) -> None:
        # One bad job must not block the others: catch at the job boundary.
        try:
            label_key = _label_burst_key(job)
            if label_key is not None:
                self._labels.add(label_key, job)
                return
            if job.payload.get("kind") == "gitlab":
                messages, reviews = self.gitlab_routes(job)
                if reviews:
                    # Held (not acked) until its batches are posted; see review_batches.
                    if messages:
                        await self._queue.push(wire.TOPIC_SEND, send_jobs(job.id, messages))
                    self._reviews.add(job, reviews)
                    return
            else:
                messages = list(await self.messages_for(job))
        except Exception as err:
            log.exception("webhook job %s could not be rendered", job.id)
            if self._metrics is not None:
                kind = str(job.payload.get("kind"))
                self._metrics.connection_failed.labels(
                    kind, str(job.payload.get("hook_id", ""))
                ).inc()
            await self._queue.fail(job, f"{type(err).__name__}: {err}")
            self._completions.resolve(
                job.id,
                Outcome(ok=False, error="Failed to process webhook"),
                announce=waited_for(job.payload),
            )
            return
        response = self._responses.pop(job.id, None)
        follow_ups = send_jobs(job.id, messages, origin=job.id)
        for new in follow_ups:
            # The sender answers a request waiting for completion (waitForComplete).
            if waited_for(job.payload):
                new.payload[WAITING_KEY] = True  # type: ignore[index]
            if response is not None:
                new.payload["webhook_response"] = response_payload(response)  # type: ignore[index]
        await self._queue.ack(job, {wire.TOPIC_SEND: follow_ups} if follow_ups else None)
        if not follow_ups:
            self._completions.resolve(
                job.id,
                Outcome(ok=True, response=response_payload(response) if response else None),
                announce=waited_for(job.payload),
            )
