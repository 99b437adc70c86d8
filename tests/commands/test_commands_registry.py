"""Command parsing and matching (pure)."""

import pytest

from hookshot.commands import registry
from hookshot.commands.registry import CommandSet
from hookshot.errors import CommandError

commands = CommandSet()
calls: list[tuple[str, ...]] = []


@commands.command(
    "webhook", "Create", required=("name",), optional=("duration",), category="webhook"
)
async def _create(*args: str) -> None:
    calls.append(("create", *args))


@commands.command("webhook list", "List", category="webhook")
async def _list(*args: str) -> None:
    calls.append(("list", *args))


@commands.command("help", "Help")
async def _help(*args: str) -> None:
    calls.append(("help", *args))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!hookshot webhook demo", ["webhook", "demo"]),
        ("  !hookshot   webhook   demo  ", ["webhook", "demo"]),
        ('!hookshot webhook "my hook" 30d', ["webhook", "my hook", "30d"]),
        ("!HOOKSHOT help", ["help"]),
        ("!hookshot", []),
        ("!hookshotx help", None),
        ("hello !hookshot help", None),
        ("", None),
    ],
)
def test_split_command(body: str, expected: list[str] | None) -> None:
    assert registry.split_command(body, "!hookshot") == expected


def test_unbalanced_quotes_are_an_error() -> None:
    with pytest.raises(CommandError, match="Could not parse"):
        registry.split_command('!hookshot webhook "oops', "!hookshot")


def test_longest_match_wins() -> None:
    found = commands.match(["webhook", "list"])
    assert found is not None and found[0].words == "webhook list" and found[1] == []
    found = commands.match(["Webhook", "demo"])
    assert found is not None and found[0].words == "webhook" and found[1] == ["demo"]
    assert commands.match(["nothing"]) is None


async def test_run_checks_arity() -> None:
    cmd, _ = commands.match(["webhook"]) or (None, None)
    assert cmd is not None
    with pytest.raises(CommandError, match="Missing at least one required parameter"):
        await registry.run(cmd, [])
    with pytest.raises(CommandError, match="Too many parameters"):
        await registry.run(cmd, ["a", "b", "c"])
    calls.clear()
    await registry.run(cmd, ["demo", "7d"])
    assert calls == [("create", "demo", "7d")]


def test_help_is_grouped_markdown() -> None:
    text = commands.help_markdown("!hookshot", categories={"webhook": "Webhook"})
    assert text == (
        "### Webhook\n"
        " - `!hookshot webhook <name> [duration]` - Create\n"
        " - `!hookshot webhook list` - List\n"
        " - `!hookshot help` - Help\n"
    )


def test_duplicate_registration_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        commands.command("help", "again")(_help)
