"""Exactly-once publishing against a real Mastodon API server (mastodon_mock).

The real MastodonPlatform, SqlStore and PostPublisher; only the clock is ours. Faults come
from the FaultProxy in front of the server. Assertions read what the server holds, what the
ledger stored and what was logged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
import structlog

from bot.adapters.mastodon import MastodonPlatform
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import PlannedPost
from bot.core.html_text import html_to_text
from bot.runtime.publisher import PostPublisher
from tests.fakes.fault_proxy import FaultProxy
from tests.fakes.proxy_faults import BadGateway, RateLimited, Slow
from tests.support.chat_files import ChatFile, write_chat
from tests.support.clock import ManualClock
from tests.support.mastodon_server import Account, MastodonServer

STATUSES = "/api/v1/statuses"
GRACE = timedelta(minutes=5)


@dataclass
class Rig:
    """One worker: a chat, its ledger and a publisher posting as the bot account."""

    chat: ChatFile
    store: SqlStore
    clock: ManualClock
    stop: threading.Event
    publisher: PostPublisher

    def post(self, slot: str) -> PlannedPost:
        return next(p for p in self.chat.agenda if p.slot == slot)

    def publish_at(self, slot: str, *, late: timedelta = timedelta(0)) -> str:
        post = self.post(slot)
        self.clock.time = post.at + late
        return self.publisher.publish(post)


MakeRig = Callable[..., Rig]


@pytest.fixture
def bot(mastodon: MastodonServer) -> Account:
    return mastodon.account("chatbot")


@pytest.fixture
def proxy(mastodon: MastodonServer) -> Iterator[FaultProxy]:
    with FaultProxy(mastodon.base_url) as running:
        yield running


@pytest.fixture
def make_rig(
    tmp_path: Path, mastodon: MastodonServer, bot: Account, logs: list[dict[str, Any]]
) -> Iterator[MakeRig]:
    """Build a worker; ``logs`` comes first so the publisher's logger is the capturing one."""
    stores: list[SqlStore] = []

    def make(
        *,
        chat: ChatFile | None = None,
        instance: str | None = None,
        token: str | None = None,
        ledger: str = "ledger",
        **chat_options: Any,
    ) -> Rig:
        chat = chat or write_chat(
            tmp_path / "chat.yaml",
            instance=instance or mastodon.base_url,
            questions=3,
            **chat_options,
        )
        assert chat.config.platforms.mastodon is not None
        platform = MastodonPlatform(chat.config.platforms.mastodon, token=token or bot.token)
        store = SqlStore.from_url(f"sqlite:///{tmp_path / ledger}.sqlite3")
        stores.append(store)
        clock = ManualClock(chat.occurrence.start)
        stop = threading.Event()
        publisher = PostPublisher(
            ledger=store,
            platforms={"mastodon": platform},
            clock=clock,
            grace=chat.config.posts.grace,
            stop_event=stop,
            log=structlog.get_logger().bind(chat=chat.config.chat.id),
        )
        return Rig(chat, store, clock, stop, publisher)

    yield make
    for store in stores:
        store.close()


def texts(statuses: list[dict[str, Any]]) -> list[str]:
    return [html_to_text(s["content"]) for s in statuses]


def events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == name]


def posts_sent(proxy: FaultProxy) -> list[tuple[int | None, str | None]]:
    return [(r.status, r.fault) for r in proxy.log if r.method == "POST" and r.path == STATUSES]


def test_a_chat_is_one_thread_in_agenda_order(
    make_rig: MakeRig, mastodon: MastodonServer, bot: Account
) -> None:
    rig = make_rig()

    outcomes = [rig.publish_at(post.slot) for post in rig.chat.agenda]

    statuses = mastodon.statuses_of(bot)
    assert outcomes == ["published"] * 5
    assert texts(statuses) == rig.chat.texts
    assert [s["in_reply_to_id"] for s in statuses] == [None] + [s["id"] for s in statuses[:-1]]
    assert [(e.key, e.state, e.remote_id) for e in rig.store.entries(rig.chat.occurrence.id)] == [
        (post.key, "done", status["id"])
        for post, status in zip(rig.chat.agenda, statuses, strict=True)
    ]


def test_publishing_a_key_again_is_skipped_by_the_ledger(
    make_rig: MakeRig, mastodon: MastodonServer, bot: Account, logs: list[dict[str, Any]]
) -> None:
    rig = make_rig()

    first = rig.publish_at("intro")
    again = rig.publish_at("intro", late=timedelta(seconds=30))

    assert (first, again) == ("published", "skipped")
    assert texts(mastodon.statuses_of(bot)) == [rig.post("intro").text]
    assert [e["state"] for e in events(logs, "post.skipped")] == ["done"]


