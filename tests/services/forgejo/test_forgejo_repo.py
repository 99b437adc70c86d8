"""Forgejo repository connection state and its filters (pure)."""

from __future__ import annotations

import pytest

from hookshot.errors import StateError
from hookshot.services.forgejo.repo import (
    DEFAULT_HOOKS,
    from_state,
    hook_names,
    parse_state,
    state_key,
    validate_new_state,
)

BASE = {"instance": "codeberg", "owner": "Forgejo", "repo": "forgejo"}


def _conn(**extra: object):  # type: ignore[no-untyped-def]
    return from_state("!r:x", "t", "k", {**BASE, **extra}, instance_url="https://codeberg.org/")


def test_defaults_and_round_trip() -> None:
    state = parse_state(BASE)
    assert state.enable_hooks == DEFAULT_HOOKS and state.branches is None
    assert parse_state(state.to_content()) == state
    assert state_key("codeberg", "Forgejo", "forgejo") == "codeberg/forgejo/forgejo"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"owner": "o", "repo": "r"}, "Missing 'instance'"),
        ({**BASE, "repo": 5}, "'repo' must be a string"),
        ({**BASE, "repo": " "}, "'repo' must not be empty"),
        ({**BASE, "branches": "main"}, "'branches' must be an array of strings"),
        ({**BASE, "branches": ["x" * 201]}, "'branches' patterns may be at most 200"),
        ({**BASE, "branches": ["a"] * 51}, "'branches' may hold at most 50"),
        ({**BASE, "priority": 1.5}, "'priority' must be an integer"),
        ({**BASE, "commandPrefix": "!"}, "'commandPrefix' must be between"),
        ({**BASE, "threads": "yes"}, "'threads' must be a boolean"),
        ({**BASE, "threads": 1}, "'threads' must be a boolean"),
        ({**BASE, "ciReactions": [True]}, "'ciReactions' must be a boolean"),
    ],
)
def test_bad_state_is_refused(content: dict[str, object], message: str) -> None:
    with pytest.raises(StateError) as err:
        parse_state(content)
    assert str(err.value).startswith(message)


def test_new_connections_only_take_known_hooks() -> None:
    with pytest.raises(StateError, match=r"invalid values: push\.force"):
        validate_new_state({**BASE, "enableHooks": ["push", "push.force"]})
    # Room state is read leniently: an unknown name is kept (and matches nothing).
    assert parse_state({**BASE, "enableHooks": ["push.force"]}).enable_hooks == ("push.force",)


def test_hook_names_and_enabling() -> None:
    assert hook_names("pull_request.merged") == ("pull_request.merged", "pull_request")
    assert hook_names("issue.comment.created") == ("issue.comment.created", "issue.comment")
    conn = _conn(enableHooks=["issue", "pull_request.merged"])
    assert conn.hook_enabled("issue.created") and conn.hook_enabled("pull_request.merged")
    assert not conn.hook_enabled("issue.comment.created")  # comments are not under `issue`
    assert not conn.hook_enabled("pull_request.opened")


def test_matching_the_delivery_repository() -> None:
    conn = _conn()
    assert conn.matches("https://codeberg.org/forgejo/Forgejo/")
    assert not conn.matches("https://codeberg.org.evil/forgejo/forgejo")
    assert not conn.matches("https://gitea.com/forgejo/forgejo")
    assert conn.match_keys() == ("forgejo:forgejo/forgejo",)


def test_branch_and_label_filters() -> None:
    conn = _conn(
        branches=["main", "release/*"], includingLabels=["bug"], excludingLabels=["wontfix"]
    )
    assert conn.branch_wanted("main") and conn.branch_wanted("release/1.2")
    assert not conn.branch_wanted("feature/x") and conn.branch_wanted(None)
    assert conn.labels_wanted(["bug"]) and not conn.labels_wanted(["docs"])
    assert not conn.labels_wanted(["bug", "wontfix"])
    assert _conn().branch_wanted("anything") and _conn().labels_wanted([])


def test_a_hostile_glob_stays_cheap() -> None:
    # fnmatch compiles globs without nested quantifiers, so this cannot backtrack for long.
    # (pytest-timeout would end a run that hung here.)
    conn = _conn(branches=["*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"])
    assert not conn.branch_wanted("a" * 5000)


def test_threads_and_ci_reactions_are_opt_in() -> None:
    assert not _conn().threads and not _conn().ci_reactions
    assert "threads" not in parse_state(BASE).to_content()  # a room that never asked
    on = _conn(threads=True, ciReactions=True)
    assert on.threads and on.ci_reactions
    assert parse_state(on.state.to_content()) == on.state
    # A reaction needs a thread root: without threads, ciReactions means nothing.
    assert not _conn(ciReactions=True).ci_reactions
    assert _conn(threads=False).state.to_content()["threads"] is False
