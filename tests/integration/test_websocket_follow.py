"""Following a chat over the WebSocket streaming API (issue 11: GoToSocial, Akkoma, Pleroma)
behaves as over SSE: a dropped connection is reconnected with backoff, the gap is read back
from the hashtag timeline, and nothing is missed; the kind is not asked about again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.mastodon import MastodonPlatform
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import Occurrence
from bot.core.config import Follow
from bot.core.config_platforms import MastodonSettings
from bot.runtime.clock import SystemClock
from bot.runtime.follower import Follower
from bot.runtime.logs import get_logger
from tests.fakes.websocket_relay import WebSocketRelay
from tests.support.mastodon_server import MastodonServer

TAG = "WsFollow"
SSE = r"^/api/v1/streaming(/.*)?$"


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def named(logs: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [line for line in logs if line["event"] == event]


def test_a_dropped_websocket_stream_is_reconnected_and_its_gap_read_back(
    mastodon: MastodonServer, tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    bot, ana = mastodon.account("wsbot", bot=True), mastodon.account("ana")
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    archive = SqlArchive(store.engine)
    stop = threading.Event()
    with WebSocketRelay(mastodon.base_url) as relay:
        # A WebSocket-only server whose stream lives on its own port, as the instance says.
        instance = mastodon.http.get("/api/v2/instance").json()
        instance["configuration"]["urls"]["streaming"] = relay.streaming_url
        mastodon.fault(path_regex=r"^/api/v2/instance/?$", type="status", status=200, body=instance)
        mastodon.fault(path_regex=SSE, type="status", status=404)
        platform = MastodonPlatform(MastodonSettings(instance=mastodon.base_url), token=bot.token)
        now = SystemClock().now()
        occurrence = Occurrence("wsfollow", "2026-12-02", now, now + timedelta(minutes=5))
        follower = Follower(
            source=platform,
            archive=archive,
            ledger=store,
            clock=SystemClock(),
            stop_event=stop,
            tag=TAG,
            settings=Follow(margin=timedelta(seconds=1), poll_interval=timedelta(seconds=30)),
            after_end=timedelta(0),
            log=get_logger(),
        )
        thread = threading.Thread(target=follower.run, args=(occurrence, []))
        thread.start()
        try:
            wait_for(lambda: len(named(logs, "follow.connected")) == 1)
            time.sleep(0.2)  # the server subscribes the connection once it is accepted
            first = mastodon.post(ana, f"A1 live #{TAG}")["id"]
            wait_for(lambda: archive.get("mastodon", first) is not None)
            assert relay.cut() == 1
            # Posted while the stream is down: only the backfill after the reconnect sees it.
            gap = mastodon.post(ana, f"A1 while the stream was down #{TAG}")["id"]
            wait_for(lambda: len(named(logs, "follow.connected")) == 2)
            wait_for(lambda: archive.get("mastodon", gap) is not None)
            time.sleep(0.2)
            after = mastodon.post(ana, f"A1 after the reconnect #{TAG}")["id"]
            wait_for(lambda: archive.get("mastodon", after) is not None)
        finally:
            stop.set()
            thread.join(timeout=10)
        handshakes = relay.handshakes
    store.close()
    assert not thread.is_alive()

    captures = {line["id"]: line["via"] for line in named(logs, "capture.post")}
    # Well inside the 30 s poll: the stream, and the backfill after the reconnect.
    assert (captures[first], captures[gap]) == ("stream", "timeline")
    assert after in captures
    [reconnect] = named(logs, "follow.reconnect")
    assert "stream lost" in reconnect["reason"]
    assert handshakes == 2
    assert [(e["capability"], e["instead"]) for e in named(logs, "server.fallback")] == [
        ("streaming", "websocket")
    ]