def test_the_server_keeps_one_status_per_key_even_without_a_shared_ledger(
    make_rig: MakeRig, mastodon: MastodonServer, bot: Account
) -> None:
    # Two workers whose ledgers do not see each other: only the idempotency key stands
    # between them and a duplicate.
    one = make_rig(ledger="one")
    other = make_rig(chat=one.chat, ledger="other")

    outcomes = [one.publish_at("intro"), other.publish_at("intro")]

    statuses = mastodon.statuses_of(bot)
    assert outcomes == ["published", "published"]
    assert len(statuses) == 1
    key = one.post("intro").key
    recorded = [rig.store.get(key) for rig in (one, other)]
    assert [e.remote_id if e else None for e in recorded] == [statuses[0]["id"]] * 2


def test_a_post_claimed_but_not_recorded_is_found_and_recorded_not_repeated(
    make_rig: MakeRig, mastodon: MastodonServer, bot: Account, logs: list[dict[str, Any]]
) -> None:
    rig = make_rig()
    intro = rig.post("intro")
    # A worker claimed the intro and posted it, then died before recording the answer.
    assert rig.store.claim(
        intro.key,
        occurrence=intro.occurrence,
        platform=intro.platform,
        planned_at=intro.at,
        now=intro.at,
    )
    lost = mastodon.post(bot, intro.text)

    outcome = rig.publish_at("intro", late=timedelta(seconds=20))
    follow_up = rig.publish_at("q1")

    statuses = mastodon.statuses_of(bot)
    assert outcome == "recovered"
    assert follow_up == "published"
    assert statuses[0]["id"] == lost["id"]
    assert texts(statuses) == [intro.text, rig.post("q1").text]
    assert statuses[1]["in_reply_to_id"] == lost["id"]
    entry = rig.store.get(intro.key)
    assert entry is not None
    assert (entry.state, entry.remote_id) == ("done", lost["id"])
    assert [e["remote_id"] for e in events(logs, "post.recovered")] == [lost["id"]]


def test_a_post_claimed_but_never_sent_is_sent_once_on_recovery(
    make_rig: MakeRig, mastodon: MastodonServer, bot: Account
) -> None:
    rig = make_rig()
    intro = rig.post("intro")
    rig.store.claim(
        intro.key,
        occurrence=intro.occurrence,
        platform=intro.platform,
        planned_at=intro.at,
        now=intro.at,
    )

    outcome = rig.publish_at("intro", late=timedelta(seconds=20))

    assert outcome == "published"
    assert texts(mastodon.statuses_of(bot)) == [intro.text]


def test_a_slot_missed_by_more_than_the_grace_is_marked_missed_and_not_posted(
    make_rig: MakeRig, mastodon: MastodonServer, bot: Account, logs: list[dict[str, Any]]
) -> None:
    rig = make_rig(spacing=10, posts={"grace": "5s"})

    intro = rig.publish_at("intro")
    q1 = rig.publish_at("q1", late=timedelta(seconds=6))
    q2 = rig.publish_at("q2", late=timedelta(seconds=1))

    statuses = mastodon.statuses_of(bot)
    assert (intro, q1, q2) == ("published", "missed", "published")
    assert texts(statuses) == [rig.post("intro").text, rig.post("q2").text]
    # The thread goes on from the last post that exists.
    assert statuses[1]["in_reply_to_id"] == statuses[0]["id"]
    entry = rig.store.get(rig.post("q1").key)
    assert entry is not None
    assert (entry.state, entry.remote_id) == ("missed", None)
    assert [(e["slot"], e["late_s"], e["grace_s"]) for e in events(logs, "post.missed")] == [
        ("q1", 6.0, 5.0)
    ]


def test_a_slot_missed_by_less_than_the_grace_is_posted_late(
    make_rig: MakeRig, mastodon: MastodonServer, bot: Account, logs: list[dict[str, Any]]
) -> None:
    rig = make_rig()

    outcome = rig.publish_at("intro", late=GRACE - timedelta(seconds=1))

    assert outcome == "published"
    assert texts(mastodon.statuses_of(bot)) == [rig.post("intro").text]
    assert [e["late_s"] for e in events(logs, "post.published")] == [299.0]


