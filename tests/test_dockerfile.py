"""No Docker engine runs here: check what can be checked of the image recipe."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_every_copied_path_exists() -> None:
    text = (ROOT / "Dockerfile").read_text()
    sources = []
    for line in text.splitlines():
        match = re.match(r"COPY (?!--from)(.+) \S+$", line.strip())
        if match:
            sources += match.group(1).split()
    assert sources, "no COPY lines found"
    for source in sources:
        assert (ROOT / source).exists(), source


def test_widget_build_writes_where_the_image_copies_from() -> None:
    vite = (ROOT / "widgets" / "vite.config.ts").read_text()
    assert "widget_static" in vite
    assert (ROOT / "hookshot" / "widget_static" / "index.html").exists()


def test_entrypoint_runs_and_healthcheck_targets_live() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "hookshot", "/data/config.yml", "/data/registration.yml"]' in text
    assert "/live" in text and "USER hookshot" in text
    # The image's command is `python -m hookshot`; it must start and explain itself.
    out = subprocess.run(
        [sys.executable, "-m", "hookshot", "--help"], capture_output=True, text=True, check=True
    )
    assert "generate-registration" in out.stdout


def test_compose_file_parses() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"synapse", "redis", "hookshot", "sender", "webhooks-1", "webhooks-2"}
    roles = {}
    for name in ("hookshot", "sender", "webhooks-1", "webhooks-2"):
        command = services[name]["command"]
        assert command[:5] == [
            "python",
            "-m",
            "hookshot",
            "/data/config.yml",
            "/data/registration.yml",
        ]
        roles[name] = command[command.index("--role") + 1]
        assert services[name]["build"] == "."  # from the shared anchor
    assert sorted(roles.values()) == ["bridge", "sender", "webhooks", "webhooks"]
    assert "--appendonly" in services["redis"]["command"]
    # The command line the services use is one the CLI accepts.
    out = subprocess.run(
        [sys.executable, "-m", "hookshot", "run", "--help"], capture_output=True, text=True
    )
    assert "--role" in out.stdout and "webhooks" in out.stdout
