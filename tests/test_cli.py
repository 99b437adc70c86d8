"""The command line as an admin uses it: generate a registration, check a config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support.paths import ROOT

from hookshot.cli import main
from hookshot.matrix.registration import load_registration


def test_generate_registration_then_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yml"
    config.write_text((ROOT / "config.sample.yml").read_text())
    reg = tmp_path / "registration.yml"
    assert main(["generate-registration", str(config), "-o", str(reg)]) == 0
    loaded = load_registration(reg)
    assert loaded.sender_localpart == "hookshot" and len(loaded.as_token) == 64
    assert reg.stat().st_mode & 0o777 == 0o600
    # A second run must not replace the tokens the homeserver already knows.
    assert main(["generate-registration", str(config), "-o", str(reg)]) == 1
    assert load_registration(reg).as_token == loaded.as_token
    assert main(["check-config", str(config), str(reg)]) == 0
    assert "config OK" in capsys.readouterr().out


def test_check_config_lists_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = yaml.safe_load((ROOT / "config.sample.yml").read_text())
    raw["bridge"]["port"] = "not-a-port"
    raw["generic"]["urlPrefix"] = "nope"
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(raw))
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bridge.port" in err and "generic.urlPrefix" in err


def test_missing_files_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "absent.yml")]) == 2
    assert "absent.yml" in capsys.readouterr().err
    assert main([str(tmp_path / "absent.yml"), str(tmp_path / "reg.yml")]) == 2
