"""Issue 12 item 19 on Mastodon: capture files a post by the window of the question that had
actually gone out when it was made, even when that question went out a moment after the
follower last read the ledger. The real follower, on a real Mastodon API server, streaming."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.mastodon import MastodonPlatform
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import Occurrence, PlannedPost
from bot.core.config import Follow
from bot.core.config_platforms import MastodonSettings
from bot.ports.posting import Published
from bot.runtime.clock import SystemClock
from bot.runtime.follower import Follower
from bot.runtime.logs import get_logger
from tests.support.mastodon_server import Account, MastodonServer

TAG = "WindowChat"
WINDOW = timedelta(seconds=6)


def question(occurrence: Occurrence, n: int) -> PlannedPost:
    return PlannedPost(
        key=f"{occurrence.id}/q{n}/mastodon",
        occurrence=occurrence.id,
        slot=f"q{n}",
        kind="question",
        number=n,
        platform="mastodon",
        at=occurrence.start + timedelta(seconds=n),
        text=f"Q{n}: what now? #{TAG}",
    )


def ask(server: MastodonServer, bot: Account, store: SqlStore, post: PlannedPost) -> None:
    """The publisher's part: the question goes out and the ledger records it."""
    status = server.post(bot, post.text)
    now = SystemClock().now()
    store.claim(
        post.key, occurrence=post.occurrence, platform="mastodon", planned_at=post.at, now=now
    )
    store.record(post.key, Published(str(status["id"]), status["url"], now), now=now)


def test_a_post_made_just_after_a_question_went_out_is_filed_under_it(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    """Issue 12 item 19: Q2 goes out (late, the ledger says when) a few tenths of a second
    after the follower filed a post under Q1; the next post, made after Q2, is Q2's."""
    bot, ann = mastodon.account("windowbot"), mastodon.account("ann")
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    archive = SqlArchive(store.engine)
    now = SystemClock().now()
    occurrence = Occurrence("windowchat", "2026-12-02", now, now + WINDOW)
    q1, q2 = question(occurrence, 1), question(occurrence, 2)
    stop = threading.Event()
    follower = Follower(
        source=MastodonPlatform(MastodonSettings(instance=mastodon.base_url), token=bot.token),
        archive=archive,
        ledger=store,
        clock=SystemClock(),
        stop_event=stop,
        tag=TAG,
        settings=Follow(margin=timedelta(seconds=1)),
        after_end=timedelta(0),
        log=get_logger(),
    )
    thread = threading.Thread(target=follower.run, args=(occurrence, [q1, q2]))
    thread.start()
    try:
        ask(mastodon, bot, store, q1)
        time.sleep(1.5)  # the follower is streaming
        before = mastodon.post(ann, f"Mornings for me #{TAG}")["id"]
        deadline = time.monotonic() + 5
        while archive.get("mastodon", before) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        ask(mastodon, bot, store, q2)  # well within a second of that filing
        after = mastodon.post(ann, f"Evenings, really #{TAG}")["id"]
        deadline = time.monotonic() + 5
        while archive.get("mastodon", after) is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=30)
        filed = {p.id: (p.question, p.rule) for p in archive.posts(occurrence.id) if not p.is_own}
        store.close()

    assert filed == {before: (1, "window"), after: (2, "window")}
