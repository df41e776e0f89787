"""Durations as hosts write them: ``90s``, ``5m``, ``1h30m``, ``1d``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[smhd]\s*)+$")


def parse_duration(value: object) -> timedelta:
    """Read a duration; a bare number is seconds (YAML gives ints for ``at: 300``)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("a duration is a number with a unit, like 90s, 5m, 1h or 1d")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=value)
    if not isinstance(value, str) or not _WHOLE.match(value.lower()):
        raise ValueError(
            f"{value!r} is not a duration: write a number with a unit, like 90s, 5m, 1h30m or 1d"
        )
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(value.lower()))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling, so messages echo what a host would write."""
    total = int(value.total_seconds())
    if total == 0:
        return "0s"
    sign = "-" if total < 0 else ""
    total = abs(total)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)
