"""The bot's notifications on Bluesky, each read once: the replies to its posts (for the
follower) and its mentions (for "stop" and "forget me").

The AppView notifies an account of every reply up to four levels below its posts (``reason:
reply``, ``REPLY_NOTIF_DEPTH = 5`` in its indexer), and a notification carries the whole post.
So the follower reads the notifications in slices (bluesky_slices) instead of each question's
thread again and again (with the mentions: a reply that also mentions the bot is notified as
a mention only). Deeper replies (a conversation below an answer) bring no
notification: the settling pass reads the threads under the last notified level once.

The notifications have no ``since``: a read goes down from the top to the slice's start, and
its first page is sized by how many the last read found, so that little above the slice
(left for the next read) or below it (read before) comes back again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from atproto import models

from bot.adapters.bluesky_posts import to_post
from bot.adapters.bluesky_slices import Slice, notification_time
from bot.ports.following import Fetched, ReplyBatch, Skipped

if TYPE_CHECKING:
    from bot.adapters.bluesky import BlueskyPlatform

# The AppView notifies replies with fewer than five levels between them and the bot's post.
NOTIFIED_DEPTH = 4
# Notifications per page: the first page at least (or as many as the last read found, and
# some), the further pages at most; and pages per read (a cursor carries on from there).
FIRST_PAGE_MIN = 10
PAGE_MAX = 100
MAX_PAGES = 20


@dataclass(frozen=True)
class Notified:
    """A notification within the slice read, with its place in the list."""

    at: datetime
    note: Mapping[str, Any]


@dataclass(frozen=True)
class NotificationBatch:
    notes: list[Notified]  # oldest first
    malformed: int  # notifications without a time: they cannot be placed in a slice
    cursor: str  # the slice to read next (or the rest of this one)
    more: bool


class NotificationReader:
    """Reads the bot's notifications of some reasons slice by slice; remembers how many the
    last read found, to size the next read's first page."""

    def __init__(self, platform: BlueskyPlatform, reasons: tuple[str, ...]) -> None:
        self._platform = platform
        self._reasons = reasons
        self._last_found = 0

    def read(self, *, after: str | None, since: datetime, delay: timedelta) -> NotificationBatch:
        platform = self._platform
        start = Slice.decode(after) if after is not None else None
        part = (start or Slice(since)).cut(platform.clock.now(), delay)
        if part.until is not None and part.until <= part.since:
            return NotificationBatch([], 0, part.after().encode(), False)  # nothing to read yet
        found: list[Notified] = []
        malformed = 0
        page = part.page
        limit = min(PAGE_MAX, max(FIRST_PAGE_MIN, self._last_found + FIRST_PAGE_MIN))
        for _ in range(MAX_PAGES):
            params = models.AppBskyNotificationListNotifications.Params(
                limit=limit, cursor=page, reasons=list(self._reasons)
            )
            body = platform.session.query("app.bsky.notification.listNotifications", params)
            notes = body.get("notifications")
            next_page = body.get("cursor")
            page = next_page if isinstance(next_page, str) and next_page else None
            below = False
            for note in notes if isinstance(notes, list) else []:
                at = notification_time(note)
                if at is None:
                    malformed += 1
                elif at < part.since:
                    below = True
                    break
                elif part.holds(at) and note.get("reason") in self._reasons:
                    found.append(Notified(at, note))
            # Only the cursor says the list goes on: a page may come back short (the server
            # drops the other reasons, and posts it hides, after choosing the page).
            if below or page is None:
                self._last_found = len(found)
                return NotificationBatch(found[::-1], malformed, part.after().encode(), False)
            limit = PAGE_MAX
        self._last_found = PAGE_MAX
        carried = Slice(part.since, part.until, page).encode()
        return NotificationBatch(found[::-1], malformed, carried, True)


def replies_batch(batch: NotificationBatch, *, own_did: str) -> ReplyBatch:
    """The notified replies as posts, oldest first."""
    items: list[Fetched] = [
        Skipped(None, "malformed: a notification without a time", expected=False)
    ] * batch.malformed
    items += [to_post(n.note, own_did=own_did) for n in batch.notes]
    return ReplyBatch(items, batch.cursor, batch.more)
