"""Token buckets: how fast one key (a generic hook) may send, so one leaked URL cannot flood a
room or the queue.

Pure and in memory; the clock is passed in, so tests step time by hand. Each process keeps
its own buckets: in the scale-out roles every `webhooks` process allows the full rate.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Field names, in config (`generic.rateLimit`) and in a hook's state content (`rateLimit`).
FIELD = "rateLimit"
PER_SECOND = "perSecond"
BURST = "burst"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`per_second` tokens refill a bucket of `burst`; each request takes one.

    Whole numbers, as Matrix state cannot carry fractions (canonical JSON). 0 means "not
    set": in the config, no limit (per_second); in a hook's override, the config's value."""

    per_second: int = 0
    burst: int = 0

    @property
    def active(self) -> bool:
        return self.per_second > 0 and self.burst >= 1

    def over(self, default: RateLimit) -> RateLimit:
        """This override with its unset fields taken from `default`."""
        return RateLimit(self.per_second or default.per_second, self.burst or default.burst)

    def to_content(self) -> dict[str, int]:
        content: dict[str, int] = {}
        if self.per_second:
            content[PER_SECOND] = self.per_second
        if self.burst:
            content[BURST] = self.burst
        return content

    def describe(self) -> str:
        return f"{self.per_second}/s, burst {self.burst}"


# An override that changes nothing (and, as a config value, no limit).
UNSET = RateLimit()


def parse_rate_limit(value: object) -> RateLimit:
    """`{perSecond, burst}` (each optional, 0 = unset); ValueError says what is wrong."""
    if not isinstance(value, Mapping):
        raise ValueError(f"must be an object {{{PER_SECOND}, {BURST}}}")
    unknown = sorted(str(k) for k in value if k not in (PER_SECOND, BURST))
    if unknown:
        raise ValueError(f"has unknown field(s) {', '.join(unknown)}: use {PER_SECOND}, {BURST}")
    per_second = _whole(value.get(PER_SECOND, 0), f"{PER_SECOND} must be a whole number")
    return RateLimit(per_second, _whole(value.get(BURST, 0), f"{BURST} must be a whole number"))


def _whole(value: object, message: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # YAML's 10.0 is 10
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{message}, 0 or more")
    return value


def retry_after(wait: float) -> int:
    """The `Retry-After` value for a wait: whole seconds, at least 1."""
    return max(1, math.ceil(wait))


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Buckets by key. A full bucket is the same as none, so the oldest are dropped past
    `max_keys` (a flooding key is never the oldest: each request refreshes it)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str, limit: RateLimit) -> float:
        """0 when the request may pass (it took a token), else the seconds until one will."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(limit.burst), now)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            refill = max(0.0, now - bucket.at) * limit.per_second
            bucket.tokens = min(float(limit.burst), bucket.tokens + refill)
            bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / limit.per_second


@dataclass(slots=True)
class _Tally:
    count: int = 0
    since: float = 0.0
    reported: float = -math.inf


@dataclass(frozen=True, slots=True)
class Report:
    """Refusals to write down now: `count` of them over the last `seconds`."""

    count: int
    seconds: float


class RefusalTally:
    """Counts refusals per key and says when to report them: the first one at once, then
    one sum per `interval`, so a flood writes a few log lines, not one per request."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, interval: float = 60.0) -> None:
        self._clock = clock
        self._interval = interval
        self._tallies: dict[str, _Tally] = {}

    def refused(self, key: str) -> Report | None:
        now = self._clock()
        tally = self._tallies.setdefault(key, _Tally())
        if tally.count == 0:
            tally.since = now
        tally.count += 1
        return self._due(key, tally, now)

    def passed(self, key: str) -> Report | None:
        """A request passed: the refusals before it are reported if their interval is up."""
        tally = self._tallies.get(key)
        if tally is None:
            return None
        now = self._clock()
        if tally.count == 0:
            if now - tally.reported >= self._interval:
                del self._tallies[key]  # quiet for an interval: forget the key
            return None
        return self._due(key, tally, now)

    def _due(self, key: str, tally: _Tally, now: float) -> Report | None:
        if now - tally.reported < self._interval:
            return None
        report = Report(tally.count, now - tally.since)
        tally.count, tally.reported = 0, now
        return report


@dataclass(frozen=True, slots=True)
class Verdict:
    wait: float  # 0: the request passes; else seconds until one will
    report: Report | None  # refusals to write down now, if any


class KeyedLimits:
    """The buckets and the refusal tally of one kind of key, checked in one call."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        interval: float = 60.0,
        max_keys: int = 100_000,
    ) -> None:
        self._limiter = RateLimiter(clock, max_keys)
        self._tally = RefusalTally(clock, interval)

    def check(self, key: str, limit: RateLimit) -> Verdict:
        wait = self._limiter.take(key, limit)
        report = self._tally.refused(key) if wait else self._tally.passed(key)
        return Verdict(wait, report)
