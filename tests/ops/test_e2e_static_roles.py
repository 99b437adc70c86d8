"""Static connections (`connections:` in the config) in the scale-out roles: once the
restarted `bridge` says ready, every `webhooks` process answers for them at once."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import yaml
from conftest import CLUSTER_BOT, UserFactory
from support.cluster import Cluster
from support.flows import room_with_bot

from hookshot.dev.stack import write_role_config

HOOK = "uk.half-shot.matrix-hookshot.generic.hook"


async def test_static_connection_answers_from_the_first_request_after_ready(
    cluster: Cluster, new_user: UserFactory
) -> None:
    user = await new_user()
    room_id = await room_with_bot(user, CLUSTER_BOT)
    key = f"static-{uuid.uuid4().hex[:8]}"
    base_config = cluster.files.config_path.read_text()
    config = yaml.safe_load(base_config)
    config.setdefault("connections", []).append(
        {"connectionType": HOOK, "stateKey": key, "roomId": room_id, "state": {"name": "static"}}
    )
    bridge = cluster.procs["bridge"]
    try:
        cluster.files.config_path.write_text(yaml.safe_dump(config))
        write_role_config(cluster.files, "bridge", "bridge", cluster.ports["bridge"], cluster.queue)
        # The webhooks processes keep running with the old directory, as in a rolling deploy.
        await asyncio.to_thread(bridge.stop)
        await asyncio.to_thread(bridge.start)  # returns once /ready answers 200
    finally:
        cluster.files.config_path.write_text(base_config)
        write_role_config(cluster.files, "bridge", "bridge", cluster.ports["bridge"], cluster.queue)
    markers = [f"static-{n}-{uuid.uuid4().hex[:6]}" for n in range(len(cluster.webhook_bases))]
    async with httpx.AsyncClient() as http:
        for base, marker in zip(cluster.webhook_bases, markers, strict=True):
            resp = await http.post(f"{base}/webhook/{key}", json={"text": marker})
            assert resp.status_code == 202, resp.text
    for marker in markers:
        await user.wait_for_event(
            room_id, lambda e, m=marker: e.get("content", {}).get("body") == m, timeout=30
        )
