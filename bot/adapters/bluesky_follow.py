"""Following a chat on Bluesky: the hashtag through ``app.bsky.feed.searchPosts`` (latest
first), the replies to the bot's posts through ``app.bsky.feed.getPostThread``, one post
through ``app.bsky.feed.getPosts``. Bluesky has no hashtag stream: the follower polls.

The search is written for production, which is tag-aware, case-insensitive and honours
``since``: each poll asks only for posts since the stored mark (less a short overlap for
posts the AppView indexed late) and stops reading at the mark. Whatever the search returns,
the post must carry the hashtag in any case (text, tag facet or record tag) to be kept: a
local network's search is a plain case-sensitive substring match, which finds #ChatX for
#Chat and misses #chat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from atproto import models

from bot.adapters.bluesky_ids import BadId, post_uri
from bot.adapters.bluesky_posts import carries_tag, to_post
from bot.adapters.untrusted_fields import Malformed, utc_time
from bot.ports.following import Fetched, Skipped, TagPage

if TYPE_CHECKING:
    from bot.adapters.bluesky import BlueskyPlatform

# Posts per search request: a poll's page, and a page when walking down the whole tag.
POLL_PAGE = 25
WALK_PAGE = 100
# A poll reads down to this far below its mark: the AppView may index a post a little after
# a later one, and it sorts by creation time. Posts re-read here are archived once anyway.
INDEX_LAG = timedelta(seconds=3)
# Pages one poll reads at most (2500 posts since the last poll); beyond, the mark moves on
# and the settling pass at the window's end reads the rest.
MAX_POLL_PAGES = 25
# getPostThread: as deep as the server goes; parents are not needed (the bot's post is root).
THREAD_DEPTH = 1000


@dataclass(frozen=True)
class Mark:
    """Where a poll stopped: the sort time and id of the newest post read. Kept as the
    follower's opaque cursor (``<time>|<id>``)."""

    at: datetime
    post_id: str

    def encode(self) -> str:
        return f"{self.at.isoformat()}|{self.post_id}"

    @staticmethod
    def decode(value: str) -> Mark | None:
        at, sep, post_id = value.partition("|")
        if not sep:
            return None
        try:
            return Mark(utc_time(at, "mark"), post_id)
        except Malformed:
            return None


def tag_page(
    platform: BlueskyPlatform,
    tag: str,
    *,
    newer_than: str | None = None,
    older_than: str | None = None,
) -> TagPage:
    mark = Mark.decode(newer_than) if newer_than is not None else None
    if mark is not None:
        return _since(platform, tag, mark)
    views, cursor = _search(platform, tag, cursor=older_than, since=None, limit=WALK_PAGE)
    own = platform.session.did
    items = [_kept(v, tag, own) for v in views]
    newest = _mark(views[0]) if views and older_than is None else None
    return TagPage(
        items=items,
        newer=newest.encode() if newest else newer_than,
        older=cursor if views else None,
        full=False,
    )


def _since(platform: BlueskyPlatform, tag: str, mark: Mark) -> TagPage:
    """Every post above the mark (and those of the overlap below it), newest first."""
    floor = mark.at - INDEX_LAG
    own = platform.session.did
    items: list[Fetched] = []
    newest: Mark | None = None
    cursor: str | None = None
    for _ in range(MAX_POLL_PAGES):
        views, cursor = _search(platform, tag, cursor=cursor, since=floor, limit=POLL_PAGE)
        reached = False
        for view in views:
            found = _mark(view)
            if found is not None and found.at < floor:
                reached = True
                break
            if newest is None and found is not None:
                newest = found
            if found is None or found.post_id != mark.post_id:
                items.append(_kept(view, tag, own))
        if reached or not cursor or len(views) < POLL_PAGE:
            break
    moved = newest is not None and newest.at >= mark.at
    return TagPage(
        items=items,
        newer=newest.encode() if moved and newest else mark.encode(),
        older=None,
        full=False,
    )


def _search(
    platform: BlueskyPlatform,
    tag: str,
    *,
    cursor: str | None,
    since: datetime | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    params = models.AppBskyFeedSearchPosts.Params(
        q=tag,
        sort="latest",
        tag=[tag.lstrip("#")],
        since=since.astimezone(UTC).isoformat().replace("+00:00", "Z") if since else None,
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


def _mark(view: Any) -> Mark | None:
    """The post's place in the search's order: its creation time, unless it claims to be
    newer than when the AppView indexed it (a clock, or a lie), then the indexing time."""
    if not isinstance(view, Mapping) or not isinstance(view.get("record"), Mapping):
        return None
    item = to_post(view, own_did=None)
    if item.id is None:
        return None
    try:
        created = utc_time(view["record"].get("createdAt"), "createdAt")
        indexed = utc_time(view.get("indexedAt"), "indexedAt")
    except Malformed:
        return None
    return Mark(min(created, indexed), item.id)


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


def get_posts(platform: BlueskyPlatform, ids: list[str]) -> list[Any]:
    """The post views of up to 25 ids; a deleted post is left out."""
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
    return [p for p in posts if isinstance(p, Mapping)] if isinstance(posts, list) else []
