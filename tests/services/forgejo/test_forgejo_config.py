"""The `forgejo` config section, read through the Service registry."""

from __future__ import annotations

from typing import Any

import pytest

from hookshot.config import ConfigProblems, parse_config
from hookshot.services.forgejo.config import ForgejoConfig

BASE: dict[str, Any] = {
    "bridge": {"domain": "localhost", "url": "http://localhost:8008", "port": 9993},
    "listeners": [{"port": 9000, "resources": ["webhooks"]}],
    "permissions": [{"actor": "localhost", "services": [{"service": "*", "level": "admin"}]}],
}
GOOD = {"webhook": {"secret": "s"}, "instances": {"codeberg": {"url": "https://codeberg.org/"}}}


def test_a_forgejo_section_switches_the_service_on() -> None:
    config = parse_config({**BASE, "forgejo": GOOD})
    settings = config.services["forgejo"]
    assert isinstance(settings, ForgejoConfig)
    assert dict(settings.instances) == {"codeberg": "https://codeberg.org"}
    assert settings.webhook_secret == "s"
    assert config.enabled_services == ("forgejo",)
    assert config.warnings == ()
    assert settings.instance_for_url("https://codeberg.org/forgejo/forgejo") == (
        "codeberg",
        "forgejo/forgejo",
    )
    assert settings.instance_for_url("https://codeberg.org.evil/x/y") is None


def test_without_the_section_it_is_off() -> None:
    config = parse_config({**BASE, "generic": {"enabled": True, "urlPrefix": "http://x/"}})
    assert "forgejo" not in config.services and "forgejo" not in config.enabled_services


@pytest.mark.parametrize(
    ("section", "key", "message"),
    [
        ({"instances": GOOD["instances"]}, "forgejo.webhook", "is required"),
        ({"webhook": {"secret": "s"}}, "forgejo.instances", "is required"),
        ({**GOOD, "webhook": {}}, "forgejo.webhook.secret", "is required"),
        (
            {**GOOD, "instances": {"x": {"url": "ftp://x"}}},
            "forgejo.instances.x.url",
            "",
        ),
    ],
)
def test_problems_name_the_key(section: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(ConfigProblems) as caught:
        parse_config({**BASE, "forgejo": section})
    found = {p.key: p.message for p in caught.value.problems}
    assert key in found and found[key].startswith(message), found


def test_permissions_may_name_the_service() -> None:
    perms = [{"actor": "localhost", "services": [{"service": "forgejo", "level": "admin"}]}]
    config = parse_config({**BASE, "forgejo": GOOD, "permissions": perms})
    assert config.warnings == ()


def test_unknown_keys_are_warned_about() -> None:
    config = parse_config({**BASE, "forgejo": {**GOOD, "webhok": 1}})
    assert config.warnings == ("forgejo.webhok is not a known key and is ignored",)
