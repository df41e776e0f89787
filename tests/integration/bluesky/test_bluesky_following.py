"""Following on a real local AT Protocol network: the hashtag search and the reply
notifications hand each post over once while people post, and a conversation deeper than the
notifications reach is read once, at the settling pass."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.bluesky import BlueskyPlatform
from bot.adapters.bluesky_ids import post_id, post_uri
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import Occurrence, PlannedPost
from bot.core.config import Follow
from bot.runtime.clock import SystemClock
from bot.runtime.follower import Follower
from bot.runtime.logs import get_logger
from tests.integration.bluesky.rig import BotRig, bot_rig, publisher_for
from tests.support.bluesky_network import BlueskyNetwork

# The local AppView indexes a post within a second: the reads stay two seconds behind.
DELAY = timedelta(seconds=2)


def _platform(rig: BotRig) -> BlueskyPlatform:
    platform = rig.platform(SystemClock())
    platform.settings = platform.settings.model_copy(update={"index_delay": DELAY})
    return platform


def _refs(parent: dict[str, Any], root: dict[str, Any] | None = None) -> dict[str, Any]:
    ref = {"uri": parent["uri"], "cid": parent["cid"]}
    top = {"uri": root["uri"], "cid": root["cid"]} if root is not None else ref
    return {"root": top, "parent": ref}


def test_each_tagged_post_and_reply_is_handed_over_once_while_people_post(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    rig = bot_rig(bluesky, tmp_path)
    platform = _platform(rig)
    people = [bluesky.create_account(f"c{n}") for n in range(3)]
    tag = "#OnceSky"
    start = SystemClock().now()
    asked = platform.post(
        f"Q1 what do you think? {tag}", key="o/2026-12-02/q1/bluesky", in_reply_to=None
    )
    question = bluesky.wait_for(
        lambda: bluesky.appview_post(post_uri(asked.remote_id)),
        what="Q1 indexed",
    )
    tagged: set[str] = set()
    replies: set[str] = set()
    done = threading.Event()

    def crowd() -> None:
        try:
            for n in range(24):
                who = people[n % len(people)]
                if n % 2:
                    made = bluesky.create_post(
                        who, f"an untagged answer {n}", reply_to=_refs(question)
                    )
                    replies.add(post_id(made["uri"]))
                else:
                    made = bluesky.create_post(who, f"answer {n} {tag}")
                    tagged.add(post_id(made["uri"]))
                time.sleep(0.15)
        finally:
            done.set()

    handed_tag: Counter[str] = Counter()
    handed_replies: Counter[str] = Counter()
    worker = threading.Thread(target=crowd)
    first = platform.tag_page(tag)  # the follower's first read: the walk from the top
    handed_tag.update(i.id for i in first.items if i.id)
    cursor = first.newer
    assert cursor is not None
    replies_cursor: str | None = None
    worker.start()
    while not done.is_set():
        page = platform.tag_page(tag, newer_than=cursor)
        handed_tag.update(i.id for i in page.items if i.id)
        cursor = page.newer or cursor
        batch = platform.new_replies(after=replies_cursor, since=start, last=False)
        handed_replies.update(i.id for i in batch.items if i.id)
        replies_cursor = batch.cursor
        time.sleep(0.4)
    worker.join()
    # The final reads, as the settling pass makes them: up to the present.
    rest = platform.tag_rest(tag, newer_than=cursor)
    handed_tag.update(i.id for i in rest.items if i.id)
    last = platform.new_replies(after=replies_cursor, since=start, last=True)
    handed_replies.update(i.id for i in last.items if i.id)

    assert [i for i, n in handed_tag.items() if n > 1] == []
    assert [i for i, n in handed_replies.items() if n > 1] == []
    assert tagged <= set(handed_tag), tagged - set(handed_tag)
    assert set(handed_replies) == replies


def _planned(occurrence: Occurrence, slot: str, text: str, *, after: str | None) -> PlannedPost:
    return PlannedPost(
        key=f"{occurrence.chat_id}/{occurrence.date}/{slot}/bluesky",
        occurrence=f"{occurrence.chat_id}/{occurrence.date}",
        slot=slot,
        kind="question" if slot.startswith("q") else "intro",
        number=int(slot[1:]) if slot.startswith("q") else None,
        platform="bluesky",
        at=occurrence.start,
        text=text,
        replies_to=(after,) if after else (),
    )


def test_a_conversation_deeper_than_the_notifications_reach_is_read_once_at_the_end(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    rig = bot_rig(bluesky, tmp_path)
    platform = _platform(rig)
    ann, ben, cat = (bluesky.create_account(n) for n in ("ann", "ben", "cat"))
    tag = "#DeepSky"
    store = SqlStore.from_url(rig.database_url)
    archive = SqlArchive(store.engine)
    clock = SystemClock()
    now = clock.now()
    occurrence = Occurrence("deepsky", "2026-12-02", now, now + timedelta(seconds=12))
    intro = _planned(occurrence, "intro", f"Welcome {tag}", after=None)
    q1 = _planned(occurrence, "q1", f"Q1 how deep does it go? {tag}", after=intro.key)
    publisher = publisher_for(store, platform, clock)
    for post in (intro, q1):
        assert publisher.publish(post) == "published"
    # A post of the bot's from outside this chat: replies to it are not this chat's.
    elsewhere = platform.post("An older post", key="old/2026-12-01/intro/bluesky", in_reply_to=None)
    follower = Follower(
        source=platform,
        archive=archive,
        ledger=store,
        clock=clock,
        stop_event=threading.Event(),
        tag=tag,
        settings=Follow(margin=timedelta(seconds=2), replies_interval=timedelta(seconds=5)),
        after_end=timedelta(seconds=2),
        log=get_logger(),
    )
    records = {
        r["value"]["text"]: r for r in bluesky.records(rig.account.did, "app.bsky.feed.post")
    }
    q1_record, intro_record = records[q1.text], records[intro.text]
    # People answer what they see: the question indexed (a reply the AppView indexes before
    # the post it answers brings its author no notification).
    bluesky.wait_for(lambda: bluesky.appview_post(q1_record["uri"]), what="Q1 indexed")
    with capture_logs() as logs:
        running = threading.Thread(target=follower.run, args=(occurrence, [intro, q1]))
        running.start()
        chain: list[str] = []
        parent = q1_record
        for depth in range(1, 8):  # a conversation seven levels below Q1, by turns
            who = (ann, ben)[depth % 2]
            made = bluesky.create_post(who, f"level {depth}", reply_to=_refs(parent, intro_record))
            chain.append(post_id(made["uri"]))
            parent = made
        # A reply that also names the bot: notified as a mention, not as a reply.
        named = f"@{rig.account.handle} level 1 too"
        mention = bluesky.create_post(
            cat,
            named,
            reply_to=_refs(q1_record, intro_record),
            facets=[
                {
                    "index": {"byteStart": 0, "byteEnd": len(rig.account.handle) + 1},
                    "features": [
                        {"$type": "app.bsky.richtext.facet#mention", "did": rig.account.did}
                    ],
                }
            ],
        )
        chain.append(post_id(mention["uri"]))
        elsewhere_record = bluesky.appview_post(post_uri(elsewhere.remote_id))
        assert elsewhere_record is not None
        stray = bluesky.create_post(
            cat, "a reply to another post", reply_to=_refs(elsewhere_record)
        )
        running.join(timeout=60)
    assert not running.is_alive()

    others = {p.id for p in archive.posts(occurrence.id) if not p.is_own}
    assert set(chain) <= others, [chain.index(i) + 1 for i in set(chain) - others]
    assert post_id(stray["uri"]) not in others
    answered = {p.id: p.question for p in archive.posts(occurrence.id) if p.id in chain}
    assert set(answered.values()) == {1}
    # One thread read, under the reply at the last notified level (4), never the question's.
    assert platform.session.requests["app.bsky.feed.getPostThread"] == 1
    assert [e["event"] for e in logs].count("follow.polling") == 1
    store.close()
