"""The budget of the running occurrence on a paying platform (X), kept in the store.

The X adapter asks the meter before every billed request; the follower asks it how long to
wait between polls. Holds are written to the store before the request goes out, so a crash
can only over-count, and a restarted worker picks up what was spent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.budget import (
    Budget,
    Caps,
    LaterPosts,
    PostOutcome,
    Prices,
    Spend,
    format_usd,
    planned_budget,
    post_spend,
    read_spend,
    repost_spend,
)
from bot.core.config_platforms import XSettings
from bot.ports.clock import Clock
from bot.ports.errors import BudgetExhausted
from bot.ports.spending import Hold, SpendingLog


class SpendingMeter:
    def __init__(self, *, platform: str, settings: XSettings, clock: Clock, log: Any) -> None:
        self.platform = platform
        self._prices = Prices.from_settings(settings.prices)
        self._caps = Caps.from_settings(settings.budget)
        self._store: SpendingLog | None = None
        self._clock = clock
        self._log = log.bind(platform=platform)
        self._lock = threading.Lock()
        self._occurrence: str | None = None
        self._budget: Budget | None = None
        # Row id -> what it holds, and the key of the post it pays for.
        self._holds: dict[int, tuple[Spend, str | None]] = {}
        # Authors already paid for in this occurrence: X bills a user once a day.
        self._authors: set[str] = set()
        self._exhausted = False

    def begin(
        self,
        occurrence: str,
        planned: Mapping[str, str],
        *,
        done: Iterable[str],
        later: LaterPosts,
        store: SpendingLog,
    ) -> None:
        """Start (or resume) an occurrence, before anything of it is posted or read:
        ``planned`` maps each planned post's key on this platform to its text; the ``done``
        ones are paid for already; ``later`` are the posts written later (the wrap-up),
        reserved too. What was spent before a restart comes from ``store``."""
        with self._lock:
            spent = store.spending(occurrence, self.platform)
            self._store = store
            self._occurrence = occurrence
            self._budget = planned_budget(
                self._caps, self._prices, planned, done=done, spent=spent, later=later
            )
            self._holds.clear()
            self._authors.clear()
            self._exhausted = False
            free = self._budget.free()
            self._log.info(
                "budget.planned",
                occurrence=occurrence,
                cap=None if self._caps.micros is None else format_usd(self._caps.micros),
                max_reads=self._caps.reads,
                max_posts=self._caps.posts,
                spent=format_usd(spent.micros),
                reserved_for_posts=format_usd(
                    sum(self._budget.reserved.values()) + self._budget.pool
                ),
                free=None if free is None else format_usd(free),
            )

    def spent(self) -> Spend:
        with self._lock:
            return self._require().spent

    def read_delay(
        self, now: datetime, *, start: datetime, end: datetime, shortest: timedelta
    ) -> timedelta:
        with self._lock:
            return self._require().read_delay(now, start=start, end=end, shortest=shortest)

    # -- the Meter port ------------------------------------------------------------------

    def hold_read(self, *, largest: int, smallest: int, authors: bool, recovery: bool) -> Hold:
        with self._lock:
            budget = self._require()
            page = budget.read_page(
                largest=largest, smallest=smallest, authors=authors, recovery=recovery
            )
            if page == 0:
                self._note_exhausted("read")
                raise BudgetExhausted(self._spent_text(budget, "reading"))
            spend = read_spend(self._prices, posts=page, users=page if authors else 0)
            budget.hold(spend, recovery=recovery)
            return Hold(self._hold("read", spend, None), page)

    def settle_read(self, hold: Hold, *, posts: int, authors: Sequence[str]) -> None:
        with self._lock:
            held, _ = self._holds.pop(hold.token)
            new_authors = set(authors) - self._authors
            self._authors |= new_authors
            actual = read_spend(self._prices, posts=posts, users=len(new_authors))
            self._require().settle(held, actual)
            self._log_store().settle_spending(hold.token, actual, now=self._clock.now())

    def hold_post(self, key: str, text: str) -> Hold:
        with self._lock:
            budget = self._require()
            if not budget.may_post(key, text):
                self._note_exhausted("post")
                raise BudgetExhausted(self._spent_text(budget, "a post that was not planned"))
            spend = budget.hold(post_spend(self._prices, text), key=key)
            return Hold(self._hold("post", spend, key))

    def settle_post(self, hold: Hold, outcome: PostOutcome) -> None:
        with self._lock:
            held, key = self._holds.pop(hold.token)
            assert key is not None  # a post's hold names its key
            self._require().settle_post(key, held, outcome)
            actual = Spend() if outcome == "refused" else held
            self._log_store().settle_spending(hold.token, actual, now=self._clock.now())

    def hold_repost(self) -> Hold:
        with self._lock:
            budget = self._require()
            if not budget.may_repost():
                self._note_exhausted("repost")
                raise BudgetExhausted(self._spent_text(budget, "a repost"))
            spend = budget.hold(repost_spend(self._prices))
            return Hold(self._hold("repost", spend, None))

    def settle_repost(self, hold: Hold, outcome: PostOutcome) -> None:
        with self._lock:
            held, _ = self._holds.pop(hold.token)
            actual = Spend() if outcome == "refused" else held
            self._require().settle(held, actual)
            self._log_store().settle_spending(hold.token, actual, now=self._clock.now())

    # -- inside --------------------------------------------------------------------------

    def _require(self) -> Budget:
        if self._budget is None:
            raise BudgetExhausted("no occurrence is running: nothing may be spent")
        return self._budget

    def _log_store(self) -> SpendingLog:
        assert self._store is not None  # set with the budget
        return self._store

    def _hold(self, kind: str, spend: Spend, key: str | None) -> int:
        assert self._occurrence is not None  # set with the budget
        row = self._log_store().hold_spending(
            self._occurrence, self.platform, kind=kind, spend=spend, now=self._clock.now()
        )
        self._holds[row] = (spend, key)
        return row

    def _note_exhausted(self, what: str) -> None:
        if not self._exhausted:
            self._exhausted = True
            budget = self._require()
            self._log.warning(
                "budget.exhausted",
                occurrence=self._occurrence,
                refused=what,
                spent=format_usd(budget.spent.micros),
                reads=budget.spent.reads,
                posts=budget.spent.posts,
            )

    def _spent_text(self, budget: Budget, what: str) -> str:
        cap = "no dollar cap" if self._caps.micros is None else format_usd(self._caps.micros)
        return (
            f"the budget of {self._occurrence} on X has no room for {what}: "
            f"{format_usd(budget.spent.micros)} spent of {cap}, {budget.spent.reads} posts read"
            + ("" if self._caps.reads is None else f" of {self._caps.reads}")
        )
