"""When a server says its rate limit resets, read as the hostile input it is.

``X-RateLimit-Reset`` comes as ISO-8601 (Mastodon), epoch seconds (mastodon_mock,
GoToSocial), epoch milliseconds, seconds from now, or an HTTP date, and a hostile server
sends anything at all: a 400-digit number, ``²``, ``NaN``. Every form is read or ignored,
never raised on; how long the bot then waits is capped by ``TransientError``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Longer values are not a time in any of the forms above.
_MAX_CHARS = 64
# A bare number up to this is seconds from now (RFC 9331-style); one from this on, epoch
# milliseconds (no reset is centuries ahead).
_DELTA_BELOW = 10**7
_MILLISECONDS_FROM = 10**11


def reset_epoch(value: str, *, now: float) -> float | None:
    """The reset as epoch seconds, or None when ``value`` is no time in a known form."""
    text = value.strip()
    if not text or len(text) > _MAX_CHARS or not text.isascii():
        return None
    if _is_number(text):
        number = float(text)
        if not math.isfinite(number) or number < 0:
            return None
        if number < _DELTA_BELOW:
            return now + number
        return number / 1000 if number >= _MILLISECONDS_FROM else number
    return _iso_epoch(text) or http_date_epoch(text)


def reset_after(headers: Mapping[str, str], *, now: float) -> float | None:
    """Seconds from ``now`` until the reset the headers announce (0 if it has passed)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    epoch = reset_epoch(lowered.get("x-ratelimit-reset", ""), now=now)
    return None if epoch is None else max(0.0, epoch - now)


def seconds_until(epoch: object, *, now: float) -> float | None:
    """Seconds from ``now`` until an epoch a library computed (Mastodon.py's
    ``ratelimit_reset``), or None if it is no usable number."""
    if isinstance(epoch, bool) or not isinstance(epoch, int | float):
        return None
    try:
        seconds = float(epoch) - now
    except OverflowError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def http_date_epoch(text: str) -> float | None:
    """An HTTP date (``Wed, 02 Dec 2026 15:25:51 GMT``) as epoch seconds, or None."""
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return _epoch_of(parsed)


def _is_number(text: str) -> bool:
    whole, _, fraction = text.partition(".")
    return whole.isdigit() and (not fraction or fraction.isdigit())


def _iso_epoch(text: str) -> float | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _epoch_of(parsed)


def _epoch_of(parsed: datetime) -> float | None:
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.timestamp()
    except (OverflowError, ValueError, OSError):
        return None
