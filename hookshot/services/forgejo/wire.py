"""Forgejo's wire names (ours: hookshot has no Forgejo service), in one place."""

from typing import Final

# The repository connection's state event type; state_key "<instance>/<owner>/<repo>".
FORGEJO_REPO: Final = "org.hookshot-python.forgejo.repository"
FORGEJO_REPO_TYPES: Final = (FORGEJO_REPO,)

# The job kind, config section, permission service and URL path segment.
SERVICE: Final = "forgejo"

# Delivery headers: Forgejo sends X-Forgejo-* (and Gitea's names), Gitea only X-Gitea-*.
HEADER_PREFIXES: Final = ("x-forgejo-", "x-gitea-")


# Ours: a user's sealed token for one instance, in the bot's account data:
# `<this>:<instance URL>:<user id>` (core.tokens seals it as hookshot seals its tokens).
TOKEN_ACCOUNT_DATA: Final = "org.hookshot-python.forgejo.token"

# Ours (threads: true), ValueStore key prefixes, each followed by the repository's page URL:
# a pull request's / issue's state for its thread root (`…#<number>`), and which open pull
# request a branch (`…:<branch>`) or a head commit (`…@<sha>`) belongs to.
SUBJECT_PREFIX: Final = "fjsubject:"
BRANCH_PREFIX: Final = "fjbranch:"
HEAD_PREFIX: Final = "fjhead:"
