"""GitHub delivery checks (pure): signatures, payload decoding, event names."""

import json
from urllib.parse import urlencode

import pytest

from hookshot.core.signatures import github_signature, github_signature_valid, token_valid
from hookshot.errors import WebhookError
from hookshot.services.github.intake import decode_payload, event_name

BODY = b'{"action": "opened", "repository": {"full_name": "Octo/Hello"}}'


def test_signature_matches_githubs_documented_example() -> None:
    # From GitHub's docs ("Validating webhook deliveries"): secret and payload below.
    sig = github_signature("It's a Secret to Everybody", b"Hello, World!")
    assert sig == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


@pytest.mark.parametrize(
    ("header", "valid"),
    [
        (github_signature("s3cret", BODY), True),
        (github_signature("s3cret", BODY) + "\n", True),
        (github_signature("other", BODY), False),
        (github_signature("s3cret", BODY + b" "), False),
        ("sha1=" + "0" * 40, False),
        ("", False),
        ("sha256=" + "é" * 64, False),
    ],
)
def test_signature_validation(header: str, valid: bool) -> None:
    assert github_signature_valid("s3cret", BODY, header) is valid


def test_token_validation() -> None:
    assert token_valid("abc", "abc")
    assert not token_valid("abc", "abd")
    assert not token_valid("abc", "")


def test_decode_json_and_form() -> None:
    assert decode_payload("application/json", BODY)["action"] == "opened"
    form = urlencode({"payload": BODY.decode()}).encode()
    assert decode_payload("application/x-www-form-urlencoded", form)["action"] == "opened"


@pytest.mark.parametrize(
    ("ctype", "body", "status"),
    [
        ("application/json", b"[1, 2]", 400),
        ("application/json", b"{broken", 400),
        ("application/x-www-form-urlencoded", b"nothing=here", 400),
        ("application/x-www-form-urlencoded", urlencode({"payload": "{nope"}).encode(), 400),
        ("application/json", b"[" * 5000 + b"]" * 5000, 400),
    ],
)
def test_decode_refuses(ctype: str, body: bytes, status: int) -> None:
    with pytest.raises(WebhookError) as err:
        decode_payload(ctype, body)
    assert err.value.status == status


@pytest.mark.parametrize(
    ("event", "payload", "name"),
    [
        ("issues", {"action": "opened"}, "github.issues.opened"),
        ("push", {"ref": "refs/heads/main"}, "github.push"),
        ("ping", {"zen": "x", "action": ""}, "github.ping"),
        ("pull_request", json.loads('{"action": "closed"}'), "github.pull_request.closed"),
    ],
)
def test_event_name(event: str, payload: dict[str, object], name: str) -> None:
    assert event_name(event, payload) == name
