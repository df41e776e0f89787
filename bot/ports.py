"""What the runtime needs from the world, as small Protocols. Adapters implement them."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

from bot.core.budget import PostOutcome, Spend
from bot.core.health import PlatformHealth
from bot.core.masking import mask
from bot.core.model import ArchivedPost, Author
from bot.core.steering import CommandState, HostCommand


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


@dataclass(frozen=True)
class Published:
    """A post as the platform holds it."""

    remote_id: str
    url: str
    created_at: datetime | None = None


class PlatformError(Exception):
    """A platform refused or failed a request; adapters raise only these subclasses.

    The reason is masked: servers echo what they were sent, the token included."""

    def __init__(self, reason: str) -> None:
        reason = mask(reason)
        super().__init__(reason)
        self.reason = reason


# The longest the bot waits on a server's word (a rate limit's reset): a reset hours ahead is
# a mistake or an attack, and a chat lasts about an hour.
MAX_RETRY_AFTER = 900.0


class TransientError(PlatformError):
    """Worth retrying: network trouble, 429, 5xx. ``retry_after`` is the server's word,
    within 0 and ``MAX_RETRY_AFTER`` (None if the server's word is not a number)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = (
            None
            if retry_after is None or math.isnan(retry_after)
            else min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        )


class PermanentError(PlatformError):
    """Retrying cannot help: bad token, missing scope, text refused."""


class NoStreaming(PermanentError):
    """The server offers no live stream the bot can use: poll for the rest of the run."""


class TokenRefused(PermanentError):
    """The server refused the credentials themselves (401, 403 on the account's own read);
    any other refusal is about an endpoint or a post, never the token."""


class InteractionRefused(PermanentError):
    """The server refuses this interaction with this post (a boost, by the author's policy):
    recorded as the author's wish, never retried."""


