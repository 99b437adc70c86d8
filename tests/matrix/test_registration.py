"""Appservice registration: generation, writing, reading back and validation."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from hookshot.config import ConfigProblems, parse_config
from hookshot.matrix.registration import (
    Namespace,
    Registration,
    check_against_config,
    escape_regex,
    generate_registration,
    load_registration,
    parse_registration,
    write_registration,
)


def make_config(
    domain: str = "localhost", bind: str = "127.0.0.1", prefix: str | None = "_webhooks_"
) -> Any:
    generic: dict[str, Any] = {"enabled": True, "urlPrefix": "http://localhost:9000/webhook/"}
    if prefix is not None:
        generic["userIdPrefix"] = prefix
    return parse_config(
        {
            "bridge": {
                "domain": domain,
                "url": "http://localhost:8008",
                "port": 9993,
                "bindAddress": bind,
            },
            "listeners": [{"port": 9000, "resources": ["webhooks"]}],
            "generic": generic,
        }
    )


def test_generated_registration_shape() -> None:
    reg = generate_registration(make_config())
    assert reg["id"] == "hookshot"
    assert reg["url"] == "http://127.0.0.1:9993"
    assert reg["sender_localpart"] == "hookshot"
    assert reg["rate_limited"] is False
    assert reg["de.sorunome.msc2409.push_ephemeral"] is True
    assert reg["receive_ephemeral"] is True
    for key in ("as_token", "hs_token"):
        assert re.fullmatch(r"[0-9a-f]{64}", reg[key])
    assert reg["as_token"] != reg["hs_token"]
    assert reg["namespaces"] == {
        "users": [
            {"regex": "@hookshot:localhost", "exclusive": True},
            {"regex": "@_webhooks_.+:localhost", "exclusive": True},
        ],
        "aliases": [],
        "rooms": [],
    }
    # Tokens are fresh each time.
    assert generate_registration(make_config())["as_token"] != reg["as_token"]


def test_generated_registration_options() -> None:
    reg = generate_registration(
        make_config(prefix=None), id="my-bridge", url="http://bridge:9993", sender_localpart="bot"
    )
    assert (reg["id"], reg["url"], reg["sender_localpart"]) == (
        "my-bridge",
        "http://bridge:9993",
        "bot",
    )
    assert reg["namespaces"]["users"] == [{"regex": "@bot:localhost", "exclusive": True}]


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:9993"),
        ("::", "http://[::1]:9993"),
        ("10.0.0.5", "http://10.0.0.5:9993"),
        ("fd00::5", "http://[fd00::5]:9993"),
    ],
)
def test_default_url_is_dialable(bind: str, url: str) -> None:
    assert generate_registration(make_config(bind=bind))["url"] == url


@pytest.mark.parametrize(
    ("domain", "user", "expected"),
    [
        ("matrix.acme.test", "@_webhooks_ci:matrix.acme.test", True),
        ("matrix.acme.test", "@_webhooks_ci:matrixXacme.test", False),
        ("matrix.acme.test", "@_webhooks_:matrix.acme.test", False),
        ("matrix.acme.test:8448", "@_webhooks_ci:matrix.acme.test:8448", True),
        ("[::1]:8448", "@_webhooks_ci:[::1]:8448", True),
        ("[::1]:8448", "@_webhooks_ci:1:8448", False),
    ],
)
def test_namespace_regex_escapes_the_domain(domain: str, user: str, expected: bool) -> None:
    reg = parse_registration(generate_registration(make_config(domain=domain)))
    webhook_ns = reg.namespaces.users[1]
    assert webhook_ns.matches(user) is expected
    assert reg.owns_user(user, domain) is expected
    assert reg.owns_user(f"@hookshot:{domain}", domain)


def test_escape_regex_keeps_js_compatible_text() -> None:
    # Only metacharacters are escaped: "\-" or "\_" would not parse in every regex engine.
    assert escape_regex("a-b_c.d:80") == r"a-b_c\.d:80"
    assert escape_regex("[::1]") == r"\[::1\]"


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "registration.yml"
    reg = generate_registration(make_config())
    write_registration(path, reg)
    text = path.read_text()
    assert "rate_limited: false\n" in text  # a YAML boolean, not a string
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_registration(path)
    assert loaded == Registration(
        id="hookshot",
        url="http://127.0.0.1:9993",
        as_token=reg["as_token"],
        hs_token=reg["hs_token"],
        sender_localpart="hookshot",
        namespaces=loaded.namespaces,
        rate_limited=False,
        receive_ephemeral=True,
    )
    assert loaded.namespaces.users == (
        Namespace("@hookshot:localhost", True),
        Namespace("@_webhooks_.+:localhost", True),
    )
    assert loaded.to_dict() == reg
    # A second write keeps the tokens unless asked to replace them.
    with pytest.raises(FileExistsError):
        write_registration(path, generate_registration(make_config()))
    write_registration(path, loaded, overwrite=True)
    assert load_registration(path) == loaded


# hookshot's registration.sample.yml with its placeholders filled in.
HOOKSHOT_SAMPLE = """
id: matrix-hookshot
as_token: 4d6f0c1e0b9a6e7d2c3b4a5f6e7d8c9b
hs_token: 9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e
namespaces:
  rooms: []
  users:
    - regex: "@_github_.*:acme.test"
      exclusive: true
    - regex: "@_webhooks_.*:acme.test"
      exclusive: true
    - regex: "@feeds:acme.test"
      exclusive: true
  aliases:
    - regex: "#github_.+:acme.test"
      exclusive: true
