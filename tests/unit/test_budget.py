"""The X budget: reservations for the agenda, worst-case holds, the cap, pacing, the estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.core.budget import (
    RECOVERY_READS,
    Budget,
    Caps,
    Prices,
    Spend,
    budget_problems,
    estimate,
    format_usd,
    planned_budget,
    post_spend,
    read_spend,
    to_micros,
    wrapup_estimate,
)
from bot.core.config_platforms import XBudget, XPrices, XSettings

PRICES = Prices.from_settings(XPrices())
START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
TEXTS = {"c/d/intro/x": "Welcome #c", "c/d/q1/x": "Q1 #c", "c/d/closing/x": "See https://e.org #c"}


def budget(
    *, usd: str | None = "1.00", reads: int | None = None, posts: int | None = None
) -> Budget:
    caps = Caps(None if usd is None else to_micros(Decimal(usd)), reads, posts)
    return planned_budget(caps, PRICES, TEXTS, done=[], spent=Spend())


def test_prices_are_exact_micro_dollars() -> None:
    assert (PRICES.post_read, PRICES.user_read, PRICES.post_created, PRICES.post_with_url) == (
        5_000,
        10_000,
        15_000,
        200_000,
    )
    assert sum([PRICES.post_read] * 200) == 1_000_000  # no float drift
    assert PRICES.post("Join us at example.org") == PRICES.post_with_url  # bare domains too


@pytest.mark.parametrize(
    ("micros", "text"), [(15_000, "$0.015"), (200_000, "$0.20"), (5_000_000, "$5.00"), (0, "$0.00")]
)
def test_dollars_are_shown_to_the_tenth_of_a_cent_when_needed(micros: int, text: str) -> None:
    assert format_usd(micros) == text


def test_the_agenda_and_recovery_are_reserved_before_anything_is_read() -> None:
    b = budget()

    agenda = 15_000 + 15_000 + 200_000
    assert b.free() == 1_000_000 - agenda - RECOVERY_READS * PRICES.post_read
    # $0.72 pays 48 posts at the worst case: each with an author not seen before.
    assert b.read_page() == 48


def test_a_read_never_asks_for_more_than_the_cap_can_pay_at_the_worst_case() -> None:
    b = budget(usd="0.50")  # $0.23 agenda, $0.05 recovery: $0.22 free

    page = b.read_page()

    assert page == 14  # 14 posts and 14 new authors: $0.21
    held = b.hold(read_spend(PRICES, posts=page, users=page))
    assert b.spent.micros + 230_000 + 50_000 <= 500_000
    b.settle(held, read_spend(PRICES, posts=page, users=1))
    assert b.spent == Spend(reads=page, users=1, micros=page * 5_000 + 10_000)


def test_below_a_minimum_page_reading_stops() -> None:
    b = budget(usd="0.43")  # $0.23 agenda, $0.05 recovery: $0.15 pays 10 worst-case reads
    assert b.read_page() == 10
    b.hold(read_spend(PRICES, posts=1, users=0))

    assert b.read_page() == 0


def test_max_reads_counts_posts_and_keeps_the_recovery_reads() -> None:
    b = budget(usd=None, reads=60)

    assert b.read_page() == 60 - RECOVERY_READS
    assert b.read_page(recovery=True, smallest=5, largest=10, authors=False) == 10
    b.hold(read_spend(PRICES, posts=45, users=3))
    assert b.read_page() == 0
    assert b.read_page(recovery=True, smallest=5, largest=10, authors=False) == 10


def test_planned_posts_go_out_at_the_cap_and_unplanned_ones_do_not() -> None:
    b = budget(usd="0.45")
    page = b.read_page()
    b.hold(read_spend(PRICES, posts=page, users=page))  # reading took everything free

    assert b.read_page() == 0
    assert all(b.may_post(key, text) for key, text in TEXTS.items())
    assert not b.may_post("c/d/wrapup-1/x", "Thanks #c")


def test_a_refused_post_gives_its_reservation_back() -> None:
    b = budget()
    free = b.free()
    held = b.hold(post_spend(PRICES, TEXTS["c/d/q1/x"]), key="c/d/q1/x")

    b.settle_post("c/d/q1/x", held, "refused")

    assert b.free() == free
    assert b.reserved["c/d/q1/x"] == 15_000
    assert b.spent == Spend()


def test_an_unanswered_post_is_counted_once_whatever_the_retries() -> None:
    b = budget()
    key, text = "c/d/closing/x", TEXTS["c/d/closing/x"]

    first = b.hold(post_spend(PRICES, text), key=key)
    b.settle_post(key, first, "unknown")
    retry = b.hold(post_spend(PRICES, text), key=key)
    b.settle_post(key, retry, "refused")  # X: duplicate content, the first one exists
    last = b.hold(post_spend(PRICES, text), key=key)
    b.settle_post(key, last, "created")

    assert retry == last == Spend()
    assert b.spent == Spend(posts=1, micros=200_000)
    assert key not in b.reserved


def test_max_posts_leaves_room_for_the_planned_posts_only() -> None:
    b = budget(posts=3)

    assert not b.may_post("c/d/wrapup-1/x", "Thanks #c")
    assert b.may_post("c/d/q1/x", TEXTS["c/d/q1/x"])


def test_a_restarted_budget_counts_what_was_spent_and_reserves_what_is_left() -> None:
    caps = Caps(to_micros(Decimal("1.00")), None, None)
    spent = Spend(reads=20, users=4, posts=1, micros=20 * 5_000 + 4 * 10_000 + 15_000)

    b = planned_budget(caps, PRICES, TEXTS, done=["c/d/intro/x"], spent=spent)

    assert set(b.reserved) == {"c/d/q1/x", "c/d/closing/x"}
    assert b.free() == 1_000_000 - spent.micros - 215_000 - RECOVERY_READS * 5_000


def test_pacing_waits_when_reading_runs_ahead_of_an_even_spread() -> None:
    b = budget(usd="1.00")
    free = b.free()
    assert free is not None
    shortest = timedelta(seconds=20)

    assert b.read_delay(START, start=START, end=END, shortest=shortest) == shortest
    # Half the allowance spent a quarter of the way in: the line (a tenth ahead, then even)
    # reaches it at 24 minutes.
    b.hold(Spend(reads=free // 2 // 5_000, micros=free // 2 // 5_000 * 5_000))
    now = START + timedelta(minutes=15)
    delay = b.read_delay(now, start=START, end=END, shortest=shortest)

    assert timedelta(minutes=8, seconds=50) < delay < timedelta(minutes=9, seconds=10)
    assert b.read_delay(END, start=START, end=END, shortest=shortest) == shortest


def test_without_a_cap_nothing_waits_and_nothing_stops() -> None:
    b = budget(usd=None)

    assert b.read_page() == 100
    assert b.read_delay(START, start=START, end=END, shortest=timedelta(seconds=5)) == (
        timedelta(seconds=5)
    )


def test_the_estimate_prices_the_agenda_exactly_and_the_rest_roughly() -> None:
    caps = Caps.from_settings(XBudget(max_usd=Decimal("2.00")))
    wrapup = wrapup_estimate(3, transcript_url=True)

    found = estimate(
        TEXTS.values(),
        later=wrapup,
        expected_posts=300,
        expected_people=40,
        prices=PRICES,
        caps=caps,
    )

    assert (found.posts, found.posts_with_url, found.posting) == (3, 1, 230_000)
    assert (wrapup.posts, found.later_cost) == (5, 4 * 15_000 + 200_000)
    assert found.reading == 300 * 5_000 + 40 * 10_000
    assert found.total == 230_000 + 260_000 + 1_900_000
    assert not found.fits


def test_the_wrap_up_is_reserved_and_draws_on_its_pool() -> None:
    caps = Caps(to_micros(Decimal("1.00")), None, 5)
    b = planned_budget(
        caps, PRICES, TEXTS, done=[], spent=Spend(), later=wrapup_estimate(0, transcript_url=True)
    )
    assert (b.pool, b.pool_posts) == (215_000, 2)
    page = b.read_page()
    b.hold(read_spend(PRICES, posts=page, users=page))  # reading takes all it may

    for key, text in (("c/d/wrapup-1/x", "Thanks #c"), ("c/d/wrapup-2/x", "See https://e.org")):
        assert b.may_post(key, text)
        b.settle_post(key, b.hold(post_spend(PRICES, text), key=key), "created")

    assert not b.may_post("c/d/wrapup-3/x", "One more #c")
    assert all(b.may_post(key, text) for key, text in TEXTS.items())


def test_a_cap_that_cannot_pay_for_the_bots_own_posts_is_a_config_problem() -> None:
    settings = XSettings(budget=XBudget(max_usd=Decimal("0.25"), max_posts=2))
    wrapup = wrapup_estimate(1, transcript_url=False)

    problems = budget_problems(settings, list(TEXTS.values()), later=wrapup)

    assert [p.loc for p in problems] == [
        ("platforms", "x", "budget", "max_usd"),
        ("platforms", "x", "budget", "max_posts"),
    ]
    assert "cost $0.23 (1 with a URL)" in problems[0].message
    assert "at least $0.325" in (problems[0].hint or "")  # + 3 wrap-up posts, + recovery
    assert "raise max_posts to at least 6" in (problems[1].hint or "")
    assert budget_problems(XSettings(), list(TEXTS.values()), later=wrapup) == []
