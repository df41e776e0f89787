"""Curation (issue 4): re-reading posts, boosting, mentions and direct messages, and the
store of opt-outs, decisions and approval rounds."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

from bot.core.agenda import Occurrence
from bot.core.model import ArchivedPost, Author
from bot.ports.posting import Published


@dataclass(frozen=True)
class PostState:
    """A post as its server shows it now: counts gathered since capture, current author."""

    post_id: str
    visibility: str  # public, unlisted, private, direct
    replies: int
    boosts: int
    favourites: int
    author: Author
    # The author's server says the bot may not boost it (GoToSocial's interaction policy).
    reblog_refused: bool = False


@runtime_checkable
class RefreshBudget(Protocol):
    """A platform whose re-reads of posts cost a request each (no batched read)."""

    def refresh_limit(self, every: timedelta) -> int | None:
        """How many posts one ``fetch_posts`` may re-read when called once per ``every``,
        keeping the whole chat within the server's rate limit; None: no limit needed."""
        ...


@dataclass(frozen=True)
class Mention:
    """A post that mentions the bot, from its notifications."""

    cursor: str  # the notification's id: opaque, only handed back to ``mentions``
    status_id: str
    author: Author
    text: str  # plain text
    visibility: str
    in_reply_to: str | None
    created_at: datetime


@runtime_checkable
class CuratingPlatform(Protocol):
    """A platform the bot curates on: re-reads posts, boosts, reads mentions, writes privately.

    Boosting and liking are the only ways it touches others' posts, and it never likes."""

    @property
    def name(self) -> str: ...

    def home(self) -> str:
        """The bot's own server name (bare ``@user`` handles live there)."""
        ...

    def own_author(self) -> Author: ...

    def max_characters(self) -> int: ...

    def fetch_posts(self, ids: Sequence[str]) -> list[PostState]:
        """The posts that still exist, in few requests; a missing id was deleted or hidden."""
        ...

    def boost(self, post_id: str) -> Published:
        """Boost once; boosting a post the bot boosted already returns that boost."""
        ...

    def mentions(self, *, after: str | None) -> tuple[list[Mention], str | None]:
        """Mentions of the bot newer than the cursor ``after``, oldest first (with no cursor,
        the most recent ones, bounded), and the cursor to pass next time (it also moves past
        notifications that were unusable, e.g. of a deleted post)."""
        ...

    def send_direct(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        """A private message to the accounts the text mentions (and no one else)."""
        ...


@runtime_checkable
class Unboosting(Protocol):
    """A platform where the bot can take a boost back (a host's un-boost, issue 14)."""

    def unboost(self, post_id: str) -> None:
        """Undo the bot's boost of the post; nothing happens if there is none."""
        ...


class HostBoostCheck(Protocol):
    """A platform's check of a host's boost from the console, done as an approval is."""

    def host_boost_refusal(self, occurrence: Occurrence, post: ArchivedPost) -> str | None:
        """Why the bot may not boost ``post`` now, its server read again: gone or hidden
        from the bot, or a hard rule it breaks (consent, safety); None if it may."""
        ...


DecisionState = Literal["scored", "rejected", "offered", "boosting", "boosted", "failed"]


@dataclass(frozen=True)
class BoostDecision:
    """The latest decision about one post, kept for the wrap-up."""

    occurrence: str
    platform: str
    post_id: str
    author: str  # author key (platform:id), never a name
    question: int  # 0: the intro
    state: DecisionState
    decided_at: datetime
    score: float | None = None
    breakdown: tuple[tuple[str, float], ...] = ()  # points per rule
    rule: str | None = None  # the hard rule that rejected it
    reason: str | None = None
    always: bool = False  # a guest's or co-host's post, outside the caps
    boosted_at: datetime | None = None


@dataclass(frozen=True)
class ApprovalRound:
    """The numbered candidates sent to the hosts for one question, and what they answered."""

    occurrence: str
    platform: str
    question: int
    post_ids: tuple[str, ...]  # number n is post_ids[n - 1]
    state: Literal["open", "answered"]
    sent_at: datetime
    message_id: str | None = None
    answer: str | None = None


class CurationStore(Protocol):
    """Opt-outs, decisions, approval rounds and the notification cursor."""

    def add_optout(
        self, platform: str, author_id: str, *, kind: str, status_id: str, now: datetime
    ) -> bool:
        """Record a stop (or a forget me, which supersedes it); False if nothing changed."""
        ...

    def optouts(self) -> dict[str, str]:
        """Author key -> ``stop`` or ``forget``."""
        ...

    def save_decision(self, decision: BoostDecision) -> None:
        """Insert or replace the post's decision; a boosted post's decision is final."""
        ...

    def decisions(
        self, occurrence: str, *, post_ids: Collection[str] | None = None
    ) -> list[BoostDecision]:
        """The occurrence's decisions, oldest first; only those about ``post_ids`` if given."""
        ...

    def forget_decisions(self, author: str) -> int:
        """Remove every decision about an author's posts (``forget me``)."""
        ...

    def save_round(self, round_: ApprovalRound) -> None: ...

    def rounds(self, occurrence: str, platform: str) -> list[ApprovalRound]: ...

    def notification_cursor(self, platform: str) -> str | None: ...

    def set_notification_cursor(self, platform: str, cursor: str) -> None: ...