sender_localpart: hookshot
url: "http://localhost:9993"
rate_limited: false
de.sorunome.msc2409.push_ephemeral: true
push_ephemeral: true
org.matrix.msc3202: true
"""


def test_hookshot_registration_loads() -> None:
    reg = parse_registration(yaml.safe_load(HOOKSHOT_SAMPLE))
    assert reg.id == "matrix-hookshot"
    assert reg.bot_user_id("acme.test") == "@hookshot:acme.test"
    assert reg.receive_ephemeral
    assert reg.rate_limited is False
    assert len(reg.namespaces.users) == 3
    assert reg.namespaces.aliases == (Namespace("#github_.+:acme.test", True),)
    assert reg.owns_user("@_webhooks_ci:acme.test", "acme.test")
    assert not reg.owns_user("@alice:acme.test", "acme.test")


def test_minimal_registration_defaults() -> None:
    reg = parse_registration(
        {"id": "x", "as_token": "a1", "hs_token": "h1", "sender_localpart": "bot", "url": None}
    )
    assert reg.url is None
    assert reg.rate_limited is True
    assert reg.receive_ephemeral is False
    assert reg.namespaces.users == ()


def test_registration_problems_are_reported_together() -> None:
    raw = {
        "id": "",
        "as_token": "aaaaaaaaaa",
        "hs_token": 12,
        "sender_localpart": "Hook Shot",
        "url": "localhost:9993",
        "rate_limited": "no",
        "namespaces": {
            "users": [{"regex": "@_hooks_(.*:x", "exclusive": True}, {"exclusive": True}],
            "rooms": "none",
            "aliases": [{"regex": "#a.*", "exclusive": "yes"}],
        },
    }
    with pytest.raises(ConfigProblems) as caught:
        parse_registration(raw)
    found = {p.key: p.message for p in caught.value.problems}
    assert found.keys() == {
        "id",
        "as_token",
        "hs_token",
        "sender_localpart",
        "url",
        "rate_limited",
        "namespaces.users.0.regex",
        "namespaces.users.1.regex",
        "namespaces.rooms",
        "namespaces.aliases.0.exclusive",
    }
    assert found["as_token"] == "is the sample's placeholder; use a random token"
    assert found["hs_token"] == "must be a string"
    assert found["namespaces.users.0.regex"].startswith("is not a valid regex")
    assert "problems in the registration" in str(caught.value)


def test_equal_tokens_are_refused() -> None:
    raw = {"id": "x", "as_token": "same1", "hs_token": "same1", "sender_localpart": "bot"}
    with pytest.raises(ConfigProblems) as caught:
        parse_registration(raw)
    assert [(p.key, p.message) for p in caught.value.problems] == [
        ("hs_token", "must differ from as_token")
    ]


def test_load_registration_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblems, match="cannot read"):
        load_registration(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("id: [unclosed")
    with pytest.raises(ConfigProblems, match="is not valid YAML"):
        load_registration(bad)
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    with pytest.raises(ConfigProblems) as caught:
        load_registration(empty)
    assert caught.value.source == str(empty)
    assert {p.key for p in caught.value.problems} == {
        "id",
        "as_token",
        "hs_token",
        "sender_localpart",
    }


def test_check_against_config() -> None:
    config = make_config()
    good = parse_registration(generate_registration(config))
    assert check_against_config(good, config) == ()
    bare = parse_registration(
        {
            "id": "x",
            "as_token": "a1",
            "hs_token": "h1",
            "sender_localpart": "bot",
            "url": "http://127.0.0.1:9999",
        }
    )
    warnings = check_against_config(bare, config)
    assert len(warnings) == 2
    assert "@_webhooks_.+:localhost" in warnings[0]
    assert "bridge.port 9993" in warnings[1]
