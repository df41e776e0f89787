"""A Mastodon status (JSON from a stream, or Mastodon.py's dict) as a platform-neutral post.

What a server sends is untrusted: every field is checked for its type, text is stripped of
markup for matching and sanitized for display, and a status that cannot be read, or is
absurdly large, becomes a ``Skipped`` with the reason instead of an exception.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.adapters.untrusted_fields import (
    Malformed,
    clean_line,
    count_or_zero,
    language_tag,
    utc_time,
)
from bot.core.html_text import html_to_text
from bot.core.model import ArchivedPost, Author
from bot.core.sanitize import sanitize_html
from bot.ports.following import Fetched, Skipped

PLATFORM = "mastodon"
# Mastodon allows 500 characters (some servers 5000 or more); its HTML for that is a few
# kilobytes. Far beyond it is an attack on the parser or the database, not a chat post.
MAX_CONTENT_CHARS = 64 * 1024
_MAX_NAME_CHARS = 200
_MAX_BIO_CHARS = 4000
_MAX_ID_CHARS = 64


def to_post(status: Mapping[str, Any], *, home: str, own_account_id: str | None) -> Fetched:
    """The post, or why it is not kept. ``home`` is the server's domain (for local handles).
    Someone's boost of a post is that post: an answer others boosted is still captured."""
    inner = status.get("reblog")
    if isinstance(inner, Mapping) and not inner.get("reblog"):
        status = inner
    raw_id = status.get("id")
    post_id = _id_or_none(raw_id)
    try:
        if post_id is None:
            raise Malformed("no usable id")
        in_reply_to = _optional_id(status.get("in_reply_to_id"), "in_reply_to_id")
        if status.get("reblog"):
            return Skipped(post_id, "a boost, not a post", in_reply_to)
        visibility = status.get("visibility")
        if visibility != "public":
            return Skipped(post_id, f"not public ({_short(visibility)})", in_reply_to, hidden=True)
        content = status.get("content")
        if not isinstance(content, str):
            raise Malformed("content is not text")
        if len(content) > MAX_CONTENT_CHARS:
            return Skipped(
                post_id,
                f"too large ({len(content)} characters of content)",
                in_reply_to,
                expected=False,
            )
        author = to_author(status.get("account"), home=home)
        return ArchivedPost(
            platform=PLATFORM,
            id=post_id,
            occurrence="",
            url=_web_url(status.get("url")) or _web_url(status.get("uri")) or "",
            author=author,
            created_at=utc_time(status.get("created_at"), "created_at"),
            text=html_to_text(content),
            html=sanitize_html(content),
            in_reply_to=in_reply_to,
            language=language_tag(status.get("language")),
            replies=count_or_zero(status.get("replies_count")),
            boosts=count_or_zero(status.get("reblogs_count")),
            favourites=count_or_zero(status.get("favourites_count")),
            is_own=own_account_id is not None and author.id == own_account_id,
            edited_at=(
                utc_time(status["edited_at"], "edited_at") if status.get("edited_at") else None
            ),
        )
    except Malformed as exc:
        return Skipped(post_id, f"malformed: {exc}", expected=False)
    except (ArithmeticError, RecursionError, TypeError, ValueError) as exc:
        # Hostile input must cost one post, never the page or the stream it came in.
        return Skipped(post_id, f"malformed: unreadable ({type(exc).__name__})", expected=False)


def to_author(account: Any, *, home: str) -> Author:
    if not isinstance(account, Mapping):
        raise Malformed("no account")
    account_id = _id_or_none(account.get("id"))
    acct = account.get("acct")
    if account_id is None or not isinstance(acct, str) or not acct.strip():
        raise Malformed("account without id or acct")
    acct = clean_line(acct.strip().lstrip("@"), _MAX_NAME_CHARS)
    handle = f"@{acct}" if "@" in acct else f"@{acct}@{home}"
    display = account.get("display_name")
    display_name = clean_line(display, _MAX_NAME_CHARS) if isinstance(display, str) else ""
    return Author(
        platform=PLATFORM,
        id=account_id,
        handle=handle,
        display_name=display_name or acct.split("@")[0],
        followers=count_or_zero(account.get("followers_count")),
        is_bot=account.get("bot") is True,
        bio=_bio(account)[:_MAX_BIO_CHARS],
        # Only a true opts out; ``indexable`` (the server's own search) is another matter.
        noindex=account.get("noindex") is True,
    )


def _bio(account: Mapping[str, Any]) -> str:
    """The note and the profile fields, as plain text: where people write #nobot."""
    parts = []
    note = account.get("note")
    if isinstance(note, str):
        parts.append(html_to_text(note[:MAX_CONTENT_CHARS]))
    fields = account.get("fields")
    if isinstance(fields, list):
        for item in fields[:16]:
            if isinstance(item, Mapping):
                name, value = item.get("name"), item.get("value")
                if isinstance(name, str) and isinstance(value, str):
                    parts.append(f"{html_to_text(name[:1000])}: {html_to_text(value[:1000])}")
    return "\n".join(p for p in parts if p)


def _id_or_none(value: Any) -> str | None:
    # Mastodon ids are strings; Mastodon.py may hand back ints. Either way, opaque.
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    if not text or len(text) > _MAX_ID_CHARS or any(c.isspace() for c in text):
        return None
    return text


def _optional_id(value: Any, name: str) -> str | None:
    if value is None:
        return None
    found = _id_or_none(value)
    if found is None:
        raise Malformed(f"{name} is not an id")
    return found


def _web_url(value: Any) -> str | None:
    if (
        isinstance(value, str)
        and value.startswith(("https://", "http://"))
        and len(value) < 2048
        and not any(c.isspace() or c in "<>\"'" for c in value)
    ):
        return value
    return None


def _short(value: Any) -> str:
    return value[:20] if isinstance(value, str) else "no visibility"


def unwrapped(status: Any, asked: Sequence[str]) -> tuple[Mapping[str, Any], str | None]:
    """The status a lookup of ``asked`` answered, and which of the asked ids it is (None:
    none of them). A boost wrapper holding an asked post is that post; a single lookup that
    answers another id (an edit on some servers) is still the post asked for."""
    if not isinstance(status, Mapping):
        return {}, None
    inner = status.get("reblog")
    for candidate in (status, inner):
        if isinstance(candidate, Mapping) and _id_or_none(candidate.get("id")) in asked:
            return candidate, _id_or_none(candidate.get("id"))
    if len(asked) == 1 and not isinstance(inner, Mapping):
        return status, asked[0]
    return status, None


# GoToSocial's interaction policy: who may boost. These never include the bot (it follows
# no one, and is not the author); any other entry (public, "me", people the author
# follows, mentioned accounts, an actor's address) might, so the bot does not presume.
_EXCLUDING_POLICY = frozenset(
    {"urn:mastodon:author", "urn:mastodon:followers", "urn:mastodon:mutuals"}
)


def reblog_refused(status: Mapping[str, Any]) -> bool:
    """Whether the post's server says clearly that the bot may not boost it."""
    policy = status.get("interaction_policy")
    rules = policy.get("can_reblog") if isinstance(policy, Mapping) else None
    if not isinstance(rules, Mapping):
        return False
    always, approval = rules.get("always"), rules.get("with_approval", [])
    if not isinstance(always, list) or not isinstance(approval, list | None):
        return False  # not the shape GoToSocial documents: no conclusion
    entries = [*always, *(approval or [])]
    return all(isinstance(e, str) and e in _EXCLUDING_POLICY for e in entries)
