"""What a chat costs on X, and keeping one occurrence under the host's cap.

X bills per post read (every post a search or timeline returns, and every author returned
with them) and per post created (more when it carries a URL). Following reads each post once
(``since_id``), so what the polling interval changes is *when* money is spent, not how much
each post costs: reading is paced so that the read allowance lasts the whole follow window
instead of going in the first busy minutes, and at the cap reading stops.

The agenda's own posts are reserved up front: reading, reposting and unplanned posts may spend
only what is left over, so the questions still go out when reading has hit the cap.

Money is counted in integer micro-dollars: sums of $0.005 stay exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Literal

from bot.core.config_platforms import XBudget, XPrices, XSettings
from bot.core.problems import Loc, Problem
from bot.core.text import x_urls

PostOutcome = Literal["created", "refused", "unknown"]

MICROS_PER_USD = 1_000_000
# X's search answers at least 10 and at most 100 posts a page.
MIN_PAGE = 10
MAX_PAGE = 100
# Reads kept back for recovery: two looks at the bot's own latest posts.
RECOVERY_READS = 10
# Reading may run this far ahead of an even spread over the window (a share of the allowance).
HEADSTART = Decimal("0.1")


def to_micros(usd: Decimal) -> int:
    return int((usd * MICROS_PER_USD).to_integral_value(rounding=ROUND_CEILING))


def format_usd(micros: int) -> str:
    """$0.015, $1.20, $5.00: cents, or the tenth of a cent X prices in when needed."""
    usd = Decimal(micros) / MICROS_PER_USD
    text = f"{usd:.3f}"
    return "$" + (text[:-1] if text.endswith("0") else text)


@dataclass(frozen=True)
class Prices:
    """X's prices in micro-dollars."""

    post_read: int
    user_read: int
    post_created: int
    post_with_url: int
    repost: int

    @classmethod
    def from_settings(cls, prices: XPrices) -> Prices:
        return cls(
            post_read=to_micros(prices.post_read),
            user_read=to_micros(prices.user_read),
            post_created=to_micros(prices.post_created),
            post_with_url=to_micros(prices.post_with_url),
            repost=to_micros(prices.repost),
        )

    def post(self, text: str) -> int:
        return self.post_with_url if x_urls(text) else self.post_created

    @property
    def read_at_most(self) -> int:
        """The most one post read can cost: the post, and an author not seen before."""
        return self.post_read + self.user_read


@dataclass(frozen=True)
class Caps:
    micros: int | None
    reads: int | None
    posts: int | None

    @classmethod
    def from_settings(cls, budget: XBudget) -> Caps:
        return cls(
            micros=None if budget.max_usd is None else to_micros(budget.max_usd),
            reads=budget.max_reads,
            posts=budget.max_posts,
        )


@dataclass(frozen=True)
class Spend:
    """Counts and money, spent or held for a request whose answer is not in yet."""

    reads: int = 0  # posts returned by reads
    users: int = 0  # authors returned with them, each counted once per occurrence
    posts: int = 0  # posts created
    reposts: int = 0
    micros: int = 0

    def __add__(self, other: Spend) -> Spend:
        return Spend(
            self.reads + other.reads,
            self.users + other.users,
            self.posts + other.posts,
            self.reposts + other.reposts,
            self.micros + other.micros,
        )

    def __sub__(self, other: Spend) -> Spend:
        return Spend(
            self.reads - other.reads,
            self.users - other.users,
            self.posts - other.posts,
            self.reposts - other.reposts,
            self.micros - other.micros,
        )


def read_spend(prices: Prices, *, posts: int, users: int) -> Spend:
    return Spend(
        reads=posts, users=users, micros=posts * prices.post_read + users * prices.user_read
    )


def post_spend(prices: Prices, text: str) -> Spend:
    return Spend(posts=1, micros=prices.post(text))


def repost_spend(prices: Prices) -> Spend:
    return Spend(reposts=1, micros=prices.repost)


