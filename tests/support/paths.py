"""Where the suite's files are, for tests at any depth of `tests/`."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
CORPORA = TESTS / "corpora"
