"""How many posts a curation tick may re-read one by one, on a server without the batched
read: a share of the account's rate limit, so that the whole chat stays under it.

Mastodon allows 300 requests per 5 minutes per account, and says where it stands in
``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` on every answer. The follower, the
agenda's posts, the mentions and the boosts use the rest of the limit.
"""

from __future__ import annotations

import math

# Mastodon's default: 300 requests per account per 5 minutes.
DEFAULT_LIMIT = 300
WINDOW_SECONDS = 300.0
# The curator's one-by-one re-reads may use a quarter of the limit; with the follower's
# streaming, replies reads and the posts, the chat stays under 60% of it.
REFRESH_SHARE = 0.25


def refresh_limit(
    *,
    limit: int | None,
    remaining: int | None,
    reset: float | None,
    every: float,
    now: float,
) -> int:
    """Posts a tick every ``every`` seconds may re-read: the share of the limit that falls
    to one tick, less when the server says that little of its window is left. At least one,
    so that curation goes on however tight the limit."""
    per_window = (limit if limit and limit > 0 else DEFAULT_LIMIT) * REFRESH_SHARE
    budget = math.floor(per_window * min(every, WINDOW_SECONDS) / WINDOW_SECONDS)
    if remaining is not None and reset is not None and reset > now:
        ticks_left = max(1.0, (reset - now) / max(every, 1.0))
        budget = min(budget, math.floor(max(remaining, 0) * REFRESH_SHARE / ticks_left))
    return max(1, budget)
