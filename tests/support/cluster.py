"""A scale-out hookshot on loopback: one `bridge`, N `webhooks` and M `sender` processes of
one appservice registration, sharing a Redis, each with its own config and listener port."""

from __future__ import annotations

import uuid
from pathlib import Path

from hookshot.dev.homeserver import free_port
from hookshot.dev.stack import BridgeFiles, BridgeProcess, write_role_config

# Short, so a SIGKILLed sender's jobs move to the other within seconds (default 30 s).
LEASE_SECONDS = 3


class Cluster:
    def __init__(self, files: BridgeFiles, *, webhooks: int = 2, senders: int = 2) -> None:
        self.files = files
        self.prefix = f"hookshot-test-{uuid.uuid4().hex[:8]}:"
        # The bridge's listener keeps the files' webhook port (OAuth callback, widgets).
        names = ["bridge"] + [f"webhooks-{i}" for i in range(1, webhooks + 1)]
        names += [f"sender-{i}" for i in range(1, senders + 1)]
        self.ports = {n: files.webhook_port if n == "bridge" else free_port() for n in names}
        self.procs: dict[str, BridgeProcess] = {}
        self.queue: dict[str, object] = {}

    @staticmethod
    def role_of(name: str) -> str:
        return name.split("-", 1)[0]

    @property
    def webhook_bases(self) -> list[str]:
        return [
            f"http://127.0.0.1:{port}"
            for name, port in self.ports.items()
            if self.role_of(name) == "webhooks"
        ]

    def configure(self, redis_url: str) -> None:
        """(Re)write every process's config for `redis_url`; the processes keep their ports."""
        self.queue = {"redisUri": redis_url, "prefix": self.prefix, "leaseSeconds": LEASE_SECONDS}
        for name, port in self.ports.items():
            path = write_role_config(self.files, name, self.role_of(name), port, self.queue)
            self.procs[name] = BridgeProcess(
                self.files,
                self.files.root / f"{name}.log",
                role=self.role_of(name),
                config_path=path,
                port=port,
            )

    def start(self, redis_url: str) -> None:
        """Start the bridge first (it publishes the hook directory the others wait for)."""
        self.configure(redis_url)
        try:
            for proc in self.procs.values():
                proc.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for proc in reversed(self.procs.values()):
            proc.stop()

    def logs(self) -> dict[str, Path]:
        return {name: proc.log_path for name, proc in self.procs.items()}
