"""Following on a platform whose reads hand each post over once (``IncrementalSource``:
Bluesky): the replies to the bot come as notifications from a cursor instead of each post's
whole thread, and the settling pass reads on from the cursors instead of reading the whole
chat again. What it still has to look at again is the archive itself: which of its posts
still exist, asked in batches, since deletions reach no notification.
"""

from __future__ import annotations

from typing import Any, cast

from bot.ports.following import Fetched, IncrementalSource
from bot.runtime.follow_reads import MAX_PAGES_PER_READ
from bot.runtime.follow_settle import Retried, Settling

# Archived posts asked about at once when the settling pass looks for deletions.
EXISTING_BATCH = 100


class IncrementalSettling(Settling):
    """The reads and the settling pass over an IncrementalSource."""

    @property
    def incremental(self) -> IncrementalSource:
        return cast(IncrementalSource, self.source)

    @property
    def replies_cursor_name(self) -> str:
        return f"{self.occurrence.id}/{self.platform}/replies"

    def read_all_replies(self) -> set[str]:
        """The replies notified since the last read; returns their ids."""
        seen = self._read_new_replies(last=False)
        self.replies_schedule.succeeded(self.clock.now() + self.settings.replies_interval)
        return seen

    def _read_new_replies(self, *, last: bool) -> set[str]:
        self.counts.replies_reads += 1
        seen: set[str] = set()
        cursor = self.archive.cursor(self.replies_cursor_name)
        for _ in range(MAX_PAGES_PER_READ):
            if self.stop.is_set():
                break
            batch = self.incremental.new_replies(after=cursor, since=self.window.start, last=last)
            for item in batch.items:
                if item.id is not None:
                    self.remember_parent(item.id, item.in_reply_to)
                if self._in_this_chat(item):
                    self.file(item, "replies")
                    if item.id is not None:
                        seen.add(item.id)
            cursor = batch.cursor
            self.archive.set_cursor(self.replies_cursor_name, cursor, now=self.clock.now())
            if not batch.more:
                break
        return seen

    def _in_this_chat(self, item: Fetched) -> bool:
        """Whether a notified reply lies under one of this occurrence's posts: the bot's
        notifications also bring replies to its other chats and older posts."""
        own = set(self.own_post_ids())
        chain = self._chain(item.in_reply_to, self._answer_key())
        return bool(chain) and chain[-1] in own

    def settle(self, retried: Retried, log: Any) -> dict[str, int]:
        """The tag and the replies read on up to the present, the threads below the last
        notified level, and deletions."""
        retried(self._read_tag_rest)
        retried(lambda: self._read_new_replies(last=True))
        below = retried(self._read_below_notified)
        gone = retried(self._drop_deleted)
        return {"read_below": below, "gone": gone}

    def _read_tag_rest(self) -> None:
        cursor = self.archive.cursor(self.cursor_name)
        if cursor is None:
            self.walk_down(via="settle", limit=MAX_PAGES_PER_READ)
            return
        for _ in range(MAX_PAGES_PER_READ):
            if self.stop.is_set():
                return
            page = self.incremental.tag_rest(self.follower.tag, newer_than=cursor)
            self.file_all(reversed(page.items), "settle")
            if page.newer is not None and page.newer != cursor:
                cursor = page.newer
                self.archive.set_cursor(self.cursor_name, cursor, now=self.clock.now())
            if not page.full:
                return

    def _read_below_notified(self) -> int:
        """The replies under archived replies at the deepest notified level: a conversation
        going deeper brings the bot no notification. Returns how many threads were read."""
        depth = self.incremental.notified_depth
        key = self._answer_key()
        own = set(self.own_post_ids())
        read = 0
        for post in self.archive.posts(self.occurrence.id):
            if post.platform != self.platform or post.in_reply_to is None or post.is_own:
                continue
            # Its ancestors up to the bot's post: as many as it is levels below that post.
            # Those deeper come with the thread of their ancestor at the notified level.
            chain = self._chain(post.in_reply_to, key)
            if len(chain) != depth or chain[-1] not in own:
                continue
            read += 1
            items = self.source.replies(post.id)
            for item in items:
                if item.id is not None:
                    self.remember_parent(item.id, item.in_reply_to)
            self.file_all(items, "settle")
        return read

    def _drop_deleted(self) -> int:
        """Takes out of the archive what the server no longer shows. Returns how many."""
        ids = sorted(self.archive.ids(self.occurrence.id, self.platform))
        gone = 0
        for start in range(0, len(ids), EXISTING_BATCH):
            batch = ids[start : start + EXISTING_BATCH]
            there = self.incremental.existing(batch)
            for post_id in batch:
                if post_id not in there:
                    gone += 1
                    self.delete(post_id, reason="gone from the server")
        return gone
