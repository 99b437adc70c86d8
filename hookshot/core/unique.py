"""Ids unique across processes and restarts, cheap enough for every request.

`uuid.uuid4()` costs a getrandom call and a UUID object per call, which showed up in the
intake's profile; a random 64-bit prefix drawn once per process plus a counter is as unique
for our uses (job ids, transaction ids) and costs a string format.
"""

from __future__ import annotations

import itertools
import secrets

_PREFIX = secrets.token_hex(8)
_COUNTER = itertools.count()


def fresh_id() -> str:
    """A new id: never repeated by this process, and another process's prefix differs."""
    return f"{_PREFIX}-{next(_COUNTER):x}"
