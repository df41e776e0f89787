"""Following a chat on Bluesky: the hashtag through ``app.bsky.feed.searchPosts`` (latest
first), the replies to the bot's posts through ``app.bsky.feed.getPostThread``, one post
through ``app.bsky.feed.getPosts``. Bluesky has no hashtag stream: the follower polls.

The search is read in time slices that never overlap (bluesky_slices), so each post is
handed over once: written for production, which is tag-aware, case-insensitive and applies
``since`` and ``until``. Whatever the search returns, the post must carry the hashtag in any
case (text, tag facet or record tag) to be kept: a local network's search is a plain
case-sensitive substring match that ignores the bounds, which finds #ChatX for #Chat and
misses #chat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from atproto import models

from bot.adapters.bluesky_ids import BadId, post_id, post_uri
from bot.adapters.bluesky_posts import carries_tag, to_post
from bot.adapters.bluesky_slices import Slice, sort_time, wire_time
from bot.ports.errors import TransientError
from bot.ports.following import Fetched, Skipped, TagPage

if TYPE_CHECKING:
    from bot.adapters.bluesky import BlueskyPlatform

# Posts per search request: a poll's page, and a page when walking down the whole tag.
POLL_PAGE = 25
WALK_PAGE = 100
# Pages one poll reads at most (2500 posts); a bigger slice is carried on at once from its
# page cursor (the page says it is full).
MAX_POLL_PAGES = 25
# The walk's cursor is a slice reaching down to the oldest post there may be.
_WALK_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
# getPosts takes at most 25 posts.
BATCH = 25
# getPostThread: as deep as the server goes; parents are not needed (the bot's post is root).
THREAD_DEPTH = 1000


def tag_page(
    platform: BlueskyPlatform,
    tag: str,
    *,
    newer_than: str | None = None,
    older_than: str | None = None,
    delay: timedelta,
) -> TagPage:
    """A poll from the cursor ``newer_than`` (the slice after the last one read, cut
    ``delay`` before the present), or a page of the walk down from the top of the tag (as
    far as ``delay`` before the present) below ``older_than``."""
    now = platform.clock.now()
    if newer_than is not None:
        read_from = Slice.decode(newer_than)
        if read_from is not None:
            return _poll(platform, tag, read_from.cut(now, delay))
    return _walk(platform, tag, older_than=older_than, top=now - delay)


def _poll(platform: BlueskyPlatform, tag: str, part: Slice) -> TagPage:
    """The slice's posts, newest first; carried on from its page cursor when it is big."""
    if part.until is not None and part.until <= part.since:
        return TagPage(items=[], newer=part.after().encode(), older=None, full=False)
    own = platform.session.did
    items: list[Fetched] = []
    page = part.page
    for _ in range(MAX_POLL_PAGES):
        views, page = _search(
            platform, tag, cursor=page, since=part.since, until=part.until, limit=POLL_PAGE
        )
        below = False
        for view in views:
            at = sort_time(view)
            if at is not None and not part.holds(at):
                # A search that ignores the bounds: above, the next slice reads it; below,
                # an earlier one did, and so did it everything further down.
                below = at < part.since
                if below:
                    break
                continue
            items.append(_kept(view, tag, own))
        # Only the cursor says the slice goes on: a page may come back short (the AppView
        # leaves out posts it hides after choosing the page).
        if below or page is None:
            return TagPage(items=items, newer=part.after().encode(), older=None, full=False)
    carried = Slice(part.since, part.until, page)
    return TagPage(items=items, newer=carried.encode(), older=None, full=True)


def _walk(platform: BlueskyPlatform, tag: str, *, older_than: str | None, top: datetime) -> TagPage:
    """A page of the whole tag from ``top`` down (a first read, the settling pass): its
    ``newer`` is the slice to poll from next, the ``older`` cursor carries ``top`` along."""
    at_top = older_than is None
    walked = Slice.decode(older_than) if older_than is not None else None
    upper = walked.until if walked is not None and walked.until is not None else top
    page = walked.page if walked is not None else None
    views, next_page = _search(platform, tag, cursor=page, since=None, until=upper, limit=WALK_PAGE)
    own = platform.session.did
    items = [_kept(v, tag, own) for v in views if (at := sort_time(v)) is None or at < upper]
    return TagPage(
        items=items,
        newer=Slice(upper).encode() if at_top else None,
        older=Slice(_WALK_FLOOR, upper, next_page).encode() if views and next_page else None,
        full=False,
    )


