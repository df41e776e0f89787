"""Which live stream the bot uses on a Mastodon-API server (issue 11), and where its token
may go to open it (issue 12 item 5), against mastodon_mock shaped by its fault rules.

SSE where served; the WebSocket API where only that is (GoToSocial, Akkoma, Pleroma);
polling where neither is. The kind is found once per run and the fallback logged once with
its cost. A streaming address named by the server is followed only to the instance's own
site, or to a host the chat file allows; a loopback listener records what reaches it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.adapters.mastodon import MastodonPlatform
from bot.core.config_platforms import MastodonSettings
from bot.ports.errors import NoStreaming, PermanentError
from bot.ports.following import EventStream, PostEvent, StreamEvent
from tests.fakes.fault_proxy import FaultProxy
from tests.support.mastodon_server import MastodonServer

TAG = "KindChat"
# Both SSE forms: /api/v1/streaming/hashtag and the single endpoint /api/v1/streaming.
SSE_PATHS = r"^/api/v1/streaming(/.*)?$"
# Mastodon.py asks for these with a trailing slash.
V2_INSTANCE = r"^/api/v2/instance/?$"
V1_INSTANCE = r"^/api/v1/instance/?$"


def platform(instance: str, token: str, **settings: Any) -> MastodonPlatform:
    return MastodonPlatform(MastodonSettings(instance=instance, **settings), token=token)


def first_event(stream: EventStream, timeout: float = 3) -> StreamEvent | None:
    """Read on a thread of its own, as the follower does; None if nothing came."""
    received: list[StreamEvent] = []

    def read() -> None:
        for event in stream.events():
            received.append(event)
            return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    stream.close()
    reader.join(2)
    return received[0] if received else None


def streams_a_post(mastodon: MastodonServer, stream: EventStream, text: str) -> bool:
    poster = mastodon.account(f"p{time.monotonic_ns() % 10**9}")
    timer = threading.Timer(0.3, mastodon.post, args=(poster, f"{text} #{TAG}"))
    timer.start()
    try:
        event = first_event(stream)
    finally:
        timer.join()
    return isinstance(event, PostEvent)


def fallbacks(logs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["capability"], e["instead"]) for e in logs if e["event"] == "server.fallback"]


def test_sse_is_used_where_served_and_no_fallback_is_logged(
    mastodon: MastodonServer, logs: list[dict[str, Any]]
) -> None:
    bot = mastodon.account("kindbot")
    source = platform(mastodon.base_url, bot.token)

    assert streams_a_post(mastodon, source.open_stream(TAG), "A1 over SSE")
    assert fallbacks(logs) == []


def test_a_websocket_only_server_is_streamed_over_websocket_and_said_once(
    mastodon: MastodonServer, logs: list[dict[str, Any]]
) -> None:
    # GoToSocial serves /api/v1/streaming as WebSocket only (its docs, "WebSocket").
    mastodon.fault(path_regex=SSE_PATHS, type="status", status=404)
    bot = mastodon.account("kindbot")
    source = platform(mastodon.base_url, bot.token)

    assert streams_a_post(mastodon, source.open_stream(TAG), "A1 over WebSocket")
    # A reconnect: the same kind, no second announcement.
    assert streams_a_post(mastodon, source.open_stream(TAG), "A2 over WebSocket")
    assert fallbacks(logs) == [("streaming", "websocket")]
    [line] = [e for e in logs if e["event"] == "server.fallback"]
    assert "404" in line["reason"]
    assert line["cost"]


def test_a_server_without_any_stream_is_polled_and_not_asked_again(
    mastodon: MastodonServer, logs: list[dict[str, Any]]
) -> None:
    # Our proxy relays no WebSocket upgrade, so the WebSocket handshake meets the 404 too.
    mastodon.fault(path_regex=SSE_PATHS, type="status", status=404)
    bot = mastodon.account("kindbot")
    with FaultProxy(mastodon.base_url) as proxy:
        source = platform(proxy.base_url, bot.token)
        with pytest.raises(NoStreaming, match="404"):
            source.open_stream(TAG)
        asked = [r.path for r in proxy.log if r.path.startswith("/api/v1/streaming")]
        with pytest.raises(NoStreaming):
            source.open_stream(TAG)
        asked_again = [r.path for r in proxy.log if r.path.startswith("/api/v1/streaming")]

    assert len(asked) == 2  # SSE, then the WebSocket handshake
    assert asked_again == asked
    assert fallbacks(logs) == [("streaming", "polling")]


class Listener:
    """A TCP listener on another loopback name that records every byte it is sent."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.received = b""
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            with client:
                client.settimeout(1)
                try:
                    while data := client.recv(65536):
                        self.received += data
                        if b"\r\n\r\n" in self.received:
                            break  # the request head: enough to tell what was sent
                except OSError:
                    pass

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    recorder = Listener()
    yield recorder
    recorder.close()