@dataclass(frozen=True)
class LaterPosts:
    """Posts written only later (the wrap-up thread), estimated to reserve for them."""

    posts: int
    with_url: bool  # one of them links to the transcript

    def cost(self, prices: Prices) -> int:
        if self.posts == 0:
            return 0
        extra = prices.post_with_url - prices.post_created if self.with_url else 0
        return self.posts * prices.post_created + extra


def wrapup_estimate(questions: int, *, transcript_url: bool, done: int = 0) -> LaterPosts:
    """The wrap-up thread: about one post of thanks and numbers, one per question, and one
    with the link; ``done`` of them are made already."""
    return LaterPosts(max(questions + 2 - done, 0), with_url=transcript_url and done == 0)


@dataclass(frozen=True)
class Estimate:
    """What `tweetchat plan` shows before a chat: the agenda exactly, the rest estimated."""

    posts: int
    posts_with_url: int
    posting: int  # micro-dollars
    later: LaterPosts
    later_cost: int
    reads: int
    people: int
    reading: int
    cap: int | None

    @property
    def total(self) -> int:
        return self.posting + self.later_cost + self.reading

    @property
    def fits(self) -> bool:
        return self.cap is None or self.total <= self.cap


def estimate(
    texts: Iterable[str],
    *,
    later: LaterPosts,
    expected_posts: int,
    expected_people: int,
    prices: Prices,
    caps: Caps,
) -> Estimate:
    texts = list(texts)
    return Estimate(
        posts=len(texts),
        posts_with_url=sum(1 for text in texts if x_urls(text)),
        posting=sum(prices.post(text) for text in texts),
        later=later,
        later_cost=later.cost(prices),
        reads=expected_posts,
        people=expected_people,
        reading=expected_posts * prices.post_read + expected_people * prices.user_read,
        cap=caps.micros,
    )


