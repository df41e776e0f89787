"""The WebSocket hashtag stream (issue 11, for servers that serve no SSE) against real
loopback servers: mastodon_mock's own WebSocket API, and a hostile server of ours that sends
what no server should. Events arrive in order, a close from another thread ends the read at
once, a bad message is one skipped event, refusals are told apart from trouble."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from bot.adapters.websocket_stream import (
    WebSocketEventStream,
    open_websocket_stream,
    websocket_url,
)
from bot.ports.errors import PermanentError, TransientError
from bot.ports.following import BadEvent, DeleteEvent, PostEvent, Skipped, StreamEvent
from tests.support.mastodon_server import MastodonServer

TAG = "WsChat"


def status_id(status: Any) -> Skipped:
    """The conversion the adapter would do, reduced to what these tests look at."""
    return Skipped(str(status.get("id")), str(status.get("content")))


TOKEN = "t0ken-of-the-bot"


def open_ws(base: str, *, token: str = TOKEN) -> WebSocketEventStream:
    return open_websocket_stream(
        websocket_url(base, TAG), token=token, connect_timeout=3, convert=status_id
    )


class Reader:
    """Reads a stream on its own thread, as the follower's stream thread does."""

    def __init__(self, events: Iterator[StreamEvent]) -> None:
        self.received: list[StreamEvent] = []
        self.error: Exception | None = None
        self.ended = threading.Event()
        self._events = events
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            for event in self._events:
                self.received.append(event)
        except Exception as exc:
            self.error = exc
        self.ended.set()

    def wait_for(self, count: int, timeout: float = 3) -> list[StreamEvent]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received


def test_mastodon_websocket_events_arrive_in_order_and_close_ends_the_read_at_once(
    mastodon: MastodonServer,
) -> None:
    ana = mastodon.account("ana")
    stream = open_ws(mastodon.base_url, token=ana.token)
    reader = Reader(stream.events())
    time.sleep(0.2)  # the server subscribes the connection once it is accepted
    posted = mastodon.post(ana, f"A1 first #{TAG}")
    mastodon.http.put(
        f"/api/v1/statuses/{posted['id']}",
        json={"status": f"A1 first, edited #{TAG}"},
        headers=mastodon.auth(ana),
    ).raise_for_status()
    mastodon.http.delete(
        f"/api/v1/statuses/{posted['id']}", headers=mastodon.auth(ana)
    ).raise_for_status()

    events = reader.wait_for(3)
    assert [(type(e).__name__, getattr(e, "edited", None)) for e in events] == [
        ("PostEvent", False),
        ("PostEvent", True),
        ("DeleteEvent", None),
    ]
    assert isinstance(events[1], PostEvent)
    assert isinstance(events[1].item, Skipped)
    assert "edited" in events[1].item.reason
    assert events[2] == DeleteEvent(str(posted["id"]))
    closed_at = time.monotonic()
    stream.close()
    assert reader.ended.wait(2)
    assert time.monotonic() - closed_at < 0.5
    assert reader.error is None  # a close is a quiet end, not a lost stream


Handler = Callable[[ServerConnection], None]


@pytest.fixture
def ws_server() -> Iterator[Callable[..., str]]:
    """Starts a WebSocket server of ours; returns its http:// base address."""
    servers: list[tuple[Server, threading.Thread]] = []

    def start(
        handler: Handler,
        process_request: Callable[[ServerConnection, Request], Response | None] | None = None,
    ) -> str:
        server = serve(handler, "127.0.0.1", 0, process_request=process_request, close_timeout=0.2)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.socket.getsockname()[1]}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=5)