def test_a_refused_token_is_not_retried_and_is_logged_as_failed(
    make_rig: MakeRig,
    proxy: FaultProxy,
    mastodon: MastodonServer,
    bot: Account,
    logs: list[dict[str, Any]],
) -> None:
    rig = make_rig(instance=proxy.base_url, token="not-the-bot-token")

    outcome = rig.publish_at("intro")

    assert outcome == "failed"
    assert posts_sent(proxy) == [(401, None)]
    assert mastodon.statuses_of(bot) == []
    [failed] = events(logs, "post.failed")
    assert failed["kind"] == "permanent"
    assert "401" in failed["reason"]
    assert events(logs, "retry.wait") == events(logs, "ratelimit.wait") == []
    entry = rig.store.get(rig.post("intro").key)
    assert entry is not None
    assert entry.state == "failed"


@pytest.mark.parametrize("reset_format", ["iso", "epoch"])
def test_a_rate_limited_post_waits_for_the_reset_then_goes_out_once(
    make_rig: MakeRig,
    proxy: FaultProxy,
    mastodon: MastodonServer,
    bot: Account,
    logs: list[dict[str, Any]],
    reset_format: Literal["iso", "epoch"],
) -> None:
    rig = make_rig(instance=proxy.base_url)
    proxy.inject(RateLimited(1.0, reset_format), path_prefix=STATUSES)

    outcome = rig.publish_at("intro")

    assert outcome == "published"
    assert texts(mastodon.statuses_of(bot)) == [rig.post("intro").text]
    assert posts_sent(proxy) == [(429, "RateLimited"), (200, None)]
    [wait] = events(logs, "ratelimit.wait")
    # The epoch format rounds the reset up to the next second; Mastodon.py may add under a
    # second more for the Date header's whole seconds.
    assert 1.0 <= wait["seconds"] <= 3.1
    limited, retried = (r.time for r in proxy.log if r.path == STATUSES)
    assert retried - limited >= 1.0


def test_a_rate_limit_reset_past_the_grace_fails_the_post_without_waiting(
    make_rig: MakeRig,
    proxy: FaultProxy,
    mastodon: MastodonServer,
    bot: Account,
    logs: list[dict[str, Any]],
) -> None:
    rig = make_rig(instance=proxy.base_url, posts={"grace": "10s"})
    proxy.inject(RateLimited(30), path_prefix=STATUSES)

    outcome = rig.publish_at("intro", late=timedelta(seconds=2))

    assert outcome == "failed"
    assert posts_sent(proxy) == [(429, "RateLimited")]
    assert mastodon.statuses_of(bot) == []
    assert events(logs, "ratelimit.wait") == []
    [failed] = events(logs, "post.failed")
    assert failed["kind"] == "transient, out of retries or past the grace"
    assert "rate limited" in failed["reason"]


def test_a_bad_gateway_is_retried_and_the_post_goes_out_once(
    make_rig: MakeRig,
    proxy: FaultProxy,
    mastodon: MastodonServer,
    bot: Account,
    logs: list[dict[str, Any]],
) -> None:
    rig = make_rig(instance=proxy.base_url)
    proxy.inject(BadGateway(), path_prefix=STATUSES)

    outcome = rig.publish_at("intro")

    assert outcome == "published"
    assert texts(mastodon.statuses_of(bot)) == [rig.post("intro").text]
    assert posts_sent(proxy) == [(502, "BadGateway"), (200, None)]
    [wait] = events(logs, "retry.wait")
    assert "502" in wait["reason"]


def test_a_post_whose_answer_is_lost_is_retried_with_its_key_and_kept_once(
    make_rig: MakeRig, proxy: FaultProxy, mastodon: MastodonServer, bot: Account
) -> None:
    # The server creates the status but the answer comes after the client gave up.
    rig = make_rig(instance=proxy.base_url, mastodon={"request_timeout": "0.5s"})
    proxy.inject(Slow(2.0), path_prefix=STATUSES)

    outcome = rig.publish_at("intro")

    statuses = mastodon.statuses_of(bot)
    assert outcome == "published"
    assert texts(statuses) == [rig.post("intro").text]
    entry = rig.store.get(rig.post("intro").key)
    assert entry is not None
    assert entry.remote_id == statuses[0]["id"]


def test_shutdown_cuts_a_rate_limit_wait_short_and_leaves_the_key_claimed(
    make_rig: MakeRig,
    proxy: FaultProxy,
    mastodon: MastodonServer,
    bot: Account,
    logs: list[dict[str, Any]],
) -> None:
    rig = make_rig(instance=proxy.base_url)
    proxy.inject(RateLimited(60), path_prefix=STATUSES)
    threading.Timer(0.3, rig.stop.set).start()

    outcome = rig.publish_at("intro")

    assert outcome == "interrupted"
    assert mastodon.statuses_of(bot) == []
    entry = rig.store.get(rig.post("intro").key)
    assert entry is not None
    assert entry.state == "claimed"
    assert [e["slot"] for e in events(logs, "post.interrupted")] == ["intro"]
