"""The Bluesky reads against an AppView played by a plain function: each post is handed over
once, whether the server applies the search's ``since`` and ``until`` (production) or ignores
them (a local network), a post indexed late but within ``index_delay`` is not skipped, and
hostile-but-legal pages (short pages that go on, other reasons, a notification without a
time) neither end a read early nor stop it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from bot.adapters.bluesky import BlueskyPlatform
from bot.adapters.bluesky_follow import tag_page
from bot.adapters.bluesky_notifications import NotificationReader, replies_batch
from bot.ports.following import Skipped
from tests.support.clock import ManualClock

T0 = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
BOT = "did:plc:botbotbotbotbotbotbotbotb"
DELAY = timedelta(seconds=10)


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@dataclass
class Post:
    rkey: str
    made: float  # seconds after T0
    indexed: float
    reply: bool = False

    def view(self) -> dict[str, Any]:
        record: dict[str, Any] = {"text": f"{self.rkey} #SkyChat", "createdAt": _at(self.made)}
        if self.reply:
            parent = {"uri": f"at://{BOT}/app.bsky.feed.post/q1", "cid": "c"}
            record["reply"] = {"root": parent, "parent": parent}
        return {
            "uri": f"at://did:plc:crowdcrowdcrowdcrowdcrow/app.bsky.feed.post/{self.rkey}",
            "cid": "bafy",
            "author": {"did": "did:plc:crowdcrowdcrowdcrowdcrow", "handle": "crowd.test"},
            "record": record,
            "indexedAt": _at(self.indexed),
        }


@dataclass
class AppView:
    """The search and the notifications over ``posts``, as of the clock: newest first by
    sort time, pages of ``limit`` from an offset cursor. ``bounds``: whether the search
    applies ``since`` and ``until``."""

    clock: ManualClock
    posts: list[Post]
    bounds: bool
    sent: Counter[str] = field(default_factory=Counter)
    extra: list[dict[str, Any]] = field(default_factory=list)  # odd notifications, on top
    hidden: set[str] = field(default_factory=set)  # left out after the page is chosen

    def query(self, nsid: str, params: Any, **_: Any) -> dict[str, Any]:
        now = (self.clock.now() - T0).total_seconds()
        seen = [p for p in self.posts if p.indexed <= now]
        seen.sort(key=lambda p: min(p.made, p.indexed), reverse=True)
        if nsid == "app.bsky.feed.searchPosts":
            if self.bounds:
                seen = [p for p in seen if _within(p, params.since, params.until)]
            views = [p.view() for p in seen]
            return self._page(views, params, "posts", nsid)
        notes = self.extra + [{**p.view(), "reason": "reply"} for p in seen if p.reply]
        return self._page(notes, params, "notifications", nsid)

    def _page(
        self, items: list[dict[str, Any]], params: Any, key: str, nsid: str
    ) -> dict[str, Any]:
        start = int(params.cursor or 0)
        page = [v for v in items[start : start + params.limit] if v["uri"] not in self.hidden]
        self.sent.update(f"{nsid} {v['uri']}" for v in page)
        more = start + params.limit < len(items)
        return {key: page, "cursor": str(start + params.limit) if more else None}


def _within(post: Post, since: str | None, until: str | None) -> bool:
    at = T0 + timedelta(seconds=min(post.made, post.indexed))
    low = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
    high = datetime.fromisoformat(until.replace("Z", "+00:00")) if until else None
    return (low is None or at >= low) and (high is None or at < high)


@dataclass
class _Session:
    query: Callable[..., dict[str, Any]]
    did: str = BOT


@dataclass
class _Platform:
    """What the reads use of the platform: its session (the AppView) and its clock."""

    session: _Session
    clock: ManualClock


def _crowd() -> list[Post]:
    posts = [Post(f"p{n}", made=2.0 * n, indexed=2.0 * n + 0.3) for n in range(30)]
    posts.append(Post("late", made=21.0, indexed=28.0))  # indexed 7 s late, within the delay
    posts.append(Post("same", made=30.0, indexed=30.2))  # two posts at one moment
    return posts


@pytest.mark.parametrize("bounds", [True, False], ids=["production", "local"])
def test_polling_the_search_hands_every_post_over_once(bounds: bool) -> None:
    clock = ManualClock(T0)
    appview = AppView(clock, _crowd(), bounds)
    platform = cast(BlueskyPlatform, _Platform(_Session(appview.query), clock))
    handed: Counter[str] = Counter()
    first = tag_page(platform, "#SkyChat", delay=DELAY)
    cursor = first.newer
    assert cursor is not None
    for _ in range(20):  # a poll every 4 s for 80 s
        clock.advance(seconds=4)
        page = tag_page(platform, "#SkyChat", newer_than=cursor, delay=DELAY)
        handed.update(i.id or "" for i in page.items)
        cursor = page.newer or cursor
    rest = tag_page(platform, "#SkyChat", newer_than=cursor, delay=timedelta(0))
    handed.update(i.id or "" for i in rest.items)

    assert [k for k, n in handed.items() if n != 1] == []
    assert {k.rsplit("/", 1)[1] for k in handed} == {p.rkey for p in appview.posts}
    if bounds:  # production sends each post once too
        assert max(appview.sent.values()) == 1


def test_notifications_are_read_down_to_the_slice_through_short_pages_and_odd_entries() -> None:
    clock = ManualClock(T0 + timedelta(seconds=40))
    posts = [Post(f"r{n}", made=3.0 * n, indexed=3.0 * n + 0.2, reply=True) for n in range(12)]
    appview = AppView(clock, posts, bounds=False)
    appview.extra = [
        {"reason": "like", "uri": "at://did:plc:x/app.bsky.feed.like/1", "indexedAt": _at(35)},
        {"reason": "reply", "uri": "at://did:plc:x/app.bsky.feed.post/odd"},  # no time
    ]
    # The AppView hides one (its author blocked the bot): the first page comes back short.
    appview.hidden = {posts[7].view()["uri"]}
    platform = cast(BlueskyPlatform, _Platform(_Session(appview.query), clock))
    reader = NotificationReader(platform, ("reply",))

    batch = reader.read(after=None, since=T0 + timedelta(seconds=3), delay=DELAY)
    read = replies_batch(batch, own_did=BOT)

    posts_read = [i.id.rsplit("/", 1)[1] for i in read.items if not isinstance(i, Skipped) and i.id]
    # [3 s, 30 s): r1 (3 s) to r9 (27 s), oldest first, over two pages; r10 and r11 wait for
    # the next read.
    assert posts_read == ["r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9"]
    assert [i.reason for i in read.items if isinstance(i, Skipped)] == [
        "malformed: a notification without a time"
    ]
    clock.advance(seconds=20)
    later = replies_batch(reader.read(after=read.cursor, since=T0, delay=DELAY), own_did=BOT)
    assert [i.id.rsplit("/", 1)[1] for i in later.items if i.id] == ["r10", "r11"]  # no like
