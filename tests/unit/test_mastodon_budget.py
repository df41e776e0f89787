"""How many posts a curation tick may re-read one by one: a quarter of the rate limit per
tick, less when the server says its window is nearly spent, never nothing."""

from __future__ import annotations

import pytest

from bot.adapters.mastodon_budget import refresh_limit

NOW = 1_000_000.0


@pytest.mark.parametrize(
    ("limit", "remaining", "reset_in", "every", "expected"),
    [
        (None, None, None, 45, 11),  # Mastodon's default 300 / 5 min, the default tick
        (None, None, None, 15, 3),
        (None, None, None, 600, 75),  # a tick longer than the window: one window's share
        (1000, None, None, 45, 37),  # a server that allows more says so
        (300, 300, 300, 45, 11),  # a fresh window: the same as the static share
        (300, 40, 240, 45, 1),  # 40 left for 4 more minutes: 10 for the curator, ~5 ticks
        (300, 0, 100, 45, 1),  # spent: still one, so that curation goes on
        (300, 250, -5, 45, 11),  # a reset already past says nothing about now
    ],
)
def test_the_budget_follows_the_rate_limit(
    limit: int | None, remaining: int | None, reset_in: float | None, every: float, expected: int
) -> None:
    reset = None if reset_in is None else NOW + reset_in
    assert (
        refresh_limit(limit=limit, remaining=remaining, reset=reset, every=every, now=NOW)
        == expected
    )
