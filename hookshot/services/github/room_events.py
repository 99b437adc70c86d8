"""What GitHub does with room messages and reactions, as the sender (with their token):
a ✅/🔴 reply to a pull request notice reviews it, a reaction to an issue or PR notice is
added on GitHub, and `#123` in a room connected to a repository is answered with a hotlink."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from hookshot import wire
from hookshot.commands.context import CommandContext
from hookshot.errors import CommandError, MatrixError
from hookshot.services.github.access import GitHubAccess
from hookshot.services.github.hotlinks import (
    GITHUB_REACTIONS,
    hotlink_text,
    issue_mentions,
    review_verdict,
    strip_reply_fallback,
)
from hookshot.services.github.repo import GitHubRepo

log = logging.getLogger(__name__)


class GitHubRoomEvents:
    """The service's `room_message`, `unmatched_message` and `reaction` hooks."""

    def __init__(self, github: GitHubAccess) -> None:
        self._github = github

    async def _item(self, ctx: CommandContext, event_id: str, key: str) -> tuple[str, int] | None:
        """(repo, number) of a bot notice carrying `key` (issue or PR) in a connected room."""
        if ctx.matrix is None:
            return None
        try:
            notice = await ctx.matrix.get_event(ctx.room_id, event_id)
        except MatrixError:
            return None
        content = notice.get("content")
        if notice.get("sender") != ctx.matrix.bot_user_id or not isinstance(content, dict):
            return None
        item, repo = content.get(key), content.get(wire.GITHUB_REPO_KEY)
        if not isinstance(item, dict) or not isinstance(repo, dict):
            return None
        full_name, number = str(repo.get("name", "")), item.get("number")
        connected = any(
            isinstance(c, GitHubRepo) and c.full_name == full_name.lower()
            for c in ctx.store.in_room(ctx.room_id)
        )
        return (full_name, number) if connected and isinstance(number, int) else None

    async def reaction(self, ctx: CommandContext, relates: Mapping[str, Any]) -> None:
        """A reaction to an issue or PR notice is added on GitHub, as the reacting user."""
        reaction = GITHUB_REACTIONS.get(str(relates.get("key", "")))
        target = relates.get("event_id")
        if reaction is None or not isinstance(target, str):
            return
        item = await self._item(ctx, target, wire.GITHUB_ISSUE_KEY)
        if item is None:
            return
        try:
            async with await self._github.user_client(ctx.sender) as client:
                await client.add_issue_reaction(item[0], item[1], reaction)
        except CommandError as err:
            log.info("reaction by %s on %s#%s not mirrored: %s", ctx.sender, *item, err)

    async def review_reply(
        self, ctx: CommandContext, content: Mapping[str, Any], body: str
    ) -> bool:
        """A reply of ✅ (approve) or 🔴 (request changes) to a pull request notice reviews the
        pull request as the sender; the rest of the reply is the review's text."""
        relates = content.get("m.relates_to")
        reply = relates.get("m.in_reply_to") if isinstance(relates, Mapping) else None
        target = reply.get("event_id") if isinstance(reply, Mapping) else None
        verdict = review_verdict(strip_reply_fallback(body))
        if not isinstance(target, str) or verdict is None:
            return False
        item = await self._item(ctx, target, wire.GITHUB_PULL_REQUEST_KEY)
        if item is None:
            return False
        full_name, number = item
        event, text = verdict
        try:
            async with await self._github.user_client(ctx.sender) as client:
                await client.create_review(full_name, number, event, text)
        except CommandError as err:
            await ctx.react("⛔")
            await ctx.notice(f"Failed to handle command: {err}", html=False)
            return True
        await ctx.react("✅")
        return True

    async def hotlinks(self, ctx: CommandContext, body: str) -> None:
        """Reply to `#123` mentions in rooms connected to GitHub repositories."""
        for conn in ctx.store.in_room(ctx.room_id):
            if not isinstance(conn, GitHubRepo):
                continue
            prefix = conn.hotlink_prefix()
            numbers = issue_mentions(body, prefix) if prefix else []
            if not numbers:
                continue
            try:
                client = await self._github.user_client(ctx.sender)
            except CommandError:
                return  # hotlinks use the sender's GitHub access; without it, stay quiet
            async with client:
                for number in numbers:
                    try:
                        issue = await client.get_issue_or_pr(conn.full_name, number)
                    except CommandError:
                        continue
                    text = hotlink_text(
                        issue.number, issue.title, issue.state, issue.html_url, is_pr=issue.is_pr
                    )
                    await ctx.notice(text, reply_to=ctx.event_id)
            return
