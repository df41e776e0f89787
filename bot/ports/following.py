"""Following a chat (issue 3): the hashtag and replies as a platform serves them, its live
stream, and the archive the follower files them in."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from bot.core.model import ArchivedPost


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


@dataclass(frozen=True)
class ReplyBatch:
    """Replies to the bot's posts read since the last batch, oldest first."""

    items: list[Fetched]
    cursor: str  # pass as ``after`` for the next batch
    more: bool  # the read stopped early: more are waiting at once


@runtime_checkable
class IncrementalSource(Protocol):
    """A source whose reads hand each post over once (Bluesky): the hashtag in time slices
    that never overlap, the replies to the bot as they are notified. Its settling pass reads
    on from the cursors instead of reading the whole chat again, and asks which archived posts
    still exist in batches."""

    @property
    def notified_depth(self) -> int:
        """Replies this many levels below a bot's post, or fewer, reach ``new_replies``;
        those deeper are read under them with ``replies``."""
        ...

    def new_replies(self, *, after: str | None, since: datetime, last: bool) -> ReplyBatch:
        """The replies to the bot's posts after the cursor ``after`` (without one, those made
        from ``since``), oldest first. ``last``: the final read, which takes everything up to
        the present instead of leaving the newest for when they are surely indexed."""
        ...

    def tag_rest(self, tag: str, *, newer_than: str) -> TagPage:
        """As ``tag_page(tag, newer_than=...)``, up to the present: the final read."""
        ...

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Of these posts, those the server still shows publicly."""
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
