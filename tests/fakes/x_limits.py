"""X's rate limits as the fake X API keeps them: a 15-minute window per endpoint, and the
user's 24-hour posting limit, each told in the headers of every answer."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tests.fakes.x_exchange import CREATE, SEARCH

RATE_WINDOW = timedelta(minutes=15)
DAILY_WINDOW = timedelta(hours=24)

# Per-user limits per 15 minutes, as X documents them for OAuth 1.0a user context.
RATE_LIMITS: Mapping[str, int] = {
    CREATE: 100,
    SEARCH: 300,
    "GET /2/users/me": 75,
    "GET /2/users/:id/tweets": 900,
    "GET /2/tweets/:id": 900,
    "GET /2/tweets": 900,
    "POST /2/users/:id/retweets": 50,
    "DELETE /2/users/:id/retweets/:tweet_id": 50,
}
DEFAULT_RATE_LIMIT = 900


def epoch(moment: datetime) -> int:
    return math.ceil(moment.timestamp())


@dataclass
class Window:
    """A fixed window that opens at its first request, as X's rate limits behave."""

    limit: int
    length: timedelta
    start: datetime
    used: int = 0

    @property
    def reset_at(self) -> datetime:
        return self.start + self.length

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def roll(self, now: datetime) -> None:
        if now >= self.reset_at:
            self.start, self.used = now, 0


class RateLimits:
    def __init__(self, daily_post_limit: int, now: datetime) -> None:
        self._windows: dict[str, Window] = {}
        # Counted by POST /2/tweets itself: a post the endpoint refuses does not use it.
        self.daily = Window(daily_post_limit, DAILY_WINDOW, now)

    def window(self, key: str, now: datetime) -> Window:
        """The 15-minute window of the endpoint `key`, opened or rolled over at `now`."""
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = Window(
                RATE_LIMITS.get(key, DEFAULT_RATE_LIMIT), RATE_WINDOW, now
            )
        window.roll(now)
        return window

    def headers(self, key: str, window: Window) -> dict[str, str]:
        headers = {
            "x-rate-limit-limit": str(window.limit),
            "x-rate-limit-remaining": str(window.remaining),
            "x-rate-limit-reset": str(epoch(window.reset_at)),
        }
        if key == CREATE:
            headers |= {
                "x-user-limit-24hour-limit": str(self.daily.limit),
                "x-user-limit-24hour-remaining": str(self.daily.remaining),
                "x-user-limit-24hour-reset": str(epoch(self.daily.reset_at)),
            }
        return headers
