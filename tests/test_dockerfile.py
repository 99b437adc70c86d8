"""No Docker engine runs here: check what can be checked of the image recipe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from support.paths import ROOT


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


def test_image_installs_the_locked_versions(tmp_path: Path) -> None:
    """The image's install step, run here: the locked set, the package not editable."""
    text = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    pinned = re.search(r"^UV_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert pinned is not None
    assert f"pip install uv=={pinned.group(1)}" in text
    assert "uv sync --locked --no-editable" in text
    uv = Path(sys.executable).parent / "uv"
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PROJECT_ENVIRONMENT": str(tmp_path / "image"),
    }
    env.pop("VIRTUAL_ENV", None)
    base_python = str(Path(sys.base_prefix) / "bin" / "python3")
    subprocess.run(
        [str(uv), "sync", "--quiet", "--locked", "--no-editable", "--python", base_python],
        cwd=ROOT,
        env=env,
        check=True,
    )
    python = tmp_path / "image" / "bin" / "python"
    found = subprocess.run(
        [str(python), "-c", "import hookshot, pytest"],
        cwd=tmp_path,  # not the checkout, which would shadow the installed package
        capture_output=True,
        text=True,
        check=False,
    )
    # The runtime has the package from site-packages and none of the dev tools.
    assert "No module named 'pytest'" in found.stderr
    where = subprocess.run(
        [str(python), "-c", _WHERE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.split() == ["site-packages", "True"]


# Where the package was imported from, and whether its data files (`make demo`'s pinned
# homeserver) came with it.
_WHERE = (
    "import hookshot, hookshot.dev.homeserver as d\n"
    "print('site-packages' if 'site-packages' in hookshot.__file__ else hookshot.__file__)\n"
    "print(d.SYNAPSE_REQUIREMENTS.is_file())"
)
