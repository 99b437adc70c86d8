"""A local bridge next to a local Synapse, for the demo and the end-to-end tests.

Writes a config and registration for loopback ports, starts Synapse (its own venv) with the
registration, and runs the bridge as a separate process, exactly as a user would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from hookshot.config import parse_config
from hookshot.core.tokens import generate_pass_file
from hookshot.dev.homeserver import HomeserverError, free_port
from hookshot.matrix.registration import generate_registration, write_registration


def bridge_config(
    *,
    homeserver_url: str,
    bridge_port: int,
    webhook_port: int,
    storage_path: Path,
    domain: str = "localhost",
    generic: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A hookshot-style config for a loopback setup."""
    config: dict[str, Any] = {
        "bridge": {
            "domain": domain,
            "url": homeserver_url,
            "port": bridge_port,
            "bindAddress": "127.0.0.1",
        },
        "listeners": [
            {
                "port": webhook_port,
                "bindAddress": "127.0.0.1",
                "resources": ["webhooks", "metrics", "widgets"],
            }
        ],
        "generic": {
            "enabled": True,
            "urlPrefix": f"http://127.0.0.1:{webhook_port}/webhook/",
            "userIdPrefix": "_webhooks_",
            "includeHookBody": True,
            **(generic or {}),
        },
        "permissions": [{"actor": domain, "services": [{"service": "*", "level": "admin"}]}],
        "bot": {"displayname": "Hookshot Bot"},
        "widgets": {
            "publicUrl": f"http://127.0.0.1:{webhook_port}/widgetapi/v1/static/",
            # `localhost` does not resolve the federation way: say where its homeserver is.
            "openIdOverrides": {domain: homeserver_url},
            "roomSetupWidget": {"addOnInvite": False},
        },
        "logging": {"level": "info"},
        "storage": {"path": str(storage_path)},
        "passFile": str(storage_path.parent / "passkey.pem"),
    }
    config.update(extra or {})
    return config


@dataclass
class BridgeFiles:
    """Config and registration files of one bridge instance."""

    root: Path
    bridge_port: int = field(default_factory=free_port)
    webhook_port: int = field(default_factory=free_port)
    appservice_id: str = "hookshot"
    sender_localpart: str = "hookshot"

    @property
    def config_path(self) -> Path:
        return self.root / "config.yml"

    @property
    def registration_path(self) -> Path:
        return self.root / "registration.yml"

    @property
    def webhook_base(self) -> str:
        return f"http://127.0.0.1:{self.webhook_port}"

    def write(self, homeserver_url: str, **overrides: Any) -> None:
        """Write config.yml (always) and registration.yml (once: its tokens must stay)."""
        self.root.mkdir(parents=True, exist_ok=True)
        raw = bridge_config(
            homeserver_url=homeserver_url,
            bridge_port=self.bridge_port,
            webhook_port=self.webhook_port,
            storage_path=self.root / "hookshot.db",
            **overrides,
        )
        self.config_path.write_text(yaml.safe_dump(raw, sort_keys=False))
        pass_file = Path(raw["passFile"])
        if not pass_file.exists():
            # 2048 bits: quick to make, and this key only guards a local test/demo stack.
            generate_pass_file(pass_file, bits=2048)
        if not self.registration_path.exists():
            reg = generate_registration(
                parse_config(raw),
                id=self.appservice_id,
                url=f"http://127.0.0.1:{self.bridge_port}",
                sender_localpart=self.sender_localpart,
            )
            write_registration(self.registration_path, reg)


# The resources of each role's one listener in a loopback cluster (a role serves only its
# own; a sender keeps `webhooks` listed because the config requires it with generic hooks).
ROLE_RESOURCES = {
    "all": ["webhooks", "metrics", "widgets"],
    "bridge": ["webhooks", "metrics", "widgets"],
    "webhooks": ["webhooks", "metrics"],
    "sender": ["webhooks", "metrics"],
}


def write_role_config(
    files: BridgeFiles,
    name: str,
    role: str,
    port: int,
    queue: dict[str, Any],
    *,
    bridge_port: int | None = None,
) -> Path:
    """A copy of `files`' config for one process of a scale-out cluster: its own listener
    port (and appservice port, for a standby bridge), and the shared `queue` section."""
    raw = yaml.safe_load(files.config_path.read_text())
    if bridge_port is not None:
        raw["bridge"]["port"] = bridge_port
    raw["listeners"] = [
        {"port": port, "bindAddress": "127.0.0.1", "resources": ROLE_RESOURCES[role]}
    ]
    raw["queue"] = queue
    path = files.root / f"config.{name}.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


class BridgeProcess:
    """`python -m hookshot config registration [--role R]` as a child process."""

    def __init__(
        self,
        files: BridgeFiles,
        log_path: Path | None = None,
        *,
        role: str = "all",
        config_path: Path | None = None,
        port: int | None = None,
    ) -> None:
        self.files = files
        self.role = role
        self.config_path = config_path or files.config_path
        self.base_url = f"http://127.0.0.1:{port}" if port else files.webhook_base
        self.log_path = log_path or files.root / "bridge.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 60.0, *, wait: bool = True, own_session: bool = False) -> None:
        """Start and (unless `wait` is false) wait until /ready answers 200.

        `own_session` keeps a terminal's Ctrl-C from reaching the bridge: the caller stops it
        (one signal, so the bridge's second-signal exit does not cut its stop short).
        """
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        argv = [
            sys.executable,
            "-m",
            "hookshot",
            str(self.config_path),
            str(self.files.registration_path),
            "--role",
            self.role,
        ]
        # The child keeps its own copy of the log descriptor; ours closes at once.
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=own_session,
            )
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self._proc is not None, "not started"
        deadline = time.monotonic() + timeout
        url = f"{self.base_url}/ready"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise HomeserverError(f"bridge exited with {self._proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise HomeserverError(f"bridge not ready after {timeout}s:\n{self.tail()}")

    def send_signal(self, sig: int) -> None:
        """Signal the running process (it stays ours: `wait` or `stop` it afterwards)."""
        assert self._proc is not None, "not started"
        self._proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        """Its exit code once it exits; raises subprocess.TimeoutExpired after `timeout`."""
        assert self._proc is not None, "not started"
        code = self._proc.wait(timeout)
        self._proc = None
        return code

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL if it does not exit in time."""
        return self._end(signal.SIGTERM, timeout)

    def kill(self) -> int | None:
        """SIGKILL: no chance to finish anything."""
        return self._end(signal.SIGKILL, 10.0)

    def _end(self, sig: int, timeout: float) -> int | None:
        proc, self._proc = self._proc, None
        code = None
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                code = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
        elif proc is not None:
            code = proc.returncode
        return code

    def tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
