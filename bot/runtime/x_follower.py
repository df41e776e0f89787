"""Following one occurrence on X: polling search, paying for each post read, within a budget.

X is not Mastodon: this access has no stream, every post read is billed, and ``since_id``
hands back exactly the posts not read yet. So reading works by ranges of ids, each read once:

- the hashtag, from the window's start; the bot's own posts come with it (they carry the
  tag) and name the conversations to follow;
- per conversation of the bot's posts, the posts without the hashtag (answers that only
  reply): disjoint from the hashtag's, so no post is read by both.

A range is read newest page first. Its cursor keeps the newest id read and, while older pages
of a poll are unread, the gap below it; the cursor is saved after each page is archived, so a
failure or a crash resumes the gap instead of reading pages again.

Polls are spaced by the budget's pacing (never closer than ``platforms.x.poll_interval``) and by
X's rate-limit resets. Reading stops for the occurrence when the budget is spent, when X's usage
cap is reached (an error) or when the app may not search at all (post-only mode, one warning);
posting goes on in every case. There is no settling pass: looking every post up again would
cost as much as the chat did.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.answers import NO_ANSWER, Answer, AnswerKey, answer_for
from bot.core.config import Follow
from bot.core.config_platforms import XSettings
from bot.core.model import ArchivedPost
from bot.ports.clock import Clock
from bot.ports.console import HealthStore
from bot.ports.errors import BudgetExhausted, PermanentError, ReadingRefused, TransientError
from bot.ports.following import Archive, Fetched, Skipped
from bot.ports.posting import Ledger
from bot.ports.spending import PaidSearch, SearchPage
from bot.runtime.clock import wait_until
from bot.runtime.follow_filing import log_captured, log_skipped
from bot.runtime.follow_window import (
    OPEN_END,
    EndDelay,
    follow_window,
    ledger_answer_key,
    steered_end,
)
from bot.runtime.health import HealthRecorder
from bot.runtime.spending import SpendingMeter

# X allows 300 searches per 15 minutes: one every 3 s. Reply polls take one per conversation,
# so with many conversations (replies refused: every question its own) they come less often.
SEARCH_SPACING = timedelta(seconds=3)
# Backoff after a failure without a reset time from X.
RETRY_BASE = timedelta(seconds=2)
RETRY_CAP = timedelta(seconds=60)
# Pages read in one go; the rest of a range waits for the next poll (its gap is kept).
MAX_PAGES_PER_POLL = 20
MAX_IDLE_SECONDS = 0.5
# Reply chains longer than this are not followed up (a loop or an attack).
MAX_CHAIN = 64


@dataclass
class RangeCursor:
    """What of one query's range is read: everything up to ``newest``, except, while
    ``gap`` is set, the ids between ``gap_low`` (None: the window's start) and ``gap_high``."""

    newest: str | None = None
    gap: bool = False
    gap_low: str | None = None
    gap_high: str | None = None

    def dump(self) -> str:
        parts = [f"n={self.newest or ''}"]
        if self.gap:
            parts.append(f"g={self.gap_low or ''}:{self.gap_high or ''}")
        return ";".join(parts)

    @classmethod
    def load(cls, text: str | None) -> RangeCursor:
        cursor = cls()
        for part in (text or "").split(";"):
            name, _, value = part.partition("=")
            if name == "n":
                cursor.newest = value or None
            elif name == "g":
                low, _, high = value.partition(":")
                cursor.gap, cursor.gap_low, cursor.gap_high = True, low or None, high or None
        return cursor


class ReadingStopped(Exception):
    """Reading is over for this occurrence; ``reason`` says why."""


@dataclass
class _Due:
    at: datetime
    failures: int = 0


@dataclass
class _Counts:
    new: int = 0
    skipped: int = 0
    pages: int = 0


class XFollower:
    def __init__(
        self,
        *,
        source: PaidSearch,
        archive: Archive,
        ledger: Ledger,
        meter: SpendingMeter,
        clock: Clock,
        stop_event: threading.Event,
        tag: str,
        follow: Follow,
        settings: XSettings,
        after_end: timedelta,
        log: Any,
        end_delay: EndDelay | None = None,
        health: HealthStore | None = None,
    ) -> None:
        self._source = source
        self._archive = archive
        self._ledger = ledger
        self._meter = meter
        self._clock = clock
        self._stop = stop_event
        self._tag = tag
        self._follow = follow
        self._settings = settings
        self._after_end = after_end
        self._end_delay = end_delay
        self._health = health  # for the hosts' console: waits and errors
        self._log = log.bind(platform=source.name)

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        """Wait for the window, read until it closes or reading stops. Returns on stop."""
        window = follow_window(
            occurrence, agenda, margin=self._follow.margin, after=self._after_end
        )
        if not wait_until(self._clock, self._stop, window.start):
            return
        if self._clock.now() >= steered_end(window.end, self._end_delay):
            return
        XCapture(self, occurrence, agenda, window.start, window.end).follow()

    def capture(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> XCapture:
        """The reading of one occurrence, to drive poll by poll (``XCapture.poll``)."""
        window = follow_window(
            occurrence, agenda, margin=self._follow.margin, after=self._after_end
        )
        return XCapture(self, occurrence, agenda, window.start, window.end)


@dataclass
class XCapture:
    follower: XFollower
    occurrence: Occurrence
    agenda: Sequence[PlannedPost]
    start: datetime
    end: datetime
    counts: _Counts = field(default_factory=_Counts)
    # Post id -> the id it replies to, of replies only: a post that replies to nothing ends
    # a chain whether it is kept here or not, and there are many.
    parents: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        f = self.follower
        self.source, self.archive, self.clock = f._source, f._archive, f._clock
        self.platform = self.source.name
        self.log = f._log.bind(occurrence=self.occurrence.id)
        self.prefix = f"{self.occurrence.id}/{self.platform}"
        now = self.clock.now()
        self.tag_due = _Due(now)
        self.replies_due = _Due(now)
        self.blocked_until = now
        self.health = HealthRecorder(
            f._health, self.clock, occurrence=self.occurrence.id, platform=self.platform
        )
        self.health.mode("polling", "X is searched at intervals: it has no stream")
        # The conversations of the bot's posts, from those archived already.
        self.conversations: dict[str, None] = {
            p.conversation_id or p.id: None
            for p in self.archive.own_posts(self.occurrence.id, self.platform)
        }

    # -- the loop ------------------------------------------------------------------------

    def follow(self) -> None:
        stop = self.follower._stop
        self.log.info(
            "follow.start",
            tag=self.follower._tag,
            window_start=self.start.isoformat(),
            window_end=self.end.isoformat(),
            mode="polling search (X)",
        )
        reason = "the window closed"
        try:
            while not stop.is_set() and self.clock.now() < self._end():
                now = self.clock.now()
                if now >= self.blocked_until and now >= self.tag_due.at:
                    self._guarded("tag", self.tag_due, self._read_tag)
                now = self.clock.now()
                if now >= self.blocked_until and now >= self.replies_due.at:
                    self._guarded("replies", self.replies_due, self._read_replies)
                self.health.flush()
                end = self._end()
                due = max(min(self.tag_due.at, self.replies_due.at, end), self.blocked_until)
                idle = (due - self.clock.now()).total_seconds()
                stop.wait(min(max(idle, 0.0), MAX_IDLE_SECONDS))
            if not stop.is_set():
                # What came since the last poll: new posts only, nothing is read twice.
                self.poll()
        except ReadingStopped as stopped:
            reason = str(stopped)
        spent = self.follower._meter.spent()
        self.log.info(
            "follow.end",
            reason="shutdown" if stop.is_set() else reason,
            new=self.counts.new,
            skipped=self.counts.skipped,
            pages=self.counts.pages,
            posts_read=spent.reads,
            conversations=len(self.conversations),
        )

    def _end(self) -> datetime:
        # The hosts may move the end of the agenda while it is read.
        return steered_end(self.end, self.follower._end_delay)

    def poll(self) -> None:
        """One read of the hashtag and of the replies, whatever the schedule says; raises
        ReadingStopped when reading is over for the occurrence."""
        self._guarded("tag", self.tag_due, self._read_tag)
        self._guarded("replies", self.replies_due, self._read_replies)

    def _guarded(self, activity: str, due: _Due, read: Any) -> None:
        """One poll; a failure is logged and the poll tried again later (X's reset time for a
        rate limit). The budget, the usage cap and a refused search end reading."""
        now = self.clock.now()
        try:
            read()
        except BudgetExhausted as exc:
            self.health.error(f"the budget is spent: {exc.reason}")
            raise ReadingStopped(f"the budget is spent: {exc.reason}") from None
        except ReadingRefused as exc:
            if exc.cause == "usage_cap":
                self.log.error(
                    "x.usage_capped",
                    reason=exc.reason,
                    action="no more reading on X for this occurrence; posting goes on",
                )
            else:
                self.log.warning(
                    "follow.unavailable",
                    reason=exc.reason,
                    action="post-only mode on X: the agenda is posted, nothing is captured "
                    "there (the search needs a higher access level)",
                )
            self.health.error(exc.reason)
            raise ReadingStopped(exc.reason) from None
        except TransientError as exc:
            if exc.retry_after is not None:
                wait = timedelta(seconds=max(exc.retry_after, 0.0))
                self.blocked_until = due.at = now + wait
                self.health.rate_limited(self.blocked_until, exc.reason)
                self.log.warning(
                    "ratelimit.wait",
                    seconds=round(wait.total_seconds(), 2),
                    reason=exc.reason,
                    activity=activity,
                )
            else:
                self._backoff(due, now, exc.reason, activity, "retry.wait")
        except PermanentError as exc:
            self._backoff(due, now, exc.reason, activity, "follow.refused")
        except Exception:
            # A bug must not end the capture: log it whole and try again later.
            self.log.exception("follow.error", activity=activity)
            self._backoff(due, now, "error", activity, None)

    def _backoff(
        self, due: _Due, now: datetime, reason: str, activity: str, event: str | None
    ) -> None:
        delay = min(RETRY_CAP, RETRY_BASE * 2**due.failures)
        due.failures += 1
        due.at = now + delay
        self.health.error(reason if event is not None else f"the bot failed reading the {activity}")
        if event is not None:
            self.log.warning(
                event, seconds=round(delay.total_seconds(), 2), reason=reason, activity=activity
            )

    def _next_poll(self, due: _Due, requests: int) -> None:
        now = self.clock.now()
        # Spread over the window as the hosts moved it (while paused, its end is unknown:
        # the planned one stands).
        end = self._end()
        paced = self.follower._meter.read_delay(
            now,
            start=self.start,
            end=self.end if end == OPEN_END else end,
            shortest=self.follower._settings.poll_interval,
        )
        due.failures = 0
        due.at = now + max(paced, SEARCH_SPACING * 2 * requests)

    # -- reading -------------------------------------------------------------------------

    def _read_tag(self) -> None:
        query = self.source.tag_query(self.follower._tag)
        self._read_range(f"{self.prefix}/tag", query, floor=None)
        self._next_poll(self.tag_due, 1)

    def _read_replies(self) -> None:
        for conversation in list(self.conversations):
            if self.follower._stop.is_set():
                return
            query = self.source.replies_query(conversation, self.follower._tag)
            self._read_range(f"{self.prefix}/replies/{conversation}", query, floor=conversation)
        # Own requests count against the same 300 searches as the hashtag's.
        self._next_poll(self.replies_due, 1 + len(self.conversations))

    def _read_range(self, name: str, query: str, *, floor: str | None) -> None:
        """Everything of the query not read yet: the gap an earlier poll left, then what is
        new. ``floor``: the range starts above this id (else at the window's start)."""
        cursor = RangeCursor.load(self.archive.cursor(name))
        if cursor.newest is None and floor is not None:
            cursor.newest = floor
        if cursor.gap:
            cursor = self._read_down(name, query, cursor, top=False)
            if cursor.gap:
                return  # the rest of the gap waits for the next poll
        self._read_down(name, query, cursor, top=True)

    def _read_down(self, name: str, query: str, cursor: RangeCursor, *, top: bool) -> RangeCursor:
        """Pages newest first: above ``cursor.newest`` (``top``), or within the gap."""
        low = cursor.newest if top else cursor.gap_low
        high = None if top else cursor.gap_high
        for _ in range(MAX_PAGES_PER_POLL):
            page = self.source.search(
                query,
                since_id=low,
                until_id=high,
                start_time=self.start if low is None else None,
            )
            self.counts.pages += 1
            self._file_page(page)
            if top and page.newest_id is not None:
                cursor.newest, top = page.newest_id, False
            if page.more and page.oldest_id is not None:
                cursor.gap, cursor.gap_low, cursor.gap_high = True, low, page.oldest_id
                high = page.oldest_id
            else:
                cursor.gap, cursor.gap_low, cursor.gap_high = False, None, None
            self.archive.set_cursor(name, cursor.dump(), now=self.clock.now())
            if not cursor.gap or self.follower._stop.is_set():
                break
        return cursor

    # -- filing --------------------------------------------------------------------------

    def _file_page(self, page: SearchPage) -> None:
        key = self._answer_key()
        for item in reversed(page.items):  # oldest first: parents before their replies
            self._file(item, key)

    def _file(self, item: Fetched, key: AnswerKey) -> None:
        if item.id is not None and item.in_reply_to is not None:
            self.parents[item.id] = item.in_reply_to
        if isinstance(item, Skipped):
            self.counts.skipped += 1
            log_skipped(self.log, item, via="search")
            return
        if item.is_own:
            self.conversations.setdefault(item.conversation_id or item.id, None)
        question, rule = self._answer(item, key)
        post = replace(item, occurrence=self.occurrence.id, question=question, rule=rule)
        now = self.clock.now()
        if self.archive.save(post, now=now) == "new":
            self.counts.new += 1
            log_captured(self.log, post, via="search", now=now)

    def _answer(self, post: ArchivedPost, key: AnswerKey) -> Answer:
        if post.is_own:
            return NO_ANSWER
        own = {q.post_id for q in key.questions} | key.other_posts
        chain: list[str] = []
        parent = post.in_reply_to
        while parent is not None and parent not in chain and len(chain) < MAX_CHAIN:
            chain.append(parent)
            if parent in own:
                break
            if parent not in self.parents:
                stored = self.archive.get(self.platform, parent)
                if stored is None or stored.in_reply_to is None:
                    break
                self.parents[parent] = stored.in_reply_to
            parent = self.parents[parent]
        return answer_for(key, text=post.text, created_at=post.created_at, reply_chain=chain)

    def _answer_key(self) -> AnswerKey:
        key, _ = ledger_answer_key(
            self.follower._ledger, self.occurrence, self.agenda, self.platform
        )
        return key