def hostile_instance(mastodon: MastodonServer, streaming: object, *, v1: bool = False) -> None:
    """``/api/v2/instance`` (or, on a server without v2, v1) naming ``streaming``."""
    if v1:
        mastodon.fault(path_regex=V2_INSTANCE, type="status", status=404)
        body: dict[str, Any] = {"uri": "127.0.0.1", "urls": {"streaming_api": streaming}}
        mastodon.fault(path_regex=V1_INSTANCE, type="status", status=200, body=body)
    else:
        body = {"domain": "127.0.0.1", "configuration": {"urls": {"streaming": streaming}}}
        mastodon.fault(path_regex=V2_INSTANCE, type="status", status=200, body=body)


@pytest.mark.parametrize(
    ("advertised", "v1"),
    [
        ("ws://localhost:{port}", False),
        ("https://localhost:{port}", False),
        ("wss://127.0.0.1.localhost:{port}", False),
        ("ws://localhost:{port}", True),
        # Issue 12 item 1: no scheme. Ignored with a warning, never a crash.
        ("localhost:{port}", False),
        ("//localhost:{port}", False),
        ("streaming.example", False),
        ("ws://[::1:{port}", False),
    ],
)
def test_the_token_never_reaches_a_streaming_host_the_instance_names_elsewhere(
    mastodon: MastodonServer,
    listener: Listener,
    logs: list[dict[str, Any]],
    advertised: str,
    v1: bool,
) -> None:
    """Issue 12 item 5: the token only to the instance's own site unless the host allows
    another; the instance's own stream is used instead, and the host is told why."""
    hostile_instance(mastodon, advertised.format(port=listener.port), v1=v1)
    bot = mastodon.account("kindbot")
    source = platform(mastodon.base_url, bot.token)

    assert streams_a_post(mastodon, source.open_stream(TAG), "A1 on the instance's stream")
    assert listener.received == b""
    [warning] = [e for e in logs if e["event"] == "server.streaming_address_ignored"]
    assert "instance's own address" in warning["reason"]


def test_a_streaming_host_the_chat_file_allows_is_used(
    mastodon: MastodonServer, listener: Listener
) -> None:
    """The other side of the test above: the listener does see what is sent to it."""
    hostile_instance(mastodon, f"ws://localhost:{listener.port}")
    bot = mastodon.account("kindbot")
    source = platform(mastodon.base_url, bot.token, streaming_hosts=["localhost"])

    with pytest.raises(Exception):  # noqa: B017, PT011 - the listener is no streaming server
        source.open_stream(TAG)
    assert b"GET /api/v1/streaming/hashtag?tag=" + TAG.encode() in listener.received
    assert bot.token.encode() in listener.received


def test_a_refused_token_is_not_taken_for_a_server_without_streaming(
    mastodon: MastodonServer, logs: list[dict[str, Any]]
) -> None:
    """A 401 says the token was refused, not that there is no stream: the bot tries the
    stream again later rather than settling on polling for the run."""
    mastodon.fault(path_regex=SSE_PATHS, type="status", status=401)
    bot = mastodon.account("kindbot")
    source = platform(mastodon.base_url, bot.token)

    with pytest.raises(PermanentError, match="401") as refused:
        source.open_stream(TAG)
    assert not isinstance(refused.value, NoStreaming)
    assert fallbacks(logs) == []


def test_a_malformed_instance_answer_does_not_stop_the_stream(mastodon: MastodonServer) -> None:
    """Issue 12 items 1 and 5, with the mock's own malformed-body fault on /api/v2/instance:
    the stream is opened where the rest of the server's answers say, without a crash."""
    mastodon.fault(path_regex=V2_INSTANCE, type="malformed")
    bot = mastodon.account("kindbot")
    source = platform(mastodon.base_url, bot.token)

    assert streams_a_post(mastodon, source.open_stream(TAG), "A1 despite the instance")


def test_the_doctor_names_a_streaming_address_it_will_not_send_the_token_to(
    mastodon: MastodonServer, listener: Listener
) -> None:
    hostile_instance(mastodon, f"wss://localhost:{listener.port}")
    bot = mastodon.account("kindbot")

    facts = {f.name: f for f in platform(mastodon.base_url, bot.token).account_facts().server}

    address = facts["streaming address"]
    assert not address.ok
    assert f"'wss://localhost:{listener.port}'" in address.detail
    assert "streaming_hosts" in address.fix
    assert facts["streaming"].detail.startswith("SSE")  # the instance's own stream
    assert listener.received == b""
