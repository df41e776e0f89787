"""Platform-neutral records of the chat as it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# How a post was tied to a question: it replies (down a chain) to the question post, it
# starts with "A3", or it falls in the question's time window.
AnswerRule = Literal["reply", "prefix", "window"]


@dataclass(frozen=True)
class Author:
    platform: str
    id: str
    handle: str  # @user@server on Mastodon, @user on X
    display_name: str
    followers: int = 0
    is_bot: bool = False
    bio: str = ""  # plain text, bio and profile fields, for #nobot checks
    # Asked their server to keep them off search engines (Mastodon's ``noindex``): a public
    # transcript is the open web, so they are never named or linked there.
    noindex: bool = False


@dataclass(frozen=True)
class ArchivedPost:
    """One public post of a chat, stored once per (platform, id)."""

    platform: str
    id: str  # opaque: never compared or sorted as a number
    occurrence: str  # chat/date
    url: str
    author: Author
    created_at: datetime  # aware, UTC
    text: str  # plain text, for matching and plain exports
    html: str  # sanitized HTML, safe to display
    in_reply_to: str | None = None
    conversation_id: str | None = None
    language: str | None = None
    replies: int = 0
    boosts: int = 0
    favourites: int = 0
    question: int | None = None  # the number of the question it answers, if known
    rule: AnswerRule | None = None
    is_own: bool = False  # posted by the bot itself (intro, questions, ...)
    edited_at: datetime | None = None