def _search(
    platform: BlueskyPlatform,
    tag: str,
    *,
    cursor: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    params = models.AppBskyFeedSearchPosts.Params(
        q=tag,
        sort="latest",
        tag=[tag.lstrip("#")],
        since=wire_time(since) if since is not None else None,
        until=wire_time(until) if until is not None else None,
        cursor=cursor,
        limit=limit,
    )
    body = platform.session.query("app.bsky.feed.searchPosts", params)
    posts = body.get("posts")
    next_cursor = body.get("cursor")
    return (
        posts if isinstance(posts, list) else [],
        next_cursor if isinstance(next_cursor, str) and next_cursor else None,
    )


def _kept(view: Any, tag: str, own_did: str) -> Fetched:
    item = to_post(view, own_did=own_did)
    if isinstance(item, Skipped) or carries_tag(view, tag):
        return item
    return Skipped(item.id, "the search matched it, but it does not carry the hashtag")


def replies(platform: BlueskyPlatform, post_id: str) -> list[Fetched]:
    """Every reply under the post, however deep, parents before children."""
    try:
        uri = post_uri(post_id)
    except BadId:
        return []
    params = models.AppBskyFeedGetPostThread.Params(uri=uri, depth=THREAD_DEPTH, parent_height=0)
    body = platform.session.query("app.bsky.feed.getPostThread", params, missing_ok=True)
    own = platform.session.did
    out: list[Fetched] = []
    pending = list(reversed(_replies_of(body.get("thread"))))
    while pending and len(out) < 10_000:
        node = pending.pop()
        out.append(to_post(node.get("post"), own_did=own))
        pending += reversed(_replies_of(node))
    return out


def _replies_of(node: Any) -> list[Mapping[str, Any]]:
    # Blocked and deleted replies come as other $types, without a post: left out.
    if not isinstance(node, Mapping):
        return []
    found = node.get("replies")
    if not isinstance(found, list):
        return []
    return [
        r
        for r in found
        if isinstance(r, Mapping)
        and r.get("$type", "app.bsky.feed.defs#threadViewPost")
        == "app.bsky.feed.defs#threadViewPost"
        and isinstance(r.get("post"), Mapping)
    ]


def fetch(platform: BlueskyPlatform, post_id: str) -> Fetched | None:
    views = get_posts(platform, [post_id])
    if not views:
        return None
    return to_post(views[0], own_did=platform.session.did)


def existing(platform: BlueskyPlatform, ids: Sequence[str]) -> set[str]:
    """Of these posts, those the AppView still shows: a deleted post, or one whose author
    left or was taken down, is missing from its answer. An answer without its list of posts
    says nothing of them, and is an error."""
    found: set[str] = set()
    for start in range(0, len(ids), BATCH):
        posts = _get_posts(platform, list(ids[start : start + BATCH]))
        if posts is None:
            raise TransientError("the AppView answered getPosts without its posts")
        for view in posts:
            uri = view.get("uri") if isinstance(view, Mapping) else None
            try:
                found.add(post_id(uri) if isinstance(uri, str) else "")
            except BadId:
                continue
    found.discard("")
    return found


def get_posts(platform: BlueskyPlatform, ids: list[str]) -> list[Any]:
    """The post views of up to 25 ids; a deleted post is left out."""
    posts = _get_posts(platform, ids)
    return [p for p in posts if isinstance(p, Mapping)] if posts is not None else []


def _get_posts(platform: BlueskyPlatform, ids: list[str]) -> list[Any] | None:
    """getPosts of up to 25 ids, as answered; None when the answer holds no list of posts."""
    uris = []
    for one in ids:
        try:
            uris.append(post_uri(one))
        except BadId:
            continue
    if not uris:
        return []
    params = models.AppBskyFeedGetPosts.Params(uris=uris)
    posts = platform.session.query("app.bsky.feed.getPosts", params).get("posts")
    return posts if isinstance(posts, list) else None
