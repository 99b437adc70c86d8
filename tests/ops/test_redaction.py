"""Log redaction (pure): registered secret values, the URL and header shapes that carry a
secret whatever its value, the formatters every log line goes through (plain and JSON, with
%-args and tracebacks), and the secrets a config holds."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path

import pytest

from hookshot.config import parse_config
from hookshot.dev.stack import bridge_config
from hookshot.matrix.registration import generate_registration, parse_registration
from hookshot.ops.config_secrets import config_secrets, key_file_lines
from hookshot.ops.logs import PLAIN_FORMAT, JsonFormatter, RedactingFormatter
from hookshot.ops.redaction import (
    REDACTED,
    SecretRegistry,
    redact_shapes,
    trie_pattern,
)

HOOK_ID = "6f1d2a3b-7c4d-4e5f-8a9b-0c1d2e3f4a5b"
TOKEN = "ghp_" + "a1B2" * 9


@pytest.fixture
def registry() -> SecretRegistry:
    found = SecretRegistry()
    for value in (HOOK_ID, TOKEN, "s3cr3t/with+base64=", "pass word with spaces"):
        found.add(value)
    return found


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"job webhook:{HOOK_ID}:k1 sent", "job webhook:<redacted>:k1 sent"),
        (f"token {TOKEN}.", "token <redacted>."),
        (f'{{"access_token":"{TOKEN}"}}', '{"access_token":"<redacted>"}'),
        # Inside a longer word, between separators.
        (f"hs-ob-{HOOK_ID} and {HOOK_ID}_old", "hs-ob-<redacted> and <redacted>_old"),
        ("key s3cr3t/with+base64= end", "key <redacted> end"),
        ("said 'pass word with spaces'", "said '<redacted>'"),
        # Not a secret: a different word that merely starts like one stays readable.
        (f"{HOOK_ID[:20]} stays", f"{HOOK_ID[:20]} stays"),
        ("nothing here", "nothing here"),
    ],
)
def test_registered_values_are_redacted(registry: SecretRegistry, line: str, expected: str) -> None:
    assert registry.redact(line) == expected


def test_short_values_are_ignored_and_forgotten_ones_shown() -> None:
    registry = SecretRegistry()
    registry.add("test")  # a 4-character hook secret must not mangle every "test"
    registry.add("       ")
    registry.add(None)
    assert len(registry) == 0
    assert registry.redact("test testing") == "test testing"
    registry.add(HOOK_ID)
    registry.discard(HOOK_ID)
    assert registry.redact(HOOK_ID) == HOOK_ID


def test_runtime_values_are_bounded_and_pinned_ones_kept() -> None:
    registry = SecretRegistry(runtime_limit=3)
    registry.add("as-token-value", pinned=True)
    ids = [str(uuid.uuid4()) for _ in range(5)]
    for hook_id in ids:
        registry.add(hook_id)
    assert [hook_id in registry for hook_id in ids] == [False, False, True, True, True]
    assert "as-token-value" in registry
    registry.discard("as-token-value")  # pinned: a config secret stays hidden
    assert registry.redact("as-token-value") == REDACTED
    registry.add("not/a+word")  # the oldest runtime value pushed out also leaves the regex
    for hook_id in ids[:3]:
        registry.add(hook_id)
    assert registry.redact("not/a+word") == "not/a+word"


def test_others_pattern_is_rebuilt_when_the_set_changes() -> None:
    registry = SecretRegistry()
    registry.add("first+secret")
    assert registry.redact("first+secret second+secret") == f"{REDACTED} second+secret"
    registry.add("second+secret")
    assert registry.redact("first+secret second+secret") == f"{REDACTED} {REDACTED}"
    registry.discard("first+secret")
    assert registry.redact("first+secret second+secret") == f"first+secret {REDACTED}"


def test_trie_pattern_prefers_the_longest_value() -> None:
    pattern = trie_pattern(["abc+def", "abc+defgh", "x/y/z/w"])
    assert pattern is not None
    assert pattern.sub("#", "abc+defghi abc+def x/y/z/w") == "#i # #"
    assert trie_pattern([]) is None
    long_value = "x+" * 5000  # no recursion per character
    long_pattern = trie_pattern([long_value, long_value + "y"])
    assert (
        long_pattern is not None and long_pattern.sub("#", f"{long_value}y {long_value}") == "# #"
    )


def test_many_hook_ids_cost_little_per_line() -> None:
    """10k hook ids: adding stays a set insert and a line is one word scan (a plain regex
    alternation of 10k values took ~14 ms per line). Counted by the set's size, not timed."""
    registry = SecretRegistry()
    ids = [str(uuid.uuid4()) for _ in range(10_000)]
    for hook_id in ids:
        registry.add(hook_id)
    assert len(registry) == 10_000
    line = f"POST for {ids[1234]} and {ids[-1]} failed: HTTP 500"
    assert registry.redact(line) == f"POST for {REDACTED} and {REDACTED} failed: HTTP 500"
    assert registry._others_regex() is None  # uuids never reach the regex


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '127.0.0.1:4711 - "POST /webhook/abc-123 HTTP/1.1" 202',
            '127.0.0.1:4711 - "POST /webhook/<redacted> HTTP/1.1" 202',
        ),
        (
            "hook URL https://hooks.example.org/prefix/webhook/abc-123/extra?x=1",
            "hook URL https://hooks.example.org/prefix/webhook/<redacted>/extra?x=1",
        ),
        # Legacy root hooks: any single-segment path in a request line but the bridge's own.
        (
            '127.0.0.1:4711 - "PUT /0d9e-unknown-id?x=1 HTTP/1.1" 404',
            '127.0.0.1:4711 - "PUT /<redacted>?x=1 HTTP/1.1" 404',
        ),
        (
            '"GET /ready HTTP/1.1" "GET /live?x HTTP/1.1" "GET /metrics" "POST / HTTP/1.1"',
            '"GET /ready HTTP/1.1" "GET /live?x HTTP/1.1" "GET /metrics" "POST / HTTP/1.1"',
        ),
        (
            '"GET /github/oauth?code=c0de&state=st4te HTTP/1.1"',
            '"GET /github/oauth?code=<redacted>&state=<redacted> HTTP/1.1"',
        ),
        (
            "PUT http://127.0.0.1:9/_matrix/app/v1/transactions/1?access_token=hs123 failed",
            "PUT http://127.0.0.1:9/_matrix/app/v1/transactions/1?access_token=<redacted> failed",
        ),
        ("Authorization: Bearer abc.def", "Authorization: Bearer <redacted>"),
        (
            "{'authorization': 'token xyz', 'X-Gitlab-Token': 'glt', 'accept': 'a'}",
            "{'authorization': 'token <redacted>', 'X-Gitlab-Token': '<redacted>', 'accept': 'a'}",
        ),
        ('"x-matrix-hookshot-token": "hs-ob-1"', '"x-matrix-hookshot-token": "<redacted>"'),
        # httpx's own masking is left alone.
        ("{'authorization': '[secure]'}", "{'authorization': '[secure]'}"),
        ("redis://:pa55@redis:6379/0", "redis://:<redacted>@redis:6379/0"),
        (
            "command 'github setpersonaltoken ghp_x' in !r:hs failed",
            "command 'github setpersonaltoken <redacted>' in !r:hs failed",
        ),
        ("say `gitlab personaltoken <token>`", "say `gitlab personaltoken <token>`"),
        (
            "GitHub delivery 72d3162e-cc78-11e3 received",
            "GitHub delivery 72d3162e-cc78-11e3 received",
        ),
    ],
)
def test_shapes_that_carry_secrets(line: str, expected: str) -> None:
    assert redact_shapes(line) == expected


