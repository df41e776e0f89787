"""Fields of a platform's JSON, read as the hostile input they are: each is checked for its
type and shape, and one that is missing or wrong raises ``Malformed`` with what it was, for a
``Skipped`` with the reason rather than a crash. Shared by the Mastodon and X adapters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core.printable import printable

# No post of a chat was made outside these years; times far outside them overflow the
# arithmetic done on them later (windows, minutes of the chart).
_EARLIEST_YEAR, _LATEST_YEAR = 1970, 2999
# The database's counts are 32-bit integers; a larger count is a lie, kept at the most.
MAX_COUNT = 2**31 - 1


class Malformed(ValueError):
    """A field is missing or has the wrong type."""


def utc_time(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise Malformed(f"{name} is not a time") from None
    else:
        raise Malformed(f"no {name}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        # 9999-12-31T23:59:59-01:00 is past the last datetime once in UTC.
        in_utc = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Malformed(f"{name} is out of range") from None
    if not _EARLIEST_YEAR <= in_utc.year <= _LATEST_YEAR:
        raise Malformed(f"{name} is out of range")
    return in_utc


def count_or_zero(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return min(value, MAX_COUNT)
    return 0


def language_tag(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= 16 and value.replace("-", "").isalnum():
        return value
    return None


def clean_line(value: str, limit: int) -> str:
    """One line of text without control characters or direction overrides (which would
    reorder the text around a name on a transcript page)."""
    return " ".join(printable(value).split())[:limit]
