"""X's paid reads (issue 5): searching a platform that bills each post read, and the meter
and log that keep the spending within the host's budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.core.budget import PostOutcome, Spend
from bot.ports.following import Fetched


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
