"""Exactly once on a server that ignores ``Idempotency-Key`` (some Mastodon-API servers do):
the ledger's recovery, which looks among the bot's own posts, still yields one post.

The server is mastodon_mock behind our fault proxy, which drops the header on its way: the
server then answers every post with a new status, as such servers do.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from bot.adapters.mastodon import MastodonPlatform
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import PlannedPost
from bot.core.config_platforms import MastodonSettings
from bot.runtime.publisher import PostPublisher
from tests.fakes.fault_proxy import FaultProxy
from tests.fakes.proxy_faults import Slow
from tests.support.clock import ManualClock
from tests.support.mastodon_server import Account, MastodonServer

TIMEOUT = timedelta(seconds=1)


@pytest.fixture
def proxy(mastodon: MastodonServer) -> Iterator[FaultProxy]:
    with FaultProxy(mastodon.base_url, drop_headers=("Idempotency-Key",)) as running:
        yield running


@pytest.fixture
def bot(mastodon: MastodonServer) -> Account:
    return mastodon.account("keylessbot", bot=True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    yield opened
    opened.close()


def question(at: datetime) -> PlannedPost:
    return PlannedPost(
        key="keyless/2026-12-02/q1/mastodon",
        occurrence="keyless/2026-12-02",
        slot="q1",
        kind="question",
        number=1,
        platform="mastodon",
        at=at,
        text="Q1 What brings you here? #KeylessChat",
    )


def publisher(store: SqlStore, platform: MastodonPlatform, clock: ManualClock) -> PostPublisher:
    return PostPublisher(
        ledger=store,
        platforms={"mastodon": platform},
        clock=clock,
        grace=timedelta(minutes=5),
        stop_event=threading.Event(),
        log=structlog.get_logger(),
    )


def recorded(store: SqlStore, key: str) -> tuple[str, str | None]:
    entry = store.get(key)
    assert entry is not None
    return entry.state, entry.remote_id


def platform_for(proxy: FaultProxy, bot: Account) -> MastodonPlatform:
    settings = MastodonSettings(instance=proxy.base_url, request_timeout=TIMEOUT)
    return MastodonPlatform(settings, token=bot.token)


def test_the_server_really_ignores_the_key(
    mastodon: MastodonServer, proxy: FaultProxy, bot: Account
) -> None:
    platform = platform_for(proxy, bot)
    post = question(datetime.now(UTC))

    first = platform.post(post.text, key=post.key, in_reply_to=None)
    again = platform.post(post.text, key=post.key, in_reply_to=None)

    assert first.remote_id != again.remote_id
    assert len(mastodon.statuses_of(bot)) == 2


def test_a_crash_after_the_server_posted_is_recovered_without_a_second_post(
    mastodon: MastodonServer, proxy: FaultProxy, store: SqlStore, bot: Account
) -> None:
    platform = platform_for(proxy, bot)
    clock = ManualClock(datetime.now(UTC))
    post = question(clock.now())
    # The first process claimed the key and the server made the post; then it died.
    assert store.claim(
        post.key, occurrence=post.occurrence, platform="mastodon", planned_at=post.at, now=post.at
    )
    made = platform.post(post.text, key=post.key, in_reply_to=None)

    clock.advance(seconds=20)
    outcome = publisher(store, platform_for(proxy, bot), clock).publish(post)

    assert outcome == "recovered"
    assert [s["id"] for s in mastodon.statuses_of(bot)] == [made.remote_id]
    assert recorded(store, post.key) == ("done", made.remote_id)


def test_an_answer_lost_to_a_timeout_is_not_posted_again(
    mastodon: MastodonServer, proxy: FaultProxy, store: SqlStore, bot: Account
) -> None:
    platform = platform_for(proxy, bot)
    clock = ManualClock(datetime.now(UTC))
    post = question(clock.now())
    # The server makes the post, but its answer comes after the bot gave up waiting.
    proxy.inject(Slow(TIMEOUT.total_seconds() * 3), path_prefix="/api/v1/statuses")

    outcome = publisher(store, platform, clock).publish(post)

    statuses = mastodon.statuses_of(bot)
    assert len(statuses) == 1
    assert outcome == "published"
    assert recorded(store, post.key) == ("done", statuses[0]["id"])
