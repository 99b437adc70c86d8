"""Durations written the way hookshot's users write them (`30d`, `1h30m`, `2 weeks`), and
spelled out the way hookshot prints them (date-fns `formatDuration`: `7 days`, `1 day 2 hours`)."""

from __future__ import annotations

import re

_UNITS: dict[str, float] = {
    "ms": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
    "y": 31557600, "yr": 31557600, "year": 31557600, "years": 31557600,
}  # fmt: skip
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*")


def parse_duration(text: str) -> float:
    """Seconds in `text`; raises ValueError with a readable message when it is not one."""
    pos, total = 0, 0.0
    text = text.strip()
    if not text:
        raise ValueError("empty duration")
    while pos < len(text):
        match = _PART.match(text, pos)
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _UNITS:
            raise ValueError(f"'{text}' is not a duration (examples: 30m, 12h, 7d, 2w)")
        total += float(match.group(1)) * _UNITS[unit]
        pos = match.end()
    return total


_UNIT_SECONDS = {"day": 86400, "hour": 3600, "minute": 60, "second": 1}


def describe_duration(
    seconds: float, units: tuple[str, ...] = ("day", "hour", "minute", "second")
) -> str:
    """Whole `units` in words, zero ones left out, as date-fns `formatDuration` prints them:
    90000 -> '1 day 1 hour'; with `units=("hour",)` -> '25 hours' (hookshot's expiry
    notice). Nothing to show gives '0 <smallest unit>s'."""
    rest = int(seconds)
    words = []
    for name in units:
        count, rest = divmod(rest, _UNIT_SECONDS[name])
        if count:
            words.append(f"{count} {name}{'' if count == 1 else 's'}")
    return " ".join(words) or f"0 {units[-1]}s"