def test_bad_messages_are_skipped_one_by_one_and_the_stream_goes_on(
    ws_server: Callable[..., str],
) -> None:
    """Issue 12 item 4 too: a deeply nested event is one skipped post, not a lost stream."""
    deep = "[" * 100_000 + "]" * 100_000

    def hostile(connection: ServerConnection) -> None:
        connection.send("not json at all")
        connection.send(b"\xff\xfe binary garbage")
        connection.send('{"payload": "no event name"}')
        connection.send('{"event": "update", "payload": "' + deep + '"}')
        connection.send('{"event": "update", "payload": "[1, 2]"}')
        connection.send('{"event": "delete", "payload": "an id with spaces"}')
        connection.send('{"event": "notification", "payload": "{}"}')
        # A server that sends the status itself rather than as a JSON string.
        connection.send('{"event": "update", "payload": {"id": "7", "content": "A1 ok"}}')
        connection.send('{"event": "delete", "payload": "7"}')
        for _ in connection:  # until the client closes
            pass

    base = ws_server(hostile)
    stream = open_ws(base)
    reader = Reader(stream.events())
    events = reader.wait_for(8)
    stream.close()

    assert [type(e).__name__ for e in events] == [
        "BadEvent",
        "BadEvent",
        "BadEvent",
        "BadEvent",
        "BadEvent",
        "BadEvent",
        "PostEvent",
        "DeleteEvent",
    ]
    assert isinstance(events[3], BadEvent)
    assert events[3].reason == "an update event nested too deeply to read"
    assert events[-1] == DeleteEvent("7")
    assert reader.ended.wait(2)


def _answer(status: int, headers: dict[str, str]) -> Callable[..., Response]:
    """A handshake answered with ``status`` rather than 101."""

    def process_request(connection: ServerConnection, request: Request) -> Response:
        return Response(status, "refused", Headers(headers), b"")

    return process_request


def test_a_refusal_is_permanent_and_a_rate_limit_carries_the_servers_reset(
    ws_server: Callable[..., str],
) -> None:
    def never(connection: ServerConnection) -> None:
        raise AssertionError("no connection should be accepted")

    refusing = ws_server(never, _answer(404, {}))
    with pytest.raises(PermanentError, match="HTTP 404"):
        open_ws(refusing)
    reset = str(int(time.time()) + 30)
    limiting = ws_server(never, _answer(429, {"X-RateLimit-Reset": reset}))
    with pytest.raises(TransientError) as limited:
        open_ws(limiting)
    assert limited.value.retry_after is not None
    assert 25 < limited.value.retry_after <= 31
    failing = ws_server(never, _answer(502, {}))
    with pytest.raises(TransientError, match="HTTP 502"):
        open_ws(failing)


def test_a_server_that_drops_the_connection_is_a_lost_stream_and_nothing_listening_a_failed_one(
    ws_server: Callable[..., str],
) -> None:
    def drop(connection: ServerConnection) -> None:
        connection.send('{"event": "update", "payload": "{\\"id\\": \\"1\\"}"}')
        connection.socket.shutdown(socket.SHUT_RDWR)

    base = ws_server(drop)
    stream = open_ws(base)
    reader = Reader(stream.events())
    assert reader.ended.wait(3)
    assert [type(e).__name__ for e in reader.received] == ["PostEvent"]
    assert isinstance(reader.error, TransientError)
    assert "stream lost" in reader.error.reason
    with pytest.raises(TransientError, match="connection failed"):
        open_websocket_stream(
            "ws://127.0.0.1:9/api/v1/streaming", token="t", connect_timeout=2, convert=status_id
        )


def test_the_token_goes_in_headers_never_in_the_address(ws_server: Callable[..., str]) -> None:
    """Mastodon reads Authorization; GoToSocial and Akkoma read Sec-WebSocket-Protocol. A
    token that a header token cannot carry goes in Authorization alone."""
    seen: list[Request] = []

    def record(connection: ServerConnection, request: Request) -> Response | None:
        seen.append(request)
        return None

    def idle(connection: ServerConnection) -> None:
        for _ in connection:
            pass

    base = ws_server(idle, record)
    open_ws(base).close()
    open_ws(base, token="a/b+c=").close()

    assert [r.path for r in seen] == [f"/api/v1/streaming?stream=hashtag&tag={TAG}"] * 2
    assert [r.headers.get("Authorization") for r in seen] == [f"Bearer {TOKEN}", "Bearer a/b+c="]
    assert [r.headers.get("Sec-WebSocket-Protocol") for r in seen] == [TOKEN, None]