class PostingPlatform(Protocol):
    """A place the bot publishes to."""

    @property
    def name(self) -> str: ...

    def max_characters(self) -> int:
        """The platform's post length limit, as the server says."""
        ...

    def post(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        """Publish once; ``key`` is stable per planned post so the server can de-duplicate."""
        ...

    def find_own_post(self, text: str, *, since: datetime) -> Published | None:
        """The bot's own post with this text, made at or after ``since``, if any."""
        ...


LedgerState = Literal["claimed", "done", "missed", "failed"]


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    occurrence: str
    platform: str
    state: LedgerState
    planned_at: datetime
    claimed_at: datetime
    remote_id: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    error: str | None = None


class Ledger(Protocol):
    """Exactly-once bookkeeping of outward actions, shared by every worker."""

    def get(self, key: str) -> LedgerEntry | None: ...

    def claim(
        self, key: str, *, occurrence: str, platform: str, planned_at: datetime, now: datetime
    ) -> bool:
        """Insert the key as claimed; False if any worker claimed it already."""
        ...

    def reclaim(self, key: str, *, now: datetime) -> bool:
        """Take a failed key back to claimed for another attempt; False if it is not failed."""
        ...

    def record(self, key: str, published: Published, *, now: datetime) -> None: ...

    def mark(
        self,
        key: str,
        state: LedgerState,
        *,
        error: str | None,
        now: datetime,
        occurrence: str,
        platform: str,
        planned_at: datetime,
    ) -> None:
        """Set a final state (missed) or a failure, inserting the key if absent."""
        ...

    def entries(self, occurrence: str) -> list[LedgerEntry]: ...


class Ownership(Protocol):
    """Which worker acts for a chat occurrence: one at a time, across every worker of a
    database. A lease lasts a while and is renewed; a worker that stops renewing loses it."""

    @property
    def worker_id(self) -> str: ...

    def acquire(self, occurrence: str, *, now: datetime) -> bool:
        """Take the occurrence, or renew this worker's hold; False while another's is live."""
        ...

    def owns(self, occurrence: str, *, now: datetime) -> bool:
        """Whether this worker's hold is live now: asked right before every claim."""
        ...

    def release(self, occurrence: str) -> None:
        """Let another worker take over at once (a clean shutdown, the occurrence's end)."""
        ...


class Heartbeat(Protocol):
    """A sign of life that `tweetchat health` reads."""

    def beat(self, *, now: datetime) -> None: ...

    def forget(self) -> None:
        """This worker has stopped: its heartbeat goes."""
        ...


@dataclass(frozen=True)
class ServerFact:
    """One thing `tweetchat doctor` found out about a server, read without writing."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class AccountFacts:
    """What a platform says about the bot's account and its limits, for `tweetchat doctor`."""

    username: str
    bot: bool  # flagged as an automated account
    max_characters: int
    server: tuple[ServerFact, ...] = ()  # what the server can do, a row each
    differences: tuple[str, ...] = ()  # what the bot does differently on this server
    unknowable: tuple[str, ...] = ()  # what only the chat itself can find out


Capability = Literal["read", "post", "boost"]


@runtime_checkable
class Inspectable(Protocol):
    """A platform that can describe its account and its token. Reads only: nothing is
    posted, boosted, sent or edited to find out."""

    def account_facts(self) -> AccountFacts: ...

    def allows(self, capability: Capability) -> bool | None:
        """Whether the token's scopes allow this; None when the server does not say."""
        ...


# -- curation: boosting, mentions, direct messages (issue 4) ------------------------------


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


class ArchiveHistory(Protocol):
    """What curation and the series' numbers need from the archive beyond one occurrence."""

    def returning_authors(self, chat_id: str, *, before: str) -> set[str]:
        """Author keys with a post in an occurrence of the chat earlier than ``before``."""
        ...

    def occurrences(self, chat_id: str) -> list[str]:
        """The ids of the chat's occurrences with anything archived, oldest first."""
        ...

    def forget_author(self, platform: str, author_id: str, *, now: datetime) -> int:
        """Delete every archived post of the author, in every occurrence, for good."""
        ...


# -- following a chat and its archive (issue 3) ---------------------------------------------


@dataclass(frozen=True)
class Skipped:
    """A status the follower saw and does not keep, and why."""

    id: str | None
    reason: str
    in_reply_to: str | None = None
    # Not public, or a boost: expected. False: malformed or oversized, worth a warning.
    expected: bool = True
    # The server shows it, but not publicly (any more): it has no place in the archive.
    hidden: bool = False


# A status as the platform served it. An ArchivedPost here has no occurrence, question or
# rule yet: the follower files it.
Fetched = ArchivedPost | Skipped


@dataclass(frozen=True)
class TagPage:
    """One page of a hashtag timeline. Cursors are opaque: only ever handed back."""

    items: list[Fetched]  # newest first, as served
    newer: str | None  # pass as ``newer_than`` to read the posts above this page
    older: str | None  # pass as ``older_than`` to read below it; None: nothing below
    full: bool  # the server filled the page, so more may be waiting above it


@dataclass(frozen=True)
class PostEvent:
    item: Fetched
    edited: bool  # an edit of a post seen before, not a new one


@dataclass(frozen=True)
class DeleteEvent:
    id: str


@dataclass(frozen=True)
class BadEvent:
    """An event that could not be read; the stream goes on."""

    reason: str


StreamEvent = PostEvent | DeleteEvent | BadEvent


class EventStream(Protocol):
    def events(self) -> Iterator[StreamEvent]:
        """Events as they come. Ends quietly after ``close``; raises TransientError when the
        connection is lost or goes silent."""
        ...

    def close(self) -> None:
        """From any thread: end ``events`` promptly."""
        ...


@runtime_checkable
class HashtagSource(Protocol):
    """Where the follower reads a chat: the hashtag and the replies to the bot's posts."""

    @property
    def name(self) -> str: ...

    def tag_page(
        self, tag: str, *, newer_than: str | None = None, older_than: str | None = None
    ) -> TagPage:
        """The newest page, or the page right above ``newer_than``, or right below
        ``older_than``."""
        ...

    def replies(self, post_id: str) -> list[Fetched]:
        """Every reply under a post, however deep, parents before children."""
        ...

    def fetch(self, post_id: str) -> Fetched | None:
        """The post as it is now; None when it was deleted (or is hidden from the bot)."""
        ...

    def open_stream(self, tag: str) -> EventStream:
        """A connected stream of the hashtag's events; PermanentError when the server
        refuses streaming (the follower then polls), NoStreaming when it has no stream
        at all (the follower stops asking)."""
        ...


SaveOutcome = Literal["new", "edited", "updated", "unchanged", "stale", "deleted"]


class Archive(Protocol):
    """The captured posts of every occurrence, once per (platform, id), and read cursors."""

    def save(self, post: ArchivedPost, *, now: datetime) -> SaveOutcome:
        """Insert or replace. ``stale``: an older version than the stored edit, ignored;
        ``deleted``: the post was deleted before and stays deleted."""
        ...

    def delete(self, platform: str, post_id: str, *, occurrence: str, now: datetime) -> bool:
        """Remove the post for good (later saves of it are refused); False if it was not
        archived."""
        ...

    def get(self, platform: str, post_id: str) -> ArchivedPost | None: ...

    def posts(self, occurrence: str) -> list[ArchivedPost]:
        """The occurrence's posts in time order."""
        ...

    def ids(self, occurrence: str, platform: str) -> set[str]:
        """The ids of the occurrence's posts on a platform (cheap: no post is read)."""
        ...

    def window_posts(
        self,
        occurrence: str,
        platform: str,
        *,
        question: int,
        start: datetime,
        end: datetime,
        limit: int,
    ) -> list[ArchivedPost]:
        """The latest ``limit`` posts of a question's window on a platform, the latest first:
        of those answering ``question``, and those answering none made from ``start`` until
        before ``end``."""
        ...

    def author_posts(
        self, occurrence: str, platform: str, author_ids: Collection[str]
    ) -> list[ArchivedPost]:
        """The occurrence's posts on a platform by any of these authors."""
        ...

    def own_posts(self, occurrence: str, platform: str) -> list[ArchivedPost]:
        """The bot's own posts of the occurrence on a platform, in time order."""
        ...

    def containing(self, occurrence: str, platform: str, text: str) -> list[ArchivedPost]:
        """The occurrence's posts on a platform, except the bot's own, whose plain text holds
        ``text`` in any case (ASCII), in time order: a mention of the bot, to be checked."""
        ...

    def others_texts(self, occurrence: str, platform: str) -> Iterator[str]:
        """The plain texts of the occurrence's posts on a platform, except the bot's own, read
        as they are consumed (a busy chat's are many)."""
        ...

    def cursor(self, name: str) -> str | None: ...

    def set_cursor(self, name: str, value: str, *, now: datetime) -> None: ...


# -- X: paid reads, within a budget (issue 5) -----------------------------------------------


class ReadingRefused(PermanentError):
    """The platform refuses reading as a whole, not just one request: following stops for the
    occurrence and posting goes on. ``cause``: ``access`` (the app's access level may not
    search) or ``usage_cap`` (the account's usage cap is reached)."""

    def __init__(self, reason: str, *, cause: Literal["access", "usage_cap"]) -> None:
        super().__init__(reason)
        self.cause = cause


class BudgetExhausted(PermanentError):
    """The occurrence's budget does not cover this request; nothing was sent."""


@dataclass(frozen=True)
class Hold:
    """Money set aside for one request until its answer says what it cost."""

    token: int  # the meter's own reference
    page: int = 0  # a read: how many posts it may ask for


class Meter(Protocol):
    """Pays for the requests of a platform that bills them (X). Each request is held at its
    worst case before it is sent and settled at its real cost after; a hold raises
    BudgetExhausted when the occurrence's budget does not cover it."""

    def hold_read(self, *, largest: int, smallest: int, authors: bool, recovery: bool) -> Hold:
        """A read of at most ``hold.page`` posts (with their authors if ``authors``);
        ``recovery``: a look for the bot's own post, from a small reserve."""
        ...

    def settle_read(self, hold: Hold, *, posts: int, authors: Sequence[str]) -> None: ...

    def hold_post(self, key: str, text: str) -> Hold: ...

    def settle_post(self, hold: Hold, outcome: PostOutcome) -> None:
        """``unknown``: no answer came (the post may exist); a retry of the key may go on."""
        ...

    def hold_repost(self) -> Hold: ...

    def settle_repost(self, hold: Hold, outcome: PostOutcome) -> None: ...


class SpendingLog(Protocol):
    """Where a meter keeps what each paid request cost, so the cap holds across restarts."""

    def hold_spending(
        self, occurrence: str, platform: str, *, kind: str, spend: Spend, now: datetime
    ) -> int:
        """Record ``spend`` as held before a request; returns the row to settle."""
        ...

    def settle_spending(self, row_id: int, spend: Spend, *, now: datetime) -> None: ...

    def spending(self, occurrence: str, platform: str) -> Spend:
        """Everything spent or held for the occurrence on the platform."""
        ...


@dataclass(frozen=True)
class SearchPage:
    """One page of a search, newest first. Ids are X's: numbers, in time order."""

    items: list[Fetched]
    newest_id: str | None
    oldest_id: str | None
    more: bool  # more posts of the range wait below oldest_id


@runtime_checkable
class PaidSearch(Protocol):
    """Searching a platform that bills each post read (X): the follower reads each range of
    ids once, newest page first."""

    @property
    def name(self) -> str: ...

    def tag_query(self, tag: str) -> str:
        """The chat's hashtag, reposts left out."""
        ...

    def replies_query(self, conversation_id: str, tag: str) -> str:
        """The posts of a conversation without the hashtag (the tagged ones come with it)."""
        ...

    def search(
        self,
        query: str,
        *,
        since_id: str | None,
        until_id: str | None,
        start_time: datetime | None,
    ) -> SearchPage:
        """The newest page of posts above ``since_id`` (or from ``start_time``) and below
        ``until_id``; raises BudgetExhausted, ReadingRefused, Transient or PermanentError."""
        ...


# -- the hosts' console (issue 14) ----------------------------------------------------------


class HostCommands(Protocol):
    """The commands the console writes and the owning worker carries out."""

    def add(self, command: HostCommand) -> HostCommand:
        """Store a new, pending command; returns it with its id."""
        ...

    def commands(self, occurrence: str) -> list[HostCommand]:
        """The occurrence's commands, oldest first."""
        ...

    def finish(
        self,
        command_id: int,
        state: CommandState,
        *,
        now: datetime,
        reason: str | None = None,
        url: str | None = None,
    ) -> bool:
        """Settle a pending command; False if it was settled already (by another worker)."""
        ...


class HealthStore(Protocol):
    """The worker's health per occurrence and platform, for the console to show."""

    def save_health(self, health: PlatformHealth) -> None: ...

    def health(self, occurrence: str) -> list[PlatformHealth]: ...
