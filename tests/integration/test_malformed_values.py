"""A malformed value from a server costs one post, logged, never the page or the stream it
came in: a time past the last datetime, a count past the database's integers, an event
nested deeper than the JSON reader goes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.adapters.mastodon import MastodonPlatform
from bot.adapters.mastodon_follow import open_hashtag_stream
from bot.adapters.mastodon_status import to_post
from bot.core.config_platforms import MastodonSettings
from bot.core.model import ArchivedPost
from bot.ports.following import BadEvent, PostEvent, Skipped
from tests.support.mastodon_server import MastodonServer

pytestmark = pytest.mark.slow

TAG = "OddChat"


def test_an_overflowing_time_skips_one_post_not_the_page(mastodon: MastodonServer) -> None:
    """Issue 12 item 4: a page whose middle status was made at 9999-12-31T23:59:59-01:00 and
    whose last counts 10**20 followers: the odd post is skipped with its reason, the others
    come through (the count kept within the database's integers)."""
    bot = mastodon.account("oddbot", bot=True)
    ana = mastodon.account("ana")
    for n in range(3):
        mastodon.post(ana, f"A1 answer {n} #{TAG}")
    page = mastodon.http.get(f"/api/v1/timelines/tag/{TAG}").json()
    page[1]["created_at"] = "9999-12-31T23:59:59-01:00"
    page[2]["account"]["followers_count"] = 10**20
    mastodon.http.post(
        "/api/v1/_mock/faults",
        json={
            "match": {"methods": ["GET"], "path": f"/api/v1/timelines/tag/{TAG}"},
            "effect": {"type": "status", "status": 200, "body": page},
            "count": 1,
        },
    ).raise_for_status()
    settings = MastodonSettings(instance=mastodon.base_url, request_timeout=timedelta(seconds=5))

    items = MastodonPlatform(settings, token=bot.token).tag_page(TAG).items

    assert [type(item).__name__ for item in items] == ["ArchivedPost", "Skipped", "ArchivedPost"]
    skipped = items[1]
    assert isinstance(skipped, Skipped)
    assert skipped.id == page[1]["id"]
    assert skipped.reason == "malformed: created_at is out of range"
    last = items[2]
    assert isinstance(last, ArchivedPost)
    assert last.author.followers == 2**31 - 1


class _Events(BaseHTTPRequestHandler):
    """A hashtag stream: an update nested 100 000 deep, then a good one, then silence."""

    good: bytes

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        nested = b"[" * 100_000 + b"]" * 100_000
        self.wfile.write(b"event: update\ndata: " + nested + b"\n\n")
        self.wfile.write(b"event: update\ndata: " + self.server.good + b"\n\n")  # type: ignore[attr-defined]
        self.wfile.flush()
        self.server.release.wait(10)  # type: ignore[attr-defined]


@pytest.fixture
def stream_server(mastodon: MastodonServer) -> Iterator[tuple[str, dict[str, Any]]]:
    ana = mastodon.account("ana")
    status = mastodon.post(ana, f"A1 a good answer #{TAG}")
    import json

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Events)
    server.daemon_threads = True
    server.good = json.dumps(status).encode()  # type: ignore[attr-defined]
    server.release = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/streaming/hashtag?tag={TAG}", status
    server.release.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def test_a_deeply_nested_event_is_one_bad_event_and_the_stream_goes_on(
    stream_server: tuple[str, dict[str, Any]],
) -> None:
    """Issue 12 item 4: an event nested deeper than the JSON reader's recursion limit is
    reported as one bad event; the next event on the same connection is delivered."""
    url, status = stream_server
    stream = open_hashtag_stream(
        url,
        token="token-of-the-bot",
        connect_timeout=5,
        convert=lambda s: to_post(s, home="localhost", own_account_id=None),
    )
    received = []
    try:
        for event in stream.events():
            received.append(event)
            if len(received) == 2:
                break
    finally:
        stream.close()

    first, second = received
    assert isinstance(first, BadEvent)
    assert first.reason == "an update event nested too deeply to read"
    assert isinstance(second, PostEvent)
    assert second.item.id == status["id"]


def test_a_streaming_address_without_a_scheme_is_ignored_for_the_instances_own(
    mastodon: MastodonServer, logs: list[dict[str, Any]]
) -> None:
    """Issue 12 item 1: /api/v2/instance names a streaming host without a scheme: it is
    ignored with a warning and the stream opened on the instance's own address (issue 12
    item 5 keeps the token there), not a crash of the follower."""
    bot = mastodon.account("oddbot", bot=True)
    mastodon.http.post(
        "/api/v1/_mock/faults",
        json={
            "match": {"methods": ["GET"], "path_regex": "^/api/v2/instance/?$"},
            "effect": {
                "type": "status",
                "status": 200,
                "body": {
                    "domain": "localhost",
                    "configuration": {"urls": {"streaming": "streaming.example.com"}},
                },
            },
            "count": 5,
        },
    ).raise_for_status()
    settings = MastodonSettings(instance=mastodon.base_url, request_timeout=timedelta(seconds=5))

    stream = MastodonPlatform(settings, token=bot.token).open_stream(TAG)
    stream.close()
    assert list(stream.events()) == []  # opened, then closed: the connection is freed

    [ignored] = [e for e in logs if e["event"] == "server.streaming_address_ignored"]
    assert "'streaming.example.com' is not a ws, wss, http or https address" in ignored["reason"]
