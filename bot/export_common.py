"""What every export format shares: links and bodies made safe, names withheld, times
in the chat's zone, engagement told in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.core.model import ArchivedPost
from bot.core.sanitize import sanitize_html
from bot.core.stats import EngagedPost
from bot.core.text import counted
from bot.core.transcript import Entry

if TYPE_CHECKING:
    from bot.exports import ExportContext

WITHHELD = "(name withheld)"
PLATFORM_LABELS = {"mastodon": "Mastodon", "x": "X", "bluesky": "Bluesky"}
# Replies deeper than this are drawn at this depth: a phone screen has no room for more.
MAX_INDENT = 5

_SAFE_URL = re.compile(r"https?://[^\s<>\"'`\\]+", re.IGNORECASE)


def safe_url(url: str | None) -> str | None:
    """A web address fit for a link, or None: never javascript:, data: or a relative path."""
    return url if url and _SAFE_URL.fullmatch(url) else None


def clean_post_html(post: ArchivedPost) -> str:
    """The post's body as markup that can run nothing and load nothing.

    The archive stores sanitized HTML already; it is cleaned again here because an archive
    may predate today's rules, and a page is no place to trust a database.
    """
    return sanitize_html(post.html if post.html.strip() else post.text)


def platform_label(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform.capitalize())


def iso_utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_time(ctx: ExportContext, at: datetime) -> str:
    return at.astimezone(ctx.zone).strftime("%H:%M")


def date_label(ctx: ExportContext) -> str:
    local = ctx.start.astimezone(ctx.zone)
    return f"{local.day} {local:%B %Y}"


def time_label(ctx: ExportContext) -> str:
    start, end = ctx.start.astimezone(ctx.zone), ctx.end.astimezone(ctx.zone)
    return f"{start:%H:%M}–{end:%H:%M} {start.tzname()}"


def entry_name(entry: Entry) -> str:
    if not entry.named:
        return WITHHELD
    author = entry.post.author
    return author.display_name.strip() or author.handle


def engagement_counts(e: EngagedPost) -> str:
    return ", ".join(
        [
            counted(e.post.favourites, "favourite", "favourites"),
            counted(e.post.boosts, "boost", "boosts"),
            counted(e.replies, "reply", "replies"),
        ]
    )
