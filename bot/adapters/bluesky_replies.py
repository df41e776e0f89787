"""The replies to the bot's posts on Bluesky, each read once, from its notifications.

The AppView notifies an account of every reply up to four levels below its posts (``reason:
reply``, ``REPLY_NOTIF_DEPTH = 5`` in its indexer), and a notification carries the whole post.
So the follower reads the notifications in slices (bluesky_slices) instead of each question's
thread again and again. Deeper replies (a conversation below an answer) bring no
notification: the settling pass reads the threads under the last notified level once.

The notifications have no ``since``: a read goes down from the top to the slice's start, and
its first page is sized by how many the last read found, so that little above the slice
(left for the next read) or below it (read before) comes back again.
"""

from __future__ import annotations

from collections.abc import Mapping
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


class ReplyNotifications:
    """Reads the bot's reply notifications slice by slice; remembers how many the last read
    found, to size the next read's first page."""

    def __init__(self, platform: BlueskyPlatform) -> None:
        self._platform = platform
        self._last_found = 0

    def read(self, *, after: str | None, since: datetime, delay: timedelta) -> ReplyBatch:
        platform = self._platform
        start = Slice.decode(after) if after is not None else None
        part = (start or Slice(since)).cut(platform.clock.now(), delay)
        own = platform.session.did
        found: list[Fetched] = []
        page = part.page
        limit = min(PAGE_MAX, max(FIRST_PAGE_MIN, self._last_found + FIRST_PAGE_MIN))
        for _ in range(MAX_PAGES):
            params = models.AppBskyNotificationListNotifications.Params(
                limit=limit, cursor=page, reasons=["reply"]
            )
            body = platform.session.query("app.bsky.notification.listNotifications", params)
            notes = body.get("notifications")
            notes = notes if isinstance(notes, list) else []
            next_page = body.get("cursor")
            page = next_page if isinstance(next_page, str) and next_page else None
            below = _take(notes, part, own, found)
            # Only the cursor says the list goes on: a page may come back short (the server
            # drops the other reasons, and posts it hides, after choosing the page).
            if below or page is None:
                self._last_found = len(found)
                return ReplyBatch(list(reversed(found)), part.after().encode(), more=False)
            limit = PAGE_MAX
        self._last_found = PAGE_MAX
        carried = Slice(part.since, part.until, page)
        return ReplyBatch(list(reversed(found)), carried.encode(), more=True)


def _take(notes: list[Any], part: Slice, own: str, found: list[Fetched]) -> bool:
    """Adds the page's replies within the slice to ``found``; True once below the slice."""
    for note in notes:
        at = notification_time(note)
        if at is None:
            found.append(Skipped(None, "malformed: a notification without a time", expected=False))
            continue
        if at < part.since:
            return True
        if not part.holds(at):
            continue  # above the slice: the next read takes it
        if isinstance(note, Mapping) and note.get("reason") == "reply":
            found.append(to_post(note, own_did=own))
    return False
