"""Archived posts written out by hand, for tests that need a handful of exact ones."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.model import ArchivedPost, Author

START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
OCCURRENCE = "hexichat/2026-12-02"


def person(
    name: str,
    *,
    platform: str = "mastodon",
    followers: int = 100,
    is_bot: bool = False,
    display_name: str | None = None,
) -> Author:
    handle = f"@{name}@example.social" if platform == "mastodon" else f"@{name}"
    return Author(
        platform=platform,
        id=f"id-{name}",
        handle=handle,
        display_name=display_name if display_name is not None else name.capitalize(),
        followers=followers,
        is_bot=is_bot,
    )


BOT = person("hexibot", is_bot=True, display_name="HEXI bot")


def post(
    post_id: str,
    author: Author,
    minute: float,
    text: str = "",
    *,
    question: int | None = None,
    reply_to: str | None = None,
    own: bool = False,
    **counts: Any,
) -> ArchivedPost:
    """A post ``minute`` minutes into the chat; ``counts`` sets replies, boosts, favourites."""
    text = text or f"post {post_id}"
    user = author.handle.lstrip("@").split("@")[0]
    return ArchivedPost(
        platform=author.platform,
        id=post_id,
        occurrence=OCCURRENCE,
        url=f"https://example.social/@{user}/{post_id}",
        author=author,
        created_at=START + timedelta(minutes=minute),
        text=text,
        html=f"<p>{html.escape(text)}</p>",
        in_reply_to=reply_to,
        question=question,
        is_own=own,
        language="en",
        **counts,
    )
