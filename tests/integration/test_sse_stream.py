"""The SSE client against a real loopback server: prompt delivery, a close from another
thread that ends the read at once, a silent server noticed, refusals with their headers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.adapters.sse import SseLost, SseRecord, SseRefused, SseStream


class _Handler(BaseHTTPRequestHandler):
    release: threading.Event

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        if self.path == "/refuse":
            body = b'{"error":"Too many requests"}'
            self.send_response(429)
            self.send_header("X-RateLimit-Reset", "2026-12-02T20:00:00.000Z")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if self.path == "/events":
            self.wfile.write(b":connected\n\nevent: update\ndata: {}\n\n")
            self.wfile.flush()
        # Hold the connection open, silent, until the test is over.
        self.server_release.wait(10)

    @property
    def server_release(self) -> threading.Event:
        release: threading.Event = self.server.release  # type: ignore[attr-defined]
        return release


@pytest.fixture
def sse_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.release.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def stream(url: str, *, idle: float = 10) -> SseStream:
    return SseStream(url, headers={}, connect_timeout=2, idle_timeout=idle)


def test_events_arrive_and_close_from_another_thread_ends_the_read_at_once(
    sse_server: str,
) -> None:
    sse = stream(f"{sse_server}/events")
    sse.connect()
    received: list[SseRecord] = []
    ended = threading.Event()

    def read() -> None:
        received.extend(sse.records())
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 2
    while not received and time.monotonic() < deadline:
        time.sleep(0.01)
    assert received == [SseRecord("update", "{}")]
    closed_at = time.monotonic()
    sse.close()
    assert ended.wait(2)
    assert time.monotonic() - closed_at < 0.5
    sse.release()


def test_a_silent_server_is_noticed_after_the_idle_timeout(sse_server: str) -> None:
    sse = stream(f"{sse_server}/silent", idle=0.3)
    sse.connect()
    started = time.monotonic()
    with pytest.raises(SseLost, match=r"no data for 0.3s"):
        list(sse.records())
    assert time.monotonic() - started < 2


def test_a_refusal_carries_the_status_and_headers(sse_server: str) -> None:
    with pytest.raises(SseRefused) as refused:
        stream(f"{sse_server}/refuse").connect()
    assert refused.value.status == 429
    assert refused.value.headers["X-RateLimit-Reset"] == "2026-12-02T20:00:00.000Z"


def test_nothing_listening_is_a_lost_connection_not_a_crash() -> None:
    with pytest.raises(SseLost):
        stream("http://127.0.0.1:9/nothing").connect()
