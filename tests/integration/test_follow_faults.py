"""The follower between a loopback fault proxy and a real Mastodon API server: rate limits
with a reset time (ISO-8601 and epoch), 502s, slow answers, timeouts and dropped streams.
The capture stays complete and every wait is logged with its reason."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.mastodon import MastodonPlatform
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import Occurrence, PlannedPost
from bot.core.config import Follow
from bot.core.config_platforms import MastodonSettings
from bot.core.html_text import html_to_text
from bot.runtime.clock import SystemClock
from bot.runtime.follower import Follower
from bot.runtime.logs import get_logger
from tests.fakes.fault_proxy import FaultProxy
from tests.fakes.proxy_faults import BadGateway, DropStream, RateLimited, Slow
from tests.support.mastodon_server import Account, MastodonServer

TAG = "FaultChat"
TIMELINE = f"/api/v1/timelines/tag/{TAG}"
STREAM = "/api/v1/streaming"
STATUSES = "/api/v1/statuses/"

pytestmark = pytest.mark.slow


class Chat:
    """The bot's posts, recorded in the ledger as the publisher would, and the crowd's."""

    def __init__(self, mastodon: MastodonServer, platform: MastodonPlatform, store: SqlStore):
        self.mastodon = mastodon
        self.platform = platform
        self.store = store
        clock = SystemClock()
        now = clock.now()
        self.occurrence = Occurrence("faultchat", "2026-12-02", now, now + timedelta(seconds=24))
        self.agenda = [
            self._planned("intro", "intro", None, now),
            self._planned("q1", "question", 1, now),
        ]
        self.expected: dict[str, str] = {}  # id -> final text of what must be archived

    def _planned(self, slot: str, kind: Any, number: int | None, at: Any) -> PlannedPost:
        return PlannedPost(
            key=f"{self.occurrence.id}/{slot}/mastodon",
            occurrence=self.occurrence.id,
            slot=slot,
            kind=kind,
            number=number,
            platform="mastodon",
            at=at,
            text=f"{slot} #{TAG}",
        )

    def publish_agenda(self) -> dict[str, str]:
        ids: dict[str, str] = {}
        parent = None
        for post in self.agenda:
            now = SystemClock().now()
            self.store.claim(
                post.key,
                occurrence=post.occurrence,
                platform="mastodon",
                planned_at=post.at,
                now=now,
            )
            published = self.platform.post(post.text, key=post.key, in_reply_to=parent)
            self.store.record(post.key, published, now=now)
            parent = ids[post.slot] = published.remote_id
            self.expected[published.remote_id] = post.text
        return ids

    def say(self, who: Account, text: str, **fields: Any) -> str:
        status = self.mastodon.post(who, text, **fields)
        if fields.get("visibility", "public") == "public":
            self.expected[status["id"]] = text
        return str(status["id"])

    def edit(self, who: Account, status_id: str, text: str) -> None:
        self.mastodon.http.put(
            f"/api/v1/statuses/{status_id}", json={"status": text}, headers=self.mastodon.auth(who)
        ).raise_for_status()
        self.expected[status_id] = text

    def delete(self, who: Account, status_id: str) -> None:
        self.mastodon.http.delete(
            f"/api/v1/statuses/{status_id}", headers=self.mastodon.auth(who)
        ).raise_for_status()
        del self.expected[status_id]


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def count(logs: Sequence[Mapping[str, Any]], event: str, **fields: Any) -> int:
    return sum(
        1
        for line in logs
        if line["event"] == event and all(line.get(k) == v for k, v in fields.items())
    )


def test_capture_stays_complete_through_faults_and_logs_every_wait(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    bot = mastodon.account("faultbot", bot=True)
    alice, bob = mastodon.account("alice"), mastodon.account("bob")
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    archive = SqlArchive(store.engine)
    with FaultProxy(mastodon.base_url) as proxy, capture_logs() as logs:
        settings = MastodonSettings(instance=proxy.base_url, request_timeout=timedelta(seconds=2))
        platform = MastodonPlatform(settings, token=bot.token)
        chat = Chat(mastodon, platform, store)
        ids = chat.publish_agenda()
        stop = threading.Event()
        follower = Follower(
            source=platform,
            archive=archive,
            ledger=store,
            clock=SystemClock(),
            stop_event=stop,
            tag=TAG,
            settings=Follow(
                margin=timedelta(seconds=2),
                poll_interval=timedelta(seconds=3),
                replies_interval=timedelta(seconds=5),
            ),
            after_end=timedelta(seconds=1),
            log=get_logger(),
        )
        thread = threading.Thread(target=follower.run, args=(chat.occurrence, chat.agenda))
        thread.start()
        try:
            wait_for(lambda: count(logs, "follow.connected") == 1)
            first = chat.say(alice, f"A1 the survey #{TAG}")
            chat.say(bob, f"Hello from Bob #{TAG}", visibility="unlisted")  # never kept
            chat.say(bob, f"A1 private #{TAG}", visibility="private")  # never kept
            chat.say(bob, "untagged, but an answer", in_reply_to_id=ids["q1"])
            wait_for(lambda: archive.get("mastodon", first) is not None)

            # A rate limit on the backfill that follows a dropped stream: a delete and a
            # post made while the stream is down must still be caught.
            proxy.inject(RateLimited(1.0, "iso"), path_prefix=TIMELINE)
            assert proxy.cut_streams() == 1
            chat.delete(alice, first)
            chat.say(alice, f"A1 while the stream was down #{TAG}")
            wait_for(lambda: count(logs, "follow.connected") == 2)

            # The next reconnect meets a 502, then a 429 with an epoch reset, then a stream
            # the proxy drops after two events; the backfill after it is slow.
            proxy.inject(BadGateway(), path_prefix=STREAM)
            proxy.inject(RateLimited(1.0, "epoch"), path_prefix=STREAM)
            proxy.inject(DropStream(after_events=2), path_prefix=STREAM)
            proxy.inject(Slow(0.5), path_prefix=TIMELINE)
            assert proxy.cut_streams() == 1
            wait_for(lambda: count(logs, "follow.connected") == 3)
            edited = chat.say(bob, f"A1 typo #{TAG}")
            chat.say(alice, f"A1 second #{TAG}")
            chat.edit(bob, edited, f"A1 fixed typo #{TAG}")
            chat.say(alice, f"A1 third, after the drop #{TAG}")
            wait_for(lambda: count(logs, "follow.connected") == 4)

            # Reading the replies fails twice: a 502, then an answer slower than the timeout.
            proxy.inject(BadGateway(), path_prefix=STATUSES)
            proxy.inject(Slow(3.0), path_prefix=STATUSES)
            late_reply = chat.say(alice, "a late untagged answer", in_reply_to_id=ids["q1"])
            chat.say(bob, "a reply to that reply", in_reply_to_id=late_reply)
        finally:
            thread.join(timeout=60)
            stop.set()
        assert not thread.is_alive()

    archived = {p.id: p for p in archive.posts(chat.occurrence.id)}
    assert {i: html_to_text(p.text) for i, p in archived.items()} == chat.expected
    assert archived[ids["q1"]].is_own
    assert archived[late_reply].question == 1
    assert archived[late_reply].rule == "reply"

    waits = [line for line in logs if line["event"] in ("ratelimit.wait", "retry.wait")]

    def reasons(event: str, activity: str) -> str:
        return " | ".join(
            w["reason"] for w in waits if (w["event"], w["activity"]) == (event, activity)
        )

    assert "rate limited" in reasons("ratelimit.wait", "timeline")
    assert "rate limited" in reasons("ratelimit.wait", "stream")
    assert "502" in reasons("retry.wait", "replies")
    assert "timed out" in reasons("retry.wait", "replies")
    assert all(w["seconds"] >= 0 for w in waits)
    reconnects = [line["reason"] for line in logs if line["event"] == "follow.reconnect"]
    assert any("502" in reason for reason in reconnects)
    assert sum("stream lost" in reason for reason in reconnects) >= 3
    assert count(logs, "follow.settled") == 1
    store.close()
