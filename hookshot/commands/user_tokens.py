"""Users' service tokens, for commands: the token store, opened on first use.

The passFile key is loaded on first use, so a bridge without one still runs; only the
commands that need a token explain what is missing. The API clients made from the tokens are
each service's (e.g. `services/github/access.py`).
"""

from __future__ import annotations

from pathlib import Path

from hookshot.core.tokens import TokenStore
from hookshot.errors import CommandError, ConfigError
from hookshot.matrix.client import MatrixClient

# GitHub's API clients moved to its service (services/github/access.py); these names stay
# importable from here for existing callers.
from hookshot.services.github.access import LOGIN_AGAIN_GITHUB as LOGIN_AGAIN_GITHUB
from hookshot.services.github.access import REFRESH_MARGIN_MS as REFRESH_MARGIN_MS
from hookshot.services.github.access import GitHubAccess as GitHubAccess


class UserTokens:
    """The token store, opened lazily."""

    def __init__(self, client: MatrixClient, pass_file: str) -> None:
        self._client = client
        self._pass_file = pass_file
        self._store: TokenStore | None = None

    @property
    def store(self) -> TokenStore:
        if self._store is None:
            if not Path(self._pass_file).exists():
                raise CommandError(
                    f"The bridge cannot keep tokens: its passFile {self._pass_file} is missing."
                )
            try:
                self._store = TokenStore(self._client, self._pass_file)
            except ConfigError as err:
                raise CommandError(f"The bridge cannot keep tokens: {err.message}") from None
        return self._store