@dataclass
class Budget:
    """One occurrence's spending on X against its caps. Pure: the caller persists holds.

    ``reserved`` maps the ledger key of each planned post not yet made to its price; ``pool``
    and ``pool_posts`` keep money and places for posts written later (the wrap-up thread),
    which any post without a reservation draws on first. A request is *held* at its worst
    case before it is sent and *settled* at its real cost after, so a crash in between can
    only over-count. A few reads are kept back for recovery: after a crash, finding the bot's
    own post is what prevents a double post.
    """

    caps: Caps
    prices: Prices
    reserved: dict[str, int] = field(default_factory=dict)
    spent: Spend = field(default_factory=Spend)
    pool: int = 0
    pool_posts: int = 0
    recovery_reads: int = RECOVERY_READS
    # What each post without a reservation took from the pool: (micros, places).
    _from_pool: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Posts sent whose answer is not in yet: the reservation each took.
    _in_flight: dict[str, int] = field(default_factory=dict)
    # Posts whose answer never came: their charge stands (the post may exist), and a retry
    # is free, since X refuses the same text twice and at most one of them is billed.
    _unanswered: set[str] = field(default_factory=set)

    # -- what is left --------------------------------------------------------------------

    def free(self) -> int | None:
        """Micro-dollars left for reading, reposting and unplanned posts; None: no cap."""
        if self.caps.micros is None:
            return None
        kept = sum(self.reserved.values()) + self.pool + self.recovery_reads * self.prices.post_read
        return self.caps.micros - self.spent.micros - kept

    def _posts_free(self) -> int | None:
        if self.caps.posts is None:
            return None
        return self.caps.posts - self.spent.posts - len(self.reserved) - self.pool_posts

    def read_page(
        self,
        *,
        largest: int = MAX_PAGE,
        smallest: int = MIN_PAGE,
        authors: bool = True,
        recovery: bool = False,
    ) -> int:
        """How many posts the next read may ask for; 0 when the budget does not allow it.

        Each post is counted at its worst case (with its author new too, if ``authors``), so
        whatever the answer holds, the cap is never passed. A ``recovery`` read may use the
        reads kept back for it.
        """
        per_post = self.prices.read_at_most if authors else self.prices.post_read
        kept = self.recovery_reads if recovery else 0
        room = largest
        free = self.free()
        if free is not None:
            room = min(room, (max(free, 0) + kept * self.prices.post_read) // per_post)
        if self.caps.reads is not None:
            reads_left = self.caps.reads - self.spent.reads - self.recovery_reads + kept
            room = min(room, reads_left)
        return room if room >= smallest else 0

    def may_post(self, key: str, text: str) -> bool:
        if key in self.reserved or key in self._in_flight or key in self._unanswered:
            return True  # its money and its place under max_posts were set aside
        posts_free = self._posts_free()
        if posts_free is not None and posts_free + self.pool_posts < 1:
            return False
        free = self.free()
        return free is None or self.prices.post(text) <= max(free, 0) + self.pool

    def may_repost(self) -> bool:
        free = self.free()
        return free is None or self.prices.repost <= free

    # -- holding and settling ------------------------------------------------------------

    def hold(self, spend: Spend, *, key: str | None = None, recovery: bool = False) -> Spend:
        """Count ``spend`` as spent now and return what was held; a post uses up its key's
        reservation, and the retry of an unanswered post holds nothing."""
        if key is not None and key in self._unanswered:
            return Spend()
        if key is not None and key in self.reserved:
            self._in_flight[key] = self.reserved.pop(key)
        elif key is not None and key not in self._in_flight:
            taken = (min(spend.micros, self.pool), min(1, self.pool_posts))
            self.pool, self.pool_posts = self.pool - taken[0], self.pool_posts - taken[1]
            self._from_pool[key] = taken
        if recovery:
            self.recovery_reads = max(self.recovery_reads - spend.reads, 0)
        self.spent = self.spent + spend
        return spend

    def settle(self, held: Spend, actual: Spend) -> None:
        self.spent = self.spent - held + actual

    def settle_post(self, key: str, held: Spend, outcome: PostOutcome) -> None:
        """``created``: done for good; ``refused``: it costs nothing, and a planned post gets
        its reservation back; ``unknown``: counted, and a retry of the key may go on."""
        if outcome == "created":
            self._in_flight.pop(key, None)
            self._from_pool.pop(key, None)
            self._unanswered.discard(key)
        elif outcome == "refused":
            self.spent = self.spent - held
            if key not in self._unanswered:
                if key in self._in_flight:
                    self.reserved[key] = self._in_flight.pop(key)
                if key in self._from_pool:
                    micros, places = self._from_pool.pop(key)
                    self.pool, self.pool_posts = self.pool + micros, self.pool_posts + places
        else:
            self._unanswered.add(key)

    # -- pacing --------------------------------------------------------------------------

    def read_delay(
        self, now: datetime, *, start: datetime, end: datetime, shortest: timedelta
    ) -> timedelta:
        """How long to wait before the next read, so that reading lasts until ``end``.

        The allowance (what reading spent plus what is still free) is spread evenly over the
        window, with a head start; ahead of that line, the next read waits until the line
        catches up. Posts are not lost by waiting: the next read returns all since the last.
        """
        spent, allowance = self._reading()
        if allowance is None or allowance <= 0 or end <= start:
            return shortest
        headstart = int(allowance * HEADSTART)
        window = end - start
        line = headstart + allowance * min(max((now - start) / window, 0.0), 1.0)
        if spent <= line:
            return shortest
        catch_up = start + window * ((spent - headstart) / allowance)
        return max(shortest, min(catch_up, end) - now)

    def _reading(self) -> tuple[int, int | None]:
        """What reading has spent and may spend in all, in micro-dollars or else in reads."""
        free = self.free()
        if free is not None:
            spent = self.spent.reads * self.prices.post_read + (
                self.spent.users * self.prices.user_read
            )
            return spent, spent + max(free, 0)
        if self.caps.reads is not None:
            return self.spent.reads, self.caps.reads - self.recovery_reads
        return self.spent.reads, None


def planned_budget(
    caps: Caps,
    prices: Prices,
    planned: Mapping[str, str],
    *,
    done: Iterable[str],
    spent: Spend,
    later: LaterPosts | None = None,
) -> Budget:
    """The budget of an occurrence (re)starting: ``planned`` maps each planned post's key to
    its text; those ``done`` are already in ``spent``; ``later``: the posts written later."""
    finished = set(done)
    reserved = {key: prices.post(text) for key, text in planned.items() if key not in finished}
    later = later or LaterPosts(0, with_url=False)
    return Budget(
        caps=caps,
        prices=prices,
        reserved=reserved,
        spent=spent,
        pool=later.cost(prices),
        pool_posts=later.posts,
    )


def budget_problems(
    settings: XSettings, texts: Sequence[str], *, later: LaterPosts
) -> list[Problem]:
    """A cap that cannot even pay for the bot's own posts on X: the agenda's ``texts`` and
    the ``later`` ones (the wrap-up)."""
    prices = Prices.from_settings(settings.prices)
    caps = Caps.from_settings(settings.budget)
    where: Loc = ("platforms", "x", "budget")
    problems = []
    posting = sum(prices.post(text) for text in texts)
    kept = later.cost(prices) + RECOVERY_READS * prices.post_read
    if caps.micros is not None and posting + kept > caps.micros:
        with_url = sum(1 for text in texts if x_urls(text))
        problems.append(
            Problem(
                (*where, "max_usd"),
                f"the agenda's {len(texts)} posts on X cost {format_usd(posting)}"
                + (f" ({with_url} with a URL)" if with_url else "")
                + f", and {format_usd(kept)} is kept for the wrap-up and for recovery after "
                f"a crash: more than max_usd ({format_usd(caps.micros)})",
                f"raise max_usd to at least {format_usd(posting + kept)}, or drop URLs from "
                "posts (X charges more for a post with a URL)",
            )
        )
    own_posts = len(texts) + later.posts
    if caps.posts is not None and own_posts > caps.posts:
        problems.append(
            Problem(
                (*where, "max_posts"),
                f"the agenda has {len(texts)} posts on X and the wrap-up about {later.posts}: "
                f"more than max_posts ({caps.posts})",
                f"raise max_posts to at least {own_posts}",
            )
        )
    return problems


def cost_lines(
    settings: XSettings, posts: Sequence[tuple[str, str]], *, later: LaterPosts
) -> list[str]:
    """What `tweetchat plan` says about the cost of an occurrence on X: ``posts`` are the
    agenda's (key, text) pairs there."""
    prices = Prices.from_settings(settings.prices)
    caps = Caps.from_settings(settings.budget)
    found = estimate(
        [text for _, text in posts],
        later=later,
        expected_posts=settings.expected_posts,
        expected_people=settings.expected_people,
        prices=prices,
        caps=caps,
    )
    cap = "no dollar cap" if caps.micros is None else f"max_usd {format_usd(caps.micros)}"
    lines = [
        f"X: about {format_usd(found.total)} per occurrence ({cap})",
        f"  agenda: {found.posts} posts, {format_usd(found.posting)}"
        + (f" ({found.posts_with_url} with a URL)" if found.posts_with_url else ""),
        f"  wrap-up: about {later.posts} posts, {format_usd(found.later_cost)} (reserved)",
        f"  reading: about {format_usd(found.reading)} for {found.reads} posts by "
        f"{found.people} people (expected_posts, expected_people); each post is read once",
    ]
    if not found.fits:
        lines.append(
            "  warning: more than the cap: reading stops when the money left for it is spent; "
            "the agenda and the wrap-up are reserved and still go out"
        )
    for key, text in posts:
        urls = x_urls(text)
        if urls:
            lines.append(
                f"warning: {key} contains a URL ({urls[0]}): X charges "
                f"{format_usd(prices.post_with_url)} for it instead of "
                f"{format_usd(prices.post_created)}"
            )
    return lines