def _record(
    msg: str, *args: object, exc: bool = False, name: str = "hookshot.test"
) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError(f"request to /webhook/{HOOK_ID} failed with {TOKEN}")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)


def _clean(text: str) -> str:
    registry = SecretRegistry()
    registry.add(TOKEN)
    registry.add('quote"d+secret')
    return registry.redact(redact_shapes(text))


def test_plain_formatter_redacts_args_and_tracebacks() -> None:
    formatter = RedactingFormatter(logging.Formatter(PLAIN_FORMAT), _clean)
    out = formatter.format(_record("token %s for %s", TOKEN, "x", exc=True))
    assert TOKEN not in out and HOOK_ID not in out
    assert "token <redacted> for x" in out
    assert "RuntimeError: request to /webhook/<redacted> failed with <redacted>" in out


def test_uvicorn_access_line_is_redacted() -> None:
    formatter = RedactingFormatter(logging.Formatter(PLAIN_FORMAT), _clean)
    record = _record(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:4711",
        "POST",
        f"/webhook/{HOOK_ID}?token={TOKEN}",
        "1.1",
        202,
        name="uvicorn.access",
    )
    assert formatter.format(record).endswith(
        'uvicorn.access: 127.0.0.1:4711 - "POST /webhook/<redacted>?token=<redacted> HTTP/1.1" 202'
    )


