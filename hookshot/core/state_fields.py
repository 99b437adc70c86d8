"""Reading connection state fields the way hookshot's schemas do, with messages that name
the field. Shared by the connection kinds."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeGuard

from hookshot.core.connections import DEFAULT_PRIORITY
from hookshot.core.patterns import PatternError, check
from hookshot.errors import StateError

COMMAND_PREFIX_MIN, COMMAND_PREFIX_MAX = 2, 24  # hookshot's CommandConnection rule


def required_string(content: Mapping[str, Any], key: str) -> str:
    value = content.get(key)
    if value is None:
        raise StateError(f"Missing '{key}'")
    if not isinstance(value, str):
        raise StateError(f"'{key}' must be a string")
    return value


def optional_bool(content: Mapping[str, Any], key: str) -> bool | None:
    value = content.get(key)
    if value is not None and not isinstance(value, bool):
        raise StateError(f"'{key}' must be a boolean")
    return value


def string_list(content: Mapping[str, Any], key: str, path: str = "") -> tuple[str, ...] | None:
    value = content.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise StateError(f"'{path or key}' must be an array of strings")
    return tuple(value)


def is_number(value: object) -> TypeGuard[int | float]:
    # JSON numbers only: bool is an int in Python but not a number in hookshot's schema.
    return isinstance(value, int | float) and not isinstance(value, bool)


def command_prefix(content: Mapping[str, Any]) -> str | None:
    value = content.get("commandPrefix")
    if value is None:
        return None
    if not isinstance(value, str):
        raise StateError("'commandPrefix' must be a string")
    if not COMMAND_PREFIX_MIN <= len(value) <= COMMAND_PREFIX_MAX:
        raise StateError(
            f"'commandPrefix' must be between {COMMAND_PREFIX_MIN}-{COMMAND_PREFIX_MAX} characters"
        )
    return value


def priority(value: object) -> int:
    if value is None:
        return DEFAULT_PRIORITY
    # hookshot accepts any number; our connections sort by integer priority.
    if not is_number(value) or not float(value).is_integer():
        raise StateError("'priority' must be an integer")
    return int(value)


def enabled_hooks(
    content: Mapping[str, Any],
    convert_ignored: Callable[[Sequence[str], Sequence[str]], tuple[str, ...]],
) -> tuple[str, ...] | None:
    """`enableHooks`, or legacy `ignoreHooks` converted into it; None when neither is set."""
    enable = string_list(content, "enableHooks")
    ignore = string_list(content, "ignoreHooks")
    if ignore is not None:
        # hookshot tests the array's truthiness, so even [] re-adds the defaults.
        enable = convert_ignored(enable or (), ignore)
    return enable


def only_allowed_hooks(hooks: Sequence[str], allowed: Sequence[str]) -> None:
    """hookshot's check of `enableHooks` for new connections, with its message."""
    invalid = [hook for hook in hooks if hook not in allowed]
    if invalid:
        raise StateError(
            "'enableHooks' must only contain allowed values. Found invalid values: "
            + ", ".join(invalid)
        )


def dotted_hook_names(name: str, detached: Sequence[str] = ()) -> tuple[str, ...]:
    """The enableHooks entries that turn on `name`: itself and its dotted parents, stopping
    at a `detached` subtree (its parents do not cover it, e.g. `issue.comment`)."""
    parts = name.split(".")
    names: list[str] = []
    for end in range(len(parts), 0, -1):
        names.append(".".join(parts[:end]))
        if names[-1] in detached:
            break
    return tuple(names)


def linear_regex(pattern: str | None, key: str) -> str | None:
    """A room admin's regex, refused (StateError naming `key`) if RE2 cannot run it."""
    if pattern:
        try:
            check(pattern, key)
        except PatternError as err:
            raise StateError(str(err)) from None
    return pattern
