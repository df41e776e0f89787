"""Reading a Bluesky list that only grows at the top (the hashtag's search, the bot's
notifications) so that each post is handed over once: in time slices that never overlap.

Both lists sort newest first by a post's ``sortAt``, the earlier of its ``createdAt`` and
the time the AppView indexed it. A post may be indexed a little after a later one, so the top
of the list is not final yet: a read only takes the slice ``[since, until)``, where ``until``
lies ``delay`` behind the present, and the next read starts at that ``until``. A slice too big
for one read is carried on from the server's page cursor, with the same bounds.

The slice is the follower's cursor (``<since>|<until>|<page>``, opaque to it). Production's
search applies ``since`` and ``until`` itself; a list that ignores them (the notifications,
a local network's search) is cut here, and a post above ``until`` waits for the next slice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.adapters.untrusted_fields import Malformed, utc_time

# A page cursor longer than this is not one the server handed out.
_MAX_PAGE_CURSOR = 512


@dataclass(frozen=True)
class Slice:
    """Posts sorted at ``since`` or later and before ``until``; ``until`` None: not cut yet
    (the next read cuts it at its own present). ``page``: where a read stopped inside it."""

    since: datetime
    until: datetime | None = None
    page: str | None = None

    def encode(self) -> str:
        until = self.until.isoformat() if self.until is not None else ""
        return f"{self.since.isoformat()}|{until}|{self.page or ''}"

    @staticmethod
    def decode(value: str) -> Slice | None:
        """The slice of a stored cursor; None for one this module did not write. A cursor of
        the earlier form ``<time>|<post id>`` (a mark) reads as the slice from that time."""
        parts = value.split("|", 2)
        try:
            since = utc_time(parts[0], "since")
            until = utc_time(parts[1], "until") if len(parts) == 3 and parts[1] else None
        except Malformed:
            return None
        page = parts[2] if len(parts) == 3 and parts[2] else None
        if page is not None and len(page) > _MAX_PAGE_CURSOR:
            page = None
        if until is not None and until <= since:
            return Slice(since)
        return Slice(since, until, page)

    def cut(self, now: datetime, delay: timedelta) -> Slice:
        """The slice with its upper end fixed: ``delay`` before ``now`` unless already cut."""
        if self.until is not None:
            return self
        return Slice(self.since, max(self.since, now - delay), None)

    def after(self) -> Slice:
        """The slice that follows this one, once it is read."""
        return Slice(self.until if self.until is not None else self.since)

    def holds(self, at: datetime) -> bool:
        return at >= self.since and (self.until is None or at < self.until)


def sort_time(view: Any) -> datetime | None:
    """A post view's place in the search's order: its creation time, unless it claims to be
    newer than when the AppView indexed it (a clock, or a lie), then the indexing time."""
    if not isinstance(view, Mapping) or not isinstance(view.get("record"), Mapping):
        return None
    try:
        created = utc_time(view["record"].get("createdAt"), "createdAt")
        indexed = utc_time(view.get("indexedAt"), "indexedAt")
    except Malformed:
        return None
    return min(created, indexed)


def notification_time(note: Any) -> datetime | None:
    """A notification's place in its list: the AppView gives its ``sortAt`` as ``indexedAt``."""
    if not isinstance(note, Mapping):
        return None
    try:
        return utc_time(note.get("indexedAt"), "indexedAt")
    except Malformed:
        return None


def wire_time(moment: datetime) -> str:
    """A time as the search's ``since`` and ``until`` take it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
