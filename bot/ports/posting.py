"""Posting once: the platform the bot publishes to and the ledger that makes each post
happen exactly once across crashes and workers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol


@dataclass(frozen=True)
class Published:
    """A post as the platform holds it."""

    remote_id: str
    url: str
    created_at: datetime | None = None


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
