"""GitHub webhook jobs into notices for the repository connections that want them, with the
label debounce and the extra reads some notices need (the closer's comment, a PR's diff)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from hookshot.core.connections import OutgoingMessage
from hookshot.core.debounce import JobDebouncer
from hookshot.core.queue.base import Job, Queue, ValueStore
from hookshot.core.service import HELD, Rendered
from hookshot.core.store import ConnectionStore
from hookshot.errors import HookshotError
from hookshot.services.github.client import GitHubApp
from hookshot.services.github.notices import GitHubDefaults, notices
from hookshot.services.github.repo import GitHubRepo
from hookshot.services.github.subject_threads import SubjectTracker, threaded

log = logging.getLogger(__name__)

# Events whose notice quotes what the closer (or reopener) just commented, as in hookshot.
_COMMENTED_EVENTS = ("github.pull_request.closed", "github.issues.closed", "github.issues.reopened")

# hookshot quotes the closer's comment of the two minutes before the close.
CLOSING_WINDOW = timedelta(minutes=2)


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


class GitHubRenderer:
    """Renders `kind: github` jobs."""

    def __init__(
        self,
        queue: Queue,
        store: ConnectionStore,
        defaults: GitHubDefaults,
        app: GitHubApp | None = None,
        label_delay: float = 5.0,  # hookshot's issue label debounce
        values: ValueStore | None = None,  # subject states for `threads: true` connections
    ) -> None:
        self._store = store
        self._subjects = SubjectTracker(values)
        self._defaults = defaults
        self._app = app
        self._labels = JobDebouncer(queue, label_delay, self._messages)

    def stop(self) -> None:
        self._labels.cancel()

    async def render(self, job: Job) -> Rendered:
        label_key = _label_burst_key(job)
        if label_key is not None:
            self._labels.add(label_key, job)
            return HELD
        return Rendered(await self._messages(job))

    async def _messages(self, job: Job) -> list[OutgoingMessage]:
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
        changes = await self._subjects.observe(name, body) if any(c.threads for c in conns) else []
        messages = []
        for conn in conns:
            notes = notices(conn, name, body, self._defaults, comment=comment, diff=diff)
            previews = conn.show_url_previews(self._defaults.url_previews)
            tag = conn.digest_tag  # threaded messages keep their thread: never digested
            for message in threaded(conn, name, notes, changes, url_previews=previews):
                messages.append(replace(message, digest=tag) if tag else message)
        return messages

    async def _pr_diff(self, full_name: str, body: dict[str, Any]) -> str | None:
        """The diff of an opened pull request, for rooms with `prDiff` (via the GitHub App)."""
        pr = body.get("pull_request")
        number = pr.get("number") if isinstance(pr, dict) else None
        if self._app is None or not isinstance(number, int):
            return None
        try:
            client = await self._app.client_for_repo(full_name)
            return await client.get_pr_diff(full_name, number)
        except HookshotError as err:
            log.info("no diff for %s#%s: %s", full_name, number, err)
            return None

    async def _closing_comment(self, full_name: str, body: dict[str, Any]) -> str | None:
        """What the closer wrote when closing (GitHub sends it as a separate comment)."""
        if self._app is None:
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
            client = await self._app.client_for_repo(full_name)
            comments = await client.list_issue_comments(full_name, number, since=since)
        except (HookshotError, ValueError) as err:
            log.info("no closing comment for %s#%s: %s", full_name, number, err)
            return None
        mine = [c.body for c in comments if c.user == closer and c.body]
        return mine[-1] if mine else None
