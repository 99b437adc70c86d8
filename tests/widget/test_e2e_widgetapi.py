"""The widget API against the real homeserver: OpenID exchange, membership and power checks,
and creating, editing and deleting a webhook through it (the hook then works)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from conftest import UserFactory
from support.fake_github import FakeGitHub
from support.flows import command, notice_from, room_with_bot
from support.widget_api import widget_api, widget_session

from hookshot.dev.stack import BridgeProcess

BOT = "@hookshot:localhost"
HOOK = "uk.half-shot.matrix-hookshot.generic.hook"


async def test_openid_exchange_and_refusals(bridge: BridgeProcess, new_user: UserFactory) -> None:
    owner, outsider, member = await new_user(), await new_user(), await new_user()
    room_id = await room_with_bot(owner, BOT)
    await owner.invite(room_id, member.user_id)
    await member.join(room_id)
    async with httpx.AsyncClient() as http:
        forged = await http.post(
            widget_api(bridge, "/exchange_openid"),
            json={"matrixServer": "localhost", "openIdToken": "forged-token"},
        )
        assert forged.status_code == 401 and forged.json()["errcode"] == "M_AS_BAD_OPENID"
        no_token = await http.get(widget_api(bridge, "/session"))
        assert no_token.status_code == 401
        token = await widget_session(http, bridge, owner)
        session = await http.get(
            widget_api(bridge, "/session"), headers={"Authorization": f"Bearer {token}"}
        )
        assert session.json()["userId"] == owner.user_id

        outsider_token = await widget_session(http, bridge, outsider)
        denied = await http.get(
            widget_api(bridge, f"/{room_id}/connections"),
            headers={"Authorization": f"Bearer {outsider_token}"},
        )
        assert denied.status_code == 403 and denied.json()["errcode"] == "HS_NOT_IN_ROOM"

        member_token = await widget_session(http, bridge, member)
        create = await http.post(
            widget_api(bridge, f"/{room_id}/connections/{HOOK}"),
            json={"name": "sneaky"},
            headers={"Authorization": f"Bearer {member_token}"},
        )
        assert create.status_code == 403, create.text
        assert await owner.get_state(room_id, HOOK, "sneaky") is None


async def test_create_edit_delete_webhook(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    async with httpx.AsyncClient() as http:
        token = await widget_session(http, bridge, user)
        auth = {"Authorization": f"Bearer {token}"}
        created = await http.post(
            widget_api(bridge, f"/{room_id}/connections/{HOOK}"),
            json={"name": "widgethook"},
            headers=auth,
        )
        assert created.status_code == 200, created.text
        item: dict[str, Any] = created.json()
        url, conn_id = item["secrets"]["url"], item["id"]
        assert item["config"]["name"] == "widgethook"
        state = await user.get_state(room_id, HOOK, "widgethook")
        assert state is not None and state["name"] == "widgethook"

        posted = await http.post(url, json={"text": "via the widget"})
        assert posted.status_code == 202
        await user.wait_for_event(
            room_id, lambda e: e.get("content", {}).get("body") == "via the widget"
        )

        log = await http.get(
            widget_api(bridge, f"/{room_id}/connections/{conn_id}/log"), headers=auth
        )
        assert log.status_code == 200, log.text
        newest = log.json()["deliveries"][0]
        assert (newest["method"], newest["status"]) == ("POST", 202)
        assert newest["result"].startswith("sent $")

        # The bridge learns of the new state from the homeserver's echo: poll briefly.
        ids: list[str] = []
        for _ in range(50):
            listing = await http.get(
                widget_api(bridge, f"/{room_id}/connections/generic"), headers=auth
            )
            ids = [c["id"] for c in listing.json()["connections"]]
            if ids:
                break
            await asyncio.sleep(0.1)
        assert ids == [conn_id]

        edited = await http.patch(
            widget_api(bridge, f"/{room_id}/connections/{conn_id}"),
            json={"waitForComplete": True},
            headers=auth,
        )
        assert edited.status_code == 200, edited.text
        state = await user.get_state(room_id, HOOK, "widgethook")
        assert state is not None and state["waitForComplete"] is True

        deleted = await http.delete(
            widget_api(bridge, f"/{room_id}/connections/{conn_id}"), headers=auth
        )
        assert deleted.status_code == 200 and deleted.json() == {"ok": True}
        assert await user.get_state(room_id, HOOK, "widgethook") == {"disabled": True}
        for _ in range(50):
            if (await http.post(url, json={"text": "gone"})).status_code == 404:
                break
        else:
            raise AssertionError("the deleted hook still accepts requests")


async def test_setup_widget_command(bridge: BridgeProcess, new_user: UserFactory) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    await command(user, room_id, "!hookshot setup-widget")
    await user.wait_for_event(
        room_id, notice_from(BOT, "Please open the Hookshot Configuration widget")
    )
    widgets = [
        e for e in await user.room_state(room_id) if e["type"] == "im.vector.modular.widgets"
    ]
    assert len(widgets) == 1
    content = widgets[0]["content"]
    assert content["name"] == "Hookshot Configuration" and content["type"] == "m.custom"
    assert content["url"] == (
        f"{bridge.files.webhook_base}/widgetapi/v1/static/"
        "#/?kind=roomConfig&roomId=$matrix_room_id&widgetId=$matrix_widget_id"
    )
    await command(user, room_id, "!hookshot setup-widget")
    await user.wait_for_event(room_id, notice_from(BOT, "This room already has a setup widget"))


async def test_outbound_hook_and_targets_through_the_widgetwidget_api(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, BOT)
    async with httpx.AsyncClient() as http:
        token = await widget_session(http, bridge, user)
        auth = {"Authorization": f"Bearer {token}"}
        sections = (await http.get(widget_api(bridge, "/config/sections"), headers=auth)).json()
        assert sections["genericOutbound"] is True and sections["github"] is True
        created = await http.post(
            widget_api(
                bridge, f"/{room_id}/connections/uk.half-shot.matrix-hookshot.outbound-hook"
            ),
            json={"name": "relay", "url": "http://127.0.0.1:9/x", "method": "POST"},
            headers=auth,
        )
        assert created.status_code == 200, created.text
        item = created.json()
        assert item["config"] == {"name": "relay", "url": "http://127.0.0.1:9/x", "method": "POST"}
        assert item["secrets"]["token"].startswith("hs-ob-")
        state = await user.get_state(room_id, "uk.half-shot.matrix-hookshot.outbound-hook", "relay")
        assert state == {"name": "relay", "url": "http://127.0.0.1:9/x", "method": "POST"}

        # Without a GitHub token the picker says how to log in; with one it lists repos.
        targets_url = widget_api(bridge, "/targets/uk.half-shot.matrix-hookshot.github.repository")
        refused = await http.get(targets_url, headers=auth)
        assert refused.status_code == 400 and "not logged into GitHub" in refused.json()["error"]
    login = f"picker{uuid.uuid4().hex[:6]}"
    fake_github.add_repo(f"{login}/one", collaborators={login: "write"})
    gh_token = fake_github.add_user(login).token
    dm = await user.create_room(invite=[BOT], is_direct=True)
    await user.wait_for_event(dm, notice_from(BOT, "Hello!"))
    await command(user, dm, f"github setpersonaltoken {gh_token}")
    await user.wait_for_event(dm, notice_from(BOT, "Connected as"))
    async with httpx.AsyncClient() as http:
        token = await widget_session(http, bridge, user)
        listed = await http.get(targets_url, headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200, listed.text
    assert f"{login}/one" in [t["name"] for t in listed.json()]


# hookshot's answers (BridgeWidgetApi.getConfigSections, Config.getPublicConfigForService and
# the sections' `publicConfig`): the keys each service can carry.
HOOKSHOT_SECTIONS = {
    "general",
    "github",
    "gitlab",
    "generic",
    "genericOutbound",
    "jira",
    "figma",
    "feeds",
    "openproject",
}
HOOKSHOT_GENERIC_KEYS = {
    "userIdPrefix",
    "allowJsTransformationFunctions",
    "waitForComplete",
    "maxExpiryTime",
    "requireExpiryTime",
}


async def test_config_endpoints_answer_hookshots_keys(
    bridge: BridgeProcess, fake_github: FakeGitHub, new_user: UserFactory
) -> None:
    user = await new_user()
    async with httpx.AsyncClient() as http:
        auth = {"Authorization": f"Bearer {await widget_session(http, bridge, user)}"}
        sections = await http.get(widget_api(bridge, "/config/sections"), headers=auth)
        answers = {
            name: await http.get(widget_api(bridge, f"/service/{name}/config"), headers=auth)
            for name in (
                "generic",
                "genericOutbound",
                "github",
                "gitlab",
                "feeds",
                "jira",
                "figma",
                "openproject",
                "challengehound",
                "nonsense",
            )
        }
    assert sections.status_code == 200
    # Every section hookshot lists is there, switched off for what this bridge does not run.
    assert set(sections.json()) >= HOOKSHOT_SECTIONS
    assert {k: v for k, v in sections.json().items() if k in HOOKSHOT_SECTIONS} == {
        "general": True,
        "github": True,
        "gitlab": True,
        "generic": True,
        "genericOutbound": True,
        "jira": False,
        "figma": False,
        "feeds": True,
        "openproject": False,
    }
    assert all(isinstance(v, bool) for v in sections.json().values())

    config = {name: resp.json() for name, resp in answers.items()}
    assert all(answers[n].status_code == 200 for n in ("generic", "github", "gitlab", "feeds"))
    # hookshot leaves unset generic keys out; every key it would send for this config is here.
    generic = config["generic"]
    assert {"userIdPrefix", "allowJsTransformationFunctions", "requireExpiryTime"} <= set(generic)
    assert set(generic) <= HOOKSHOT_GENERIC_KEYS
    assert generic["userIdPrefix"] == "_webhooks_"
    assert generic["allowJsTransformationFunctions"] is True
    assert config["genericOutbound"] == {}
    # The GitHub App's page, read from GitHub, is where the widget sends people to install it.
    assert config["github"] == {
        "userIdPrefix": "_github_",
        "newInstallationUrl": f"{fake_github.url}/apps/hookshot",
    }
    assert config["gitlab"] == {"userIdPrefix": "_gitlab_"}
    assert config["feeds"] == {"pollIntervalSeconds": 1}
    for off in ("jira", "figma", "openproject", "challengehound"):
        assert answers[off].status_code == 404, off
        assert config[off] == {"errcode": "HS_DISABLED_FEATURE", "error": "Service is not enabled"}
    assert answers["nonsense"].status_code == 404
    assert config["nonsense"] == {
        "errcode": "HS_NOTFOUND",
        "error": "Not a known service, or service doesn't expose a config",
    }
