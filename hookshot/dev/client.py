"""A real Matrix user for the demo and the end-to-end tests: a thin async client."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Self
from urllib.parse import quote

import httpx

from hookshot.dev.homeserver import aregister_user
from hookshot.errors import MatrixError

JsonDict = dict[str, Any]

# Keep /sync answers small: we only look at invites and never at presence.
_SYNC_FILTER = json.dumps(
    {"room": {"timeline": {"limit": 1}}, "presence": {"types": []}, "account_data": {"types": []}}
)


def _q(value: str) -> str:
    """Quote an id (`!room:hs`, `@user:hs`) as one path segment."""
    return quote(value, safe="")


def _is_creator_room(create: JsonDict) -> bool:
    """Room version 12+ gives creators infinite power, outside `power_levels.users`."""
    version = str(create.get("content", {}).get("room_version", "1"))
    return version.isdigit() and int(version) >= 12


class MatrixUser:
    """One registered user with its own access token and HTTP client."""

    def __init__(self, base_url: str, user_id: str, access_token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_id = user_id
        self.access_token = access_token
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=30.0,
        )

    @classmethod
    async def create(cls, base_url: str, shared_secret: str, username: str | None = None) -> Self:
        """Register a fresh user (random name unless given) and return a client for it."""
        username = username or f"user-{secrets.token_hex(4)}"
        user_id, token = await aregister_user(
            base_url, shared_secret, username, secrets.token_hex(12)
        )
        return cls(base_url, user_id, token)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: JsonDict | None = None,
        params: dict[str, str | int] | None = None,
        http_timeout: float | None = None,
    ) -> Any:
        """Call the client API (`path` after `/_matrix/client/v3`); raise MatrixError on non-2xx."""
        url = path if path.startswith("/_") else f"/_matrix/client/v3{path}"
        response = await self._client.request(
            method,
            url,
            json=json_body,
            params=params,
            timeout=http_timeout if http_timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        if response.is_success:
            return response.json()
        try:
            error = response.json()
        except ValueError:
            error = {}
        raise MatrixError(
            response.status_code,
            str(error.get("errcode", "M_UNKNOWN")),
            f"{method} {url}: {error.get('error', response.text)}",
        )

    async def create_room(
        self,
        invite: Sequence[str] = (),
        name: str | None = None,
        is_direct: bool = False,
        power_level_content_override: JsonDict | None = None,
        preset: str = "private_chat",
    ) -> str:
        """Create a room and return its id."""
        body: JsonDict = {"preset": preset, "invite": list(invite), "is_direct": is_direct}
        if name is not None:
            body["name"] = name
        if power_level_content_override is not None:
            body["power_level_content_override"] = power_level_content_override
        return str((await self.request("POST", "/createRoom", json_body=body))["room_id"])

    async def invite(self, room_id: str, user_id: str) -> None:
        """Invite `user_id` into the room."""
        await self.request("POST", f"/rooms/{_q(room_id)}/invite", json_body={"user_id": user_id})

    async def join(self, room_id: str) -> str:
        """Join a room by id or alias; return the room id."""
        return str((await self.request("POST", f"/join/{_q(room_id)}", json_body={}))["room_id"])

    async def leave(self, room_id: str) -> None:
        """Leave (or reject the invite to) a room."""
        await self.request("POST", f"/rooms/{_q(room_id)}/leave", json_body={})

    async def send_event(self, room_id: str, event_type: str, content: JsonDict) -> str:
        """Send a message event; return its event id."""
        path = f"/rooms/{_q(room_id)}/send/{_q(event_type)}/{uuid.uuid4().hex}"
        return str((await self.request("PUT", path, json_body=content))["event_id"])

    async def send_text(self, room_id: str, body: str) -> str:
        """Send a plain `m.text` message; return its event id."""
        return await self.send_event(room_id, "m.room.message", {"msgtype": "m.text", "body": body})

    async def send_state(
        self, room_id: str, event_type: str, state_key: str, content: JsonDict
    ) -> str:
        """Write a state event; return its event id."""
        path = f"/rooms/{_q(room_id)}/state/{_q(event_type)}/{_q(state_key)}"
        return str((await self.request("PUT", path, json_body=content))["event_id"])

    async def get_state(
        self, room_id: str, event_type: str, state_key: str = ""
    ) -> JsonDict | None:
        """The content of a state event, or None if the room has none."""
        path = f"/rooms/{_q(room_id)}/state/{_q(event_type)}/{_q(state_key)}"
        try:
            content: JsonDict = await self.request("GET", path)
        except MatrixError as error:
            if error.status == 404:
                return None
            raise
        return content

    async def room_state(self, room_id: str) -> list[JsonDict]:
        """Every current state event of the room (full events, with senders)."""
        events: list[JsonDict] = await self.request("GET", f"/rooms/{_q(room_id)}/state")
        return events

    async def set_power_level(self, room_id: str, user_id: str, level: int) -> None:
        """Give `user_id` a power level, keeping the rest of `m.room.power_levels`."""
        state = await self.room_state(room_id)
        create = next(e for e in state if e["type"] == "m.room.create")
        if _is_creator_room(create):
            creators = {create["sender"], *create["content"].get("additional_creators", [])}
            # Synapse rejects power levels that list a creator; their power is already infinite.
            if user_id in creators:
                raise ValueError(f"{user_id} created {room_id}; creators have no power level")
        content = await self.get_state(room_id, "m.room.power_levels") or {}
        content.setdefault("users", {})[user_id] = level
        await self.send_state(room_id, "m.room.power_levels", "", content)

    async def messages(self, room_id: str, limit: int = 100) -> list[JsonDict]:
        """The latest `limit` timeline events of a room, oldest first."""
        params: dict[str, str | int] = {"dir": "b", "limit": limit}
        body = await self.request("GET", f"/rooms/{_q(room_id)}/messages", params=params)
        chunk: list[JsonDict] = body.get("chunk", [])
        return chunk[::-1]

    async def wait_for_event(
        self,
        room_id: str,
        predicate: Callable[[JsonDict], bool],
        # The wait itself builds the failure message from what it saw, so it owns the deadline.
        timeout: float = 15.0,
        limit: int = 100,
    ) -> JsonDict:
        """Poll the room until an event matches `predicate`; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            events = await self.messages(room_id, limit)
            for event in events:
                if predicate(event):
                    return event
            if time.monotonic() > deadline:
                seen = "\n".join(
                    f"  {e.get('type')} from {e.get('sender')}: {json.dumps(e.get('content'))}"
                    for e in events
                )
                raise AssertionError(
                    f"no matching event in {room_id} within {timeout} s; seen:\n{seen}"
                )
            await asyncio.sleep(0.05)

    async def wait_for_membership(
        self, room_id: str, user_id: str, membership: str = "join", timeout: float = 20.0
    ) -> JsonDict:
        """Wait for `user_id`'s membership event in the room to say `membership`."""
        return await self.wait_for_event(
            room_id,
            lambda e: (
                e.get("type") == "m.room.member"
                and e.get("state_key") == user_id
                and e.get("content", {}).get("membership") == membership
            ),
            timeout=timeout,
        )

    async def joined_rooms(self) -> list[str]:
        """Ids of the rooms this user is joined to."""
        return [str(r) for r in (await self.request("GET", "/joined_rooms"))["joined_rooms"]]

    async def wait_for_invite(
        self,
        timeout: float = 15.0,
        inviter: Callable[[str], bool] | None = None,
    ) -> str:
        """Sync until this user has a pending invite (from an inviter matching `inviter`)."""
        deadline = time.monotonic() + timeout
        since: str | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.user_id} got no matching invite within {timeout} s")
            params: dict[str, str | int] = {
                "filter": _SYNC_FILTER,
                "timeout": int(min(remaining, 5.0) * 1000),
            }
            if since is not None:
                params["since"] = since
            body = await self.request("GET", "/sync", params=params, http_timeout=remaining + 10)
            since = str(body["next_batch"])
            for room_id, room in body.get("rooms", {}).get("invite", {}).items():
                if inviter is None or inviter(self._inviter(room)):
                    return str(room_id)

    def _inviter(self, invited_room: JsonDict) -> str:
        """The sender of our own invite membership in a `rooms.invite` entry."""
        for event in invited_room.get("invite_state", {}).get("events", []):
            if event.get("type") == "m.room.member" and event.get("state_key") == self.user_id:
                return str(event.get("sender", ""))
        return ""

    async def openid_token(self) -> JsonDict:
        """Request an OpenID token (`access_token`, `matrix_server_name`, `expires_in`)."""
        path = f"/user/{_q(self.user_id)}/openid/request_token"
        token: JsonDict = await self.request("POST", path, json_body={})
        return token
