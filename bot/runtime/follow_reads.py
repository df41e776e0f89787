"""The follower's reads: the hashtag timeline from the cursor (backfill after a reconnect,
polling while the stream is down), the whole timeline down to the window's start, and the
replies to the bot's own posts."""

from __future__ import annotations

from bot.core.model import ArchivedPost
from bot.runtime.follow_filing import Filing
from bot.runtime.follow_state import Via

# Pages read in one go when catching up (40 posts each); the rest waits for the next round.
MAX_PAGES_PER_READ = 50


class Reading(Filing):
    """Reads the timeline and the replies."""

    def read_timeline(self) -> None:
        """Everything above the cursor, oldest first; with no cursor yet, everything since
        the window opened."""
        self.counts.timeline_reads += 1
        cursor = self.archive.cursor(self.cursor_name)
        caught_up = True
        if cursor is None:
            newest = self.walk_down(via="timeline", limit=MAX_PAGES_PER_READ)
            if newest is not None:
                self.archive.set_cursor(self.cursor_name, newest, now=self.clock.now())
        else:
            for _ in range(MAX_PAGES_PER_READ):
                if self.stop.is_set():
                    return
                page = self.source.tag_page(self.follower.tag, newer_than=cursor)
                self.file_all(reversed(page.items), "timeline")
                caught_up = not page.full or page.newer in (None, cursor)
                if page.newer is not None and page.newer != cursor:
                    cursor = page.newer
                    self.archive.set_cursor(self.cursor_name, cursor, now=self.clock.now())
                if caught_up:
                    break
        now = self.clock.now()
        # Still behind after a long read: go on at once, the gap is not closed yet.
        self.backfill_due = not caught_up
        self.timeline_schedule.succeeded(
            now if not caught_up else now + self.settings.poll_interval
        )

    def walk_down(self, *, via: Via, limit: int, unseen: set[str] | None = None) -> str | None:
        """The tag timeline from the newest post down to the window's start, filed a page at
        a time (a big chat's whole timeline is never held in memory); returns the newest id
        (the cursor to continue from), if any. Every id read is taken out of ``unseen``."""
        older: str | None = None
        newest: str | None = None
        for _ in range(limit):
            if self.stop.is_set():
                break
            page = self.source.tag_page(self.follower.tag, older_than=older)
            if newest is None:
                newest = page.newer
            # Parents first, so that a reply chain within the page resolves.
            for item in page.items:
                if item.id is not None:
                    self.remember_parent(item.id, item.in_reply_to)
                    if unseen is not None:
                        unseen.discard(item.id)
            self.file_all(reversed(page.items), via)
            reached_start = any(
                isinstance(item, ArchivedPost) and item.created_at < self.window.start
                for item in page.items
            )
            if reached_start or not page.items or page.older is None:
                break
            older = page.older
        return newest

    def read_all_replies(self) -> set[str]:
        """The replies to each of the bot's posts; returns every id seen."""
        self.counts.replies_reads += 1
        seen: set[str] = set()
        for post_id in self.own_post_ids():
            if self.stop.is_set():
                break
            if post_id in seen:
                continue  # already read as part of an earlier post's thread
            items = self.source.replies(post_id)
            for item in items:
                if item.id is not None:
                    self.remember_parent(item.id, item.in_reply_to)
                    seen.add(item.id)
            self.file_all(items, "replies")
        self.replies_schedule.succeeded(self.clock.now() + self.settings.replies_interval)
        return seen
