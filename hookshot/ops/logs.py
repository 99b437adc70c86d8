"""Logging setup: hookshot's `logging.level` names, plain or one JSON object per line, and
every line redacted (ops/redaction.py) whichever logger wrote it."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from hookshot.ops.redaction import redact

_LEVELS = {
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": logging.DEBUG,
}


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Another formatter's whole output (message with its %-args, traceback, stack) redacted."""

    def __init__(self, inner: logging.Formatter, clean: Callable[[str], str] = redact) -> None:
        super().__init__()
        self._inner = inner
        self._clean = clean

    def format(self, record: logging.LogRecord) -> str:
        return self._clean(self._inner.format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, for log shippers; its texts redacted before JSON escapes
    them (a secret with a quote or newline in it would no longer match afterwards)."""

    def __init__(self, clean: Callable[[str], str] = redact) -> None:
        super().__init__()
        self._clean = clean

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "module": record.name,
            "message": self._clean(record.getMessage()),
        }
        if record.exc_info:
            entry["error"] = self._clean(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self._clean(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: str = "info", *, json_lines: bool = False, access_log: bool = False
) -> None:
    """Configure the root logger once for the process."""
    handler = logging.StreamHandler(sys.stderr)
    # One handler on the root, which uvicorn's, httpx's and redis's loggers propagate to, so
    # no line leaves the process unredacted.
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter(logging.Formatter(PLAIN_FORMAT)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS.get(level.lower(), logging.INFO))
    # Request lines from uvicorn and httpx drown the bridge's own story at info level, and
    # each of our uvicorn servers (one per listener) would repeat the same startup and
    # shutdown lines: the runner logs one line per listener instead.
    noisy = ["httpx", "httpcore", "uvicorn.error"]
    if not access_log:
        noisy.append("uvicorn.access")
    for name in noisy:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("uvicorn.access").disabled = not access_log
