"""Token buckets and the refusal tally, on a clock stepped by hand."""

from __future__ import annotations

import pytest

from hookshot.core.rate_limit import (
    RateLimit,
    RateLimiter,
    RefusalTally,
    Report,
    parse_rate_limit,
    retry_after,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_passes_the_burst_then_refuses() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limit = RateLimit(per_second=2, burst=5)
    assert [limiter.take("a", limit) for _ in range(5)] == [0.0] * 5
    assert limiter.take("a", limit) == pytest.approx(0.5)  # one token refills in 1/2 s


def test_tokens_refill_at_the_rate_up_to_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limit = RateLimit(per_second=2, burst=3)
    for _ in range(3):
        limiter.take("a", limit)
    clock.now += 1.0  # two tokens back
    assert [limiter.take("a", limit) for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]
    clock.now += 3600  # never more than the burst
    assert [limiter.take("a", limit) == 0.0 for _ in range(4)] == [True, True, True, False]


def test_a_refusal_takes_no_token() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limit = RateLimit(per_second=1, burst=1)
    limiter.take("a", limit)
    for _ in range(10):
        assert limiter.take("a", limit) > 0
    clock.now += 1.0
    assert limiter.take("a", limit) == 0.0


def test_keys_have_their_own_buckets() -> None:
    limiter = RateLimiter(Clock())
    limit = RateLimit(per_second=1, burst=2)
    for _ in range(2):
        limiter.take("flooded", limit)
    assert limiter.take("flooded", limit) > 0
    assert limiter.take("other", limit) == 0.0


def test_the_oldest_bucket_goes_past_max_keys() -> None:
    limiter = RateLimiter(Clock(), max_keys=2)
    limit = RateLimit(per_second=1, burst=1)
    limiter.take("a", limit)
    limiter.take("b", limit)
    limiter.take("a", limit)  # refused, and now the newest
    limiter.take("c", limit)  # evicts b, the oldest
    assert limiter.take("a", limit) > 0
    assert limiter.take("b", limit) == 0.0


@pytest.mark.parametrize(("wait", "header"), [(0.001, 1), (0.5, 1), (1.0, 1), (1.01, 2), (9.5, 10)])
def test_retry_after_is_whole_seconds_at_least_one(wait: float, header: int) -> None:
    assert retry_after(wait) == header


def test_an_override_takes_unset_fields_from_the_default() -> None:
    default = RateLimit(10, 100)
    assert RateLimit(2, 0).over(default) == RateLimit(2, 100)
    assert RateLimit(0, 5).over(default) == RateLimit(10, 5)
    assert RateLimit().over(default) == default
    assert not RateLimit(0, 5).over(RateLimit(0, 100)).active  # no rate anywhere: no limit


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ({"perSecond": 2, "burst": 20}, RateLimit(2, 20)),
        ({"perSecond": 5}, RateLimit(5, 0)),
        ({"burst": 7.0}, RateLimit(0, 7)),  # YAML may say 7.0
        ({}, RateLimit()),
    ],
)
def test_parse(value: object, parsed: RateLimit) -> None:
    assert parse_rate_limit(value) == parsed
    assert parse_rate_limit(parsed.to_content()) == parsed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "must be an object {perSecond, burst}"),
        ({"per_second": 5}, "unknown field(s) per_second"),
        ({"perSecond": "5"}, "perSecond must be a whole number"),
        ({"perSecond": -1}, "perSecond must be a whole number"),
        ({"perSecond": True}, "perSecond must be a whole number"),
        ({"perSecond": 0.5}, "perSecond must be a whole number"),
        ({"perSecond": float("inf")}, "perSecond must be a whole number"),
        ({"burst": 1.5}, "burst must be a whole number"),
        ({"burst": -3}, "burst must be a whole number"),
    ],
)
def test_parse_refuses_with_a_reason(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_rate_limit(value)


def test_the_tally_reports_the_first_refusal_then_one_sum_per_interval() -> None:
    clock = Clock()
    tally = RefusalTally(clock, interval=60)
    assert tally.refused("a") == Report(1, 0.0)
    reports = []
    for _ in range(100):
        clock.now += 1
        reports.append(tally.refused("a"))
    due = [r for r in reports if r is not None]
    assert due == [Report(60, 59.0)]  # refusals 2..61, reported at the 61st
    assert tally.refused("b") == Report(1, 0.0)  # keys apart


def test_a_passing_request_reports_refusals_whose_interval_is_up() -> None:
    clock = Clock()
    tally = RefusalTally(clock, interval=60)
    tally.refused("a")
    clock.now += 10
    tally.refused("a")
    tally.refused("a")
    assert tally.passed("a") is None  # not yet due
    clock.now += 60
    assert tally.passed("a") == Report(2, 60.0)
    assert tally.passed("a") is None  # nothing left
    clock.now += 60
    assert tally.passed("a") is None
    assert tally.refused("a") == Report(1, 0.0)  # a new flood is reported at once
