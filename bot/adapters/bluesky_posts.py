"""A Bluesky post view (the AppView's JSON) as a platform-neutral post.

What the AppView sends is untrusted: each field is checked for its type, and a view that
cannot be read, or is absurdly large, becomes a ``Skipped`` with the reason. Bluesky posts are
plain text with facets (byte ranges), which become links in the sanitized HTML.

Consent lives in labels: an author who carries ``!no-unauthenticated`` asked not to be shown
to logged-out viewers. Like Mastodon's ``noindex``, their posts are archived and counted, but a
public transcript never names or links them (``wrapup.noindex``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.adapters.bluesky_ids import BadId, post_id, split_uri, web_url
from bot.adapters.untrusted_fields import (
    Malformed,
    clean_line,
    count_or_zero,
    language_tag,
    utc_time,
)
from bot.core.model import ArchivedPost, Author
from bot.core.sanitize import sanitize_html
from bot.core.text import has_hashtag
from bot.ports.following import Fetched, Skipped

PLATFORM = "bluesky"
# A post holds at most 3000 bytes of text; far beyond that is not a chat post.
MAX_TEXT_BYTES = 16 * 1024
NO_UNAUTHENTICATED = "!no-unauthenticated"
_MAX_NAME_CHARS = 200
_MAX_BIO_CHARS = 4000


def to_post(view: Any, *, own_did: str | None) -> Fetched:
    """The post of an ``app.bsky.feed.defs#postView``, or why it is not kept."""
    if not isinstance(view, Mapping):
        return Skipped(None, "malformed: not a post view", expected=False)
    uri = view.get("uri")
    try:
        if not isinstance(uri, str):
            raise Malformed("no uri")
        pid = post_id(uri)
    except (Malformed, BadId) as exc:
        return Skipped(None, f"malformed: {exc}", expected=False)
    record = view.get("record")
    try:
        if not isinstance(record, Mapping):
            raise Malformed("no record")
        in_reply_to = _parent(record)
        text = record.get("text")
        if not isinstance(text, str):
            raise Malformed("text is not text")
        if len(text.encode()) > MAX_TEXT_BYTES:
            return Skipped(pid, "too large", in_reply_to, expected=False)
        author = to_author(view.get("author"))
        _, _, rkey = split_uri(uri)
        return ArchivedPost(
            platform=PLATFORM,
            id=pid,
            occurrence="",
            url=web_url(author.handle.removeprefix("@"), rkey),
            author=author,
            created_at=utc_time(record.get("createdAt"), "createdAt"),
            text=text,
            html=sanitize_html(facets_html(text, record.get("facets"))),
            in_reply_to=in_reply_to,
            language=_language(record.get("langs")),
            replies=count_or_zero(view.get("replyCount")),
            boosts=count_or_zero(view.get("repostCount")) + count_or_zero(view.get("quoteCount")),
            favourites=count_or_zero(view.get("likeCount")),
            is_own=own_did is not None and author.id == own_did,
        )
    except (Malformed, BadId) as exc:
        return Skipped(pid, f"malformed: {exc}", expected=False)


def record_time(moment: datetime) -> str:
    """A time as records carry it (``createdAt``): UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def carries_tag(view: Mapping[str, Any], tag: str) -> bool:
    """Whether the post carries the hashtag, in any case: in its text, or as a tag facet or a
    tag of the record (production search finds both; local search is a substring match)."""
    record = view.get("record")
    if not isinstance(record, Mapping):
        return False
    bare = tag.lstrip("#").casefold()
    tags = record.get("tags")
    if isinstance(tags, list) and any(isinstance(t, str) and t.casefold() == bare for t in tags):
        return True
    for facet in _list(record.get("facets")):
        for feature in _list(facet.get("features") if isinstance(facet, Mapping) else None):
            if isinstance(feature, Mapping) and str(feature.get("tag", "")).casefold() == bare:
                return True
    text = record.get("text")
    return isinstance(text, str) and has_hashtag(text, tag)


def to_author(author: Any) -> Author:
    if not isinstance(author, Mapping):
        raise Malformed("no author")
    did, handle = author.get("did"), author.get("handle")
    if not isinstance(did, str) or not did.startswith("did:") or len(did) > 64:
        raise Malformed("author without a usable did")
    if not isinstance(handle, str) or not handle.strip():
        raise Malformed("author without a handle")
    handle = clean_line(handle.strip().lstrip("@"), _MAX_NAME_CHARS)
    display = author.get("displayName")
    name = clean_line(display, _MAX_NAME_CHARS) if isinstance(display, str) else ""
    description = author.get("description")
    bio = clean_line(description, _MAX_BIO_CHARS) if isinstance(description, str) else ""
    return Author(
        platform=PLATFORM,
        id=did,
        handle=f"@{handle}",
        display_name=name or handle,
        followers=count_or_zero(author.get("followersCount")),
        is_bot=has_label(author, "bot"),
        bio=bio,
        noindex=has_label(author, NO_UNAUTHENTICATED),
    )


def has_label(author: Any, value: str) -> bool:
    """Whether the account carries a label (its own, or a labeler's) with this value."""
    if not isinstance(author, Mapping):
        return False
    return any(
        isinstance(label, Mapping) and label.get("val") == value and not label.get("neg")
        for label in _list(author.get("labels"))
    )


def facets_html(text: str, facets: Any) -> str:
    """The text as HTML: links and mentions become anchors over their byte ranges (checked:
    a facet outside the text, or overlapping another, is left out)."""
    raw = text.encode()
    spans: list[tuple[int, int, str]] = []
    for facet in _list(facets):
        if not isinstance(facet, Mapping) or not isinstance(facet.get("index"), Mapping):
            continue
        start, end = facet["index"].get("byteStart"), facet["index"].get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(raw)):
            continue
        href = _href(facet.get("features"))
        if href is not None:
            spans.append((start, end, href))
    out, at = [], 0
    for start, end, href in sorted(spans):
        if start < at:
            continue
        try:
            inner = raw[start:end].decode()
            before = raw[at:start].decode()
        except UnicodeDecodeError:
            continue  # a range cutting a character in two
        out += [html.escape(before), f'<a href="{html.escape(href)}">{html.escape(inner)}</a>']
        at = end
    out.append(html.escape(raw[at:].decode(errors="replace")))
    return "<p>" + "".join(out).replace("\n", "<br>") + "</p>"


def _href(features: Any) -> str | None:
    for feature in _list(features):
        if not isinstance(feature, Mapping):
            continue
        uri, did = feature.get("uri"), feature.get("did")
        if isinstance(uri, str) and uri.startswith(("https://", "http://")):
            return uri
        if isinstance(did, str) and did.startswith("did:"):
            return f"https://bsky.app/profile/{did}"
    return None


def _parent(record: Mapping[str, Any]) -> str | None:
    reply = record.get("reply")
    if reply is None:
        return None
    parent = reply.get("parent") if isinstance(reply, Mapping) else None
    uri = parent.get("uri") if isinstance(parent, Mapping) else None
    if not isinstance(uri, str):
        raise Malformed("reply without a parent")
    try:
        return post_id(uri)
    except BadId as exc:
        raise Malformed(str(exc)) from None


def _language(langs: Any) -> str | None:
    return language_tag(langs[0]) if isinstance(langs, list) and langs else None


def _list(value: Any) -> list[Any]:
    return value[:64] if isinstance(value, list) else []
