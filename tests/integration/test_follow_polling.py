"""A server without streaming: the follower says so, polls the hashtag at its interval (well
inside the per-user limit), and still captures every public post of the chat."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.mastodon import MastodonPlatform
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import Occurrence
from bot.core.config import Follow
from bot.core.config_platforms import MastodonSettings
from bot.runtime.clock import SystemClock
from bot.runtime.follower import Follower
from bot.runtime.logs import get_logger
from tests.fakes.fault_proxy import FaultProxy
from tests.support.mastodon_server import (
    Account,
    MastodonServer,
    running_mastodon_without_streaming,
)

TAG = "PollChat"
POLL = timedelta(seconds=3)
WINDOW = timedelta(seconds=10)


@pytest.fixture
def no_streaming(tmp_path: Path) -> Iterator[MastodonServer]:
    with running_mastodon_without_streaming(tmp_path) as server:
        yield server


def polling_follower(
    proxy: FaultProxy, bot: Account, store: SqlStore, *, margin: timedelta
) -> Follower:
    """The follower of the bot's account, through the proxy, polling every POLL."""
    platform = MastodonPlatform(MastodonSettings(instance=proxy.base_url), token=bot.token)
    return Follower(
        source=platform,
        archive=SqlArchive(store.engine),
        ledger=store,
        clock=SystemClock(),
        stop_event=threading.Event(),
        tag=TAG,
        settings=Follow(margin=margin, poll_interval=POLL),
        after_end=timedelta(0),
        log=get_logger(),
    )


def test_without_streaming_the_hashtag_is_polled_and_nothing_is_missed(
    no_streaming: MastodonServer, tmp_path: Path
) -> None:
    server = no_streaming
    bot, alice = server.account("pollbot"), server.account("alice")
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    archive = SqlArchive(store.engine)
    now = SystemClock().now()
    occurrence = Occurrence("pollchat", "2026-12-02", now, now + WINDOW)
    with FaultProxy(server.base_url) as proxy, capture_logs() as logs:
        follower = polling_follower(proxy, bot, store, margin=timedelta(seconds=1))
        thread = threading.Thread(target=follower.run, args=(occurrence, []))
        thread.start()
        posted = []
        for n in range(12):
            posted.append(server.post(alice, f"A1 answer {n} #{TAG}")["id"])
            time.sleep(0.6)
        thread.join(timeout=30)
        requests = proxy.log
    assert not thread.is_alive()

    assert [p.id for p in archive.posts(occurrence.id)] == posted
    polling = [line for line in logs if line["event"] == "follow.polling"]
    assert len(polling) == 1
    assert "404" in polling[0]["reason"]
    reads = [r for r in requests if r.path.startswith(f"/api/v1/timelines/tag/{TAG}")]
    following = [r for r in reads if r.time < now.timestamp() + WINDOW.total_seconds()]
    # One read at the start, then one per interval: never faster.
    assert len(following) <= 1 + WINDOW / POLL
    gaps = [b.time - a.time for a, b in itertools.pairwise(following)]
    assert all(gap >= POLL.total_seconds() * 0.9 for gap in gaps), gaps
    store.close()


def test_without_link_headers_the_timeline_is_paged_by_ids(
    no_streaming: MastodonServer, tmp_path: Path
) -> None:
    """Some servers send no ``Link`` header: pages are found from the ids themselves."""
    server = no_streaming
    bot, alice = server.account("pagebot"), server.account("alice")
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    archive = SqlArchive(store.engine)
    now = SystemClock().now()
    occurrence = Occurrence("pagechat", "2026-12-02", now + timedelta(seconds=1), now + WINDOW)
    # More than two pages of 40 before the bot starts, more than one page between polls.
    posted = [server.post(alice, f"A1 early {n} #{TAG}")["id"] for n in range(90)]
    with FaultProxy(server.base_url, drop_headers=("Link",)) as proxy:
        follower = polling_follower(proxy, bot, store, margin=timedelta(minutes=1))
        thread = threading.Thread(target=follower.run, args=(occurrence, []))
        thread.start()
        time.sleep(POLL.total_seconds() / 2)
        posted += [server.post(alice, f"A1 late {n} #{TAG}")["id"] for n in range(50)]
        thread.join(timeout=30)
        reads = [r for r in proxy.log if r.path.startswith(f"/api/v1/timelines/tag/{TAG}")]
    assert not thread.is_alive()

    assert [p.id for p in archive.posts(occurrence.id)] == posted
    assert any("max_id=" in r.path for r in reads)  # paged down by the last id seen
    assert any("min_id=" in r.path for r in reads)  # and up from the newest
    store.close()
