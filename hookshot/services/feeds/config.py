"""`feeds` (hookshot's section):

feeds:
  enabled: true
  pollIntervalSeconds: 600   # how often each feed is read (once, however many rooms)
  pollConcurrency: 4         # feeds read at the same time
  pollTimeoutSeconds: 30     # one read's limit
  # Ours: feeds on private addresses (loopback, RFC 1918, ...) are refused unless this is
  # true, as outbound hooks refuse them (generic.outboundAllowPrivateTargets).
  allowPrivateTargets: false
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hookshot.config import Section

DEFAULT_INTERVAL = 600.0
DEFAULT_CONCURRENCY = 4
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class FeedsConfig:
    poll_interval: float = DEFAULT_INTERVAL
    poll_concurrency: int = DEFAULT_CONCURRENCY
    poll_timeout: float = DEFAULT_TIMEOUT
    allow_private: bool = False


def _number(section: Section, key: str, default: float, low: float, high: float) -> float:
    value = section.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        section.problem(key, f"must be a number from {low:g} to {high:g}")
        return default
    return float(value)


def parse_config(section: Section) -> FeedsConfig | None:
    """None when `enabled` is not true (hookshot's switch)."""
    enabled = section.flag("enabled", False)
    config = FeedsConfig(
        poll_interval=_number(section, "pollIntervalSeconds", DEFAULT_INTERVAL, 1, 7 * 86400),
        poll_concurrency=int(_number(section, "pollConcurrency", DEFAULT_CONCURRENCY, 1, 64)),
        poll_timeout=_number(section, "pollTimeoutSeconds", DEFAULT_TIMEOUT, 1, 600),
        allow_private=section.flag("allowPrivateTargets", False),
    )
    section.warn_unknown()
    return config if enabled else None