def test_json_formatter_redacts_before_escaping() -> None:
    # Escaped first, `quote"d+secret` would be `quote\"d+secret` and no longer match.
    out = JsonFormatter(_clean).format(_record("a %s here", 'quote"d+secret', exc=True))
    entry = json.loads(out)
    assert entry["message"] == "a <redacted> here"
    assert "d+secret" not in out and TOKEN not in out and HOOK_ID not in out
    assert "/webhook/<redacted>" in entry["error"]
    stack = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None, sinfo=f"at {TOKEN}")
    assert json.loads(JsonFormatter(_clean).format(stack))["stack"] == f"at {REDACTED}"


def test_key_file_lines_skip_the_armour() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQ+/==\nAbCdEfGh\n-----END PRIVATE KEY-----\n"
    assert key_file_lines(pem) == ["MIIEvQ+/==", "AbCdEfGh"]


def test_config_secrets_cover_tokens_keys_and_passwords(tmp_path: Path) -> None:
    pass_file = tmp_path / "passkey.pem"
    pass_file.write_text(
        "-----BEGIN PRIVATE KEY-----\nPASSFILEBODYLINE+/\n-----END PRIVATE KEY-----\n"
    )
    raw = bridge_config(
        homeserver_url="http://127.0.0.1:8008",
        bridge_port=9993,
        webhook_port=9000,
        storage_path=tmp_path / "hookshot.db",
        extra={
            "passFile": str(pass_file),
            "github": {
                "webhook": {"secret": "github-webhook-secret"},
                "oauth": {
                    "client_id": "client-id",
                    "client_secret": "github-client-secret",
                    "redirect_uri": "http://127.0.0.1:9000/github/oauth",
                },
            },
            "gitlab": {
                "instances": {"gl": {"url": "https://gitlab.example"}},
                "webhook": {"secret": "gitlab-webhook-secret"},
            },
            "forgejo": {
                "instances": {"fj": {"url": "https://forgejo.example"}},
                "webhook": {"secret": "forgejo-webhook-secret"},
            },
            "queue": {"redisUri": "redis://:redis-password@127.0.0.1:6379/0"},
            "jira": {"oauth": {"client_secret": "jira-client-secret"}},
        },
    )
    config = parse_config(raw)
    registration = parse_registration(
        generate_registration(config, id="hookshot", url="http://127.0.0.1:9993")
    )
    found = set(config_secrets(config, registration))
    assert {
        registration.as_token,
        registration.hs_token,
        "PASSFILEBODYLINE+/",
        "github-webhook-secret",
        "github-client-secret",
        "gitlab-webhook-secret",
        "forgejo-webhook-secret",
        "redis-password",
        "jira-client-secret",
    } <= found
    # Paths, URLs and ids are not secrets (they explain a log line).
    assert not found & {str(pass_file), "client-id", "http://127.0.0.1:8008", "hookshot"}
