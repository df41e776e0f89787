"""An X post (API v2 JSON, with the users of ``includes``) as a platform-neutral post.

What X sends is untrusted like any network content: every field is checked for its type,
text is unescaped for matching (X escapes &, < and >) and sanitized for display, and a post
that cannot be read, or is absurdly large, becomes a ``Skipped`` with the reason.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from bot.adapters.untrusted_fields import (
    Malformed,
    clean_line,
    count_or_zero,
    language_tag,
    utc_time,
)
from bot.core.model import ArchivedPost, Author
from bot.core.sanitize import sanitize_html
from bot.ports.following import Fetched, Skipped

PLATFORM = "x"
HOME = "x.com"
# 280 weighted characters, or 25,000 in a subscriber's long post; far beyond that is an
# attack on the parser or the database, not a chat post.
MAX_TEXT_CHARS = 64 * 1024
_MAX_NAME_CHARS = 200
_MAX_BIO_CHARS = 4000
# X ids are decimal snowflakes (unlike Mastodon's, they may be compared as numbers).
_X_ID = re.compile(r"[0-9]{1,20}")
_USERNAME = re.compile(r"\w{1,50}", re.ASCII)


def x_id(value: Any) -> str | None:
    # tweepy's own models turn ids into ints; the JSON has strings. Either way, digits.
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text if _X_ID.fullmatch(text) else None


def post_url(username: str, post_id: str) -> str:
    return f"https://x.com/{username}/status/{post_id}"


def own_post_url(post_id: str) -> str:
    """The address of the bot's own post, without asking X for the bot's name (a paid read);
    X redirects it to the named one."""
    return f"https://x.com/i/status/{post_id}"


def to_post(
    tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]], *, own_user_id: str
) -> Fetched:
    """The post, or why it is not kept. ``users`` maps author ids to the included users.
    ``own_user_id`` must be known: without it the bot's posts would pass for answers."""
    if x_id(own_user_id) is None:
        raise ValueError("the bot's own X user id must be known before reading posts")
    post_id = x_id(tweet.get("id"))
    if post_id is None:
        return Skipped(None, "malformed: no usable id", expected=False)
    try:
        # X's description 2.167 calls the list referenced_posts; older answers referenced_tweets.
        references = tweet.get("referenced_posts", tweet.get("referenced_tweets"))
        in_reply_to, reposted = _references(references)
        if reposted:
            return Skipped(post_id, "a repost, not a post", in_reply_to)
        text = tweet.get("text")
        if not isinstance(text, str):
            raise Malformed("text is not text")
        if len(text) > MAX_TEXT_CHARS:
            return Skipped(
                post_id, f"too large ({len(text)} characters)", in_reply_to, expected=False
            )
        author_id = x_id(tweet.get("author_id"))
        user = users.get(author_id) if author_id is not None else None
        if not isinstance(user, Mapping):
            raise Malformed("no author")
        if user.get("protected") is True:
            return Skipped(post_id, "not public (a protected account)", in_reply_to)
        author = _author(user)
        metrics = tweet.get("public_metrics")
        metrics = metrics if isinstance(metrics, Mapping) else {}
        plain = html.unescape(text)
        return ArchivedPost(
            platform=PLATFORM,
            id=post_id,
            occurrence="",
            url=post_url(author.handle[1:], post_id),
            author=author,
            created_at=utc_time(tweet.get("created_at"), "created_at"),
            text=plain,
            html=sanitize_html(plain),
            in_reply_to=in_reply_to,
            conversation_id=x_id(tweet.get("conversation_id")),
            language=language_tag(tweet.get("lang")),
            replies=count_or_zero(metrics.get("reply_count")),
            boosts=count_or_zero(metrics.get("repost_count", metrics.get("retweet_count"))),
            favourites=count_or_zero(metrics.get("like_count")),
            is_own=author.id == own_user_id,
        )
    except Malformed as exc:
        return Skipped(post_id, f"malformed: {exc}", expected=False)
    except (ArithmeticError, RecursionError, TypeError, ValueError) as exc:
        # Hostile input must cost one post, never the page or the stream it came in.
        return Skipped(post_id, f"malformed: unreadable ({type(exc).__name__})", expected=False)


def _references(value: Any) -> tuple[str | None, bool]:
    """The post it replies to, and whether it is a repost."""
    if value is None:
        return None, False
    if not isinstance(value, list):
        raise Malformed("referenced_posts is not a list")
    in_reply_to, reposted = None, False
    for ref in value[:8]:
        if not isinstance(ref, Mapping):
            raise Malformed("a referenced post is not an object")
        kind, ref_id = ref.get("type"), x_id(ref.get("id"))
        if kind == "retweeted":
            reposted = True
        elif kind == "replied_to":
            if ref_id is None:
                raise Malformed("replied_to has no id")
            in_reply_to = ref_id
    return in_reply_to, reposted


def to_author(user: Mapping[str, Any]) -> Author:
    try:
        return _author(user)
    except Malformed:
        raise ValueError("X sent a user without id or username") from None


def _author(user: Mapping[str, Any]) -> Author:
    user_id, username = x_id(user.get("id")), user.get("username")
    if user_id is None or not isinstance(username, str) or not _USERNAME.fullmatch(username):
        raise Malformed("author without id or username")
    name = user.get("name")
    display = clean_line(name, _MAX_NAME_CHARS) if isinstance(name, str) else ""
    metrics = user.get("public_metrics")
    followers = metrics.get("followers_count") if isinstance(metrics, Mapping) else None
    bio = user.get("description")
    return Author(
        platform=PLATFORM,
        id=user_id,
        handle=f"@{username}",
        display_name=display or username,
        followers=count_or_zero(followers),
        # X's API does not say whether an account is automated; bios still carry #nobot.
        is_bot=False,
        bio=bio[:_MAX_BIO_CHARS] if isinstance(bio, str) else "",
    )
