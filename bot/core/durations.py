"""Durations as hosts write them: ``90s``, ``5m``, ``1h30m``, ``1d``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_WHOLE = re.compile(r"\s*(?:[0-9]+(?:\.[0-9]+)?\s*[smhd]\s*)+")
# Spelled-out units a host may write out of habit; used only to suggest the short form.
_WORDS = re.compile(
    r"(\d+(?:\.\d+)?)\s*(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?)\b", re.IGNORECASE
)

DURATION_HINT = "write a number with a unit: 45s, 5m, 1h30m, 1d"


def parse_duration(value: object) -> timedelta:
    """Read a duration. A bare number other than 0 is refused: ``at: 5`` (YAML gives an int)
    means minutes to one host and seconds to another, and a guess would post a question at
    the wrong time without a word.

    Raises ValueError with a message a host can act on.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        if value != 0:
            raise ValueError(f"{value!r} has no unit")
        return timedelta(0)
    if not isinstance(value, str) or not _WHOLE.fullmatch(value.lower()):
        raise ValueError(f"{value!r} is not a duration")
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(value.lower()))
    return timedelta(seconds=seconds)


def suggest_duration(value: object) -> str | None:
    """The short spelling of ``1 hour 30 minutes`` (``1h30m``), if that is what was meant;
    for a bare number, the two readings it could have."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        number = f"{value:g}"
        return f"{number}m or {number}s"
    if not isinstance(value, str):
        return None
    spelled = _WORDS.sub(lambda m: m.group(1) + m.group(2)[0].lower(), value)
    spelled = re.sub(r"\s+", "", spelled)
    if spelled != value and _WHOLE.fullmatch(spelled):
        return spelled
    return None


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
