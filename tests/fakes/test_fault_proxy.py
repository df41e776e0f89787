"""The fault proxy in front of a real mastodon_mock server, driven by a real Mastodon.py client."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Literal

import httpx
import pytest
from mastodon import Mastodon, StreamListener
from mastodon.errors import (
    MastodonBadGatewayError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
)
from mastodon_mock.testing.server import MockServer

from tests.fakes.fault_proxy import FaultProxy
from tests.fakes.proxy_faults import (
    BadGateway,
    DropStream,
    Hold,
    RateLimited,
    ResetConnection,
    Slow,
)

STATUSES = "/api/v1/statuses"
STREAMING = "/api/v1/streaming/"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture
def proxy(server: MockServer) -> Iterator[FaultProxy]:
    with FaultProxy(server.base_url) as running:
        yield running


@pytest.fixture
def token(server: MockServer) -> str:
    """A fresh account per test, so tests share the server but no statuses."""
    response = httpx.post(
        f"{server.base_url}/api/v1/_mock/dev_user",
        json={"username": f"u{uuid.uuid4().hex[:12]}"},
    )
    response.raise_for_status()
    access_token: str = response.json()["access_token"]
    return access_token


def client(proxy: FaultProxy, token: str, *, timeout: float = 5) -> Mastodon:
    return Mastodon(
        api_base_url=proxy.base_url,
        access_token=token,
        ratelimit_method="throw",
        request_timeout=timeout,
    )


def eventually(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def statuses_count(proxy: FaultProxy, token: str) -> int:
    count: int = client(proxy, token).account_verify_credentials()["statuses_count"]
    return count


class SseReader:
    """Reads one SSE stream line by line through httpx, as the bot's follower would."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.iter_lines()

    def next_line(self) -> str:
        return next(self._lines)

    def next_event(self, name: str) -> Any:
        """Skip heartbeats and other events; return the payload of the next ``name`` event."""
        while self.next_line() != f"event: {name}":
            pass
        data = self.next_line()
        assert data.startswith("data: ")
        return json.loads(data.removeprefix("data: "))

    def read_until_broken(self) -> type[Exception] | None:
        """Read to the end; return the error that ended the stream, None for a clean end."""
        try:
            for _ in self._lines:
                pass
        except httpx.HTTPError as error:
            return type(error)
        return None


def open_stream(proxy: FaultProxy, token: str, tag: str) -> AbstractContextManager[httpx.Response]:
    return httpx.stream(
        "GET",
        f"{proxy.base_url}{STREAMING}hashtag?tag={tag}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def connected(stream: httpx.Response) -> SseReader:
    """Wait for the server's opening comment: from then on the subscription is live."""
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    reader = SseReader(stream)
    assert reader.next_line() == ":connected"
    return reader


def test_posts_pass_through_and_idempotency_keys_hold(proxy: FaultProxy, token: str) -> None:
    api = client(proxy, token)

    first = api.status_post("Q1 what brings you here? #hexichat", idempotency_key="q1")
    repeat = api.status_post("Q1 what brings you here? #hexichat", idempotency_key="q1")
    other = api.status_post("Q2 and why? #hexichat", idempotency_key="q2")

    assert repeat["id"] == first["id"]
    assert other["id"] != first["id"]
    assert statuses_count(proxy, token) == 2
    assert [(r.method, r.path, r.status, r.fault) for r in proxy.log[:3]] == [
        ("POST", STATUSES, 200, None)
    ] * 3


@pytest.mark.parametrize(
    ("reset_format", "header_pattern"),
    [("iso", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"), ("epoch", r"\d+")],
)
def test_rate_limit_answers_429_and_mastodon_py_raises_with_reset(
    proxy: FaultProxy, token: str, reset_format: Literal["iso", "epoch"], header_pattern: str
) -> None:
    proxy.inject(RateLimited(30, reset_format), path_prefix=STATUSES, times=2)
    api = client(proxy, token)

    raw = httpx.post(f"{proxy.base_url}{STATUSES}", headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(MastodonRatelimitError):
        api.status_post("A1 hello #hexichat")
    after_fault = api.status_post("A1 hello again #hexichat")

    assert raw.status_code == 429
    assert raw.json() == {"error": "Too many requests"}
    assert raw.headers["X-RateLimit-Remaining"] == "0"
    assert raw.headers["X-RateLimit-Limit"] == "300"
    assert re.fullmatch(header_pattern, raw.headers["X-RateLimit-Reset"])
    # Mastodon.py keeps the parsed reset (epoch seconds, local clock) on the client, not
    # on the exception; it nudges it by under 1 s for the Date header's whole seconds.
    assert api.ratelimit_reset - time.time() == pytest.approx(30, abs=1.5)
    assert after_fault["content"] == "<p>A1 hello again #hexichat</p>"
    assert [r.fault for r in proxy.log] == ["RateLimited", "RateLimited", None]


def test_bad_gateway_raises_server_error_and_posts_nothing(proxy: FaultProxy, token: str) -> None:
    proxy.inject(BadGateway(), path_prefix=STATUSES)

    with pytest.raises(MastodonBadGatewayError) as raised:
        client(proxy, token).status_post("lost #hexichat")

    assert isinstance(raised.value, MastodonServerError)
    assert raised.value.args[1:3] == (502, "Bad Gateway")
    assert statuses_count(proxy, token) == 0


def test_faults_select_requests_by_path_prefix_and_count(proxy: FaultProxy, token: str) -> None:
    proxy.inject(BadGateway(), path_prefix="/api/v1/timelines/tag/", times=2)
    api = client(proxy, token)

    api.status_post("A1 #prefixed")
    for _ in range(2):
        with pytest.raises(MastodonBadGatewayError):
            api.timeline_hashtag("prefixed")
    timeline = api.timeline_hashtag("prefixed")

    assert [s["content"] for s in timeline] == ["<p>A1 #prefixed</p>"]
    faulted = [(r.path, r.status) for r in proxy.log if r.fault is not None]
    assert faulted == [("/api/v1/timelines/tag/prefixed", 502)] * 2


def test_a_fault_for_one_method_lets_the_others_on_its_path_through(
    proxy: FaultProxy, token: str
) -> None:
    # GET /api/v1/statuses?id[]= (the multi-status read) shares the post's path.
    proxy.inject(BadGateway(), path_prefix=STATUSES, method="post")
    api = client(proxy, token)

    read = api.statuses(["0"])
    with pytest.raises(MastodonBadGatewayError):
        api.status_post("lost #methods")
    api.status_post("A1 #methods")

    assert read == []
    assert [(r.method, r.status, r.fault) for r in proxy.log] == [
        ("GET", 200, None),
        ("POST", 502, "BadGateway"),
        ("POST", 200, None),
    ]
    with pytest.raises(ValueError, match="HTTP method"):
        proxy.inject(BadGateway(), method="")


def test_a_fault_for_one_body_lets_the_other_writes_on_its_path_through(
    proxy: FaultProxy, token: str
) -> None:
    # Mastodon.py sends a form: a space would arrive as "+".
    proxy.inject(BadGateway(), path_prefix=STATUSES, method="POST", body_contains="second")
    api = client(proxy, token)

    api.status_post("Q1 first #bodies")
    with pytest.raises(MastodonBadGatewayError):
        api.status_post("Q2 second #bodies")
    api.status_post("Q2 repeated #bodies")

    assert [r.status for r in proxy.log] == [200, 502, 200]


def test_hold_keeps_the_answer_of_a_post_made_until_its_client_gives_up(
    proxy: FaultProxy, token: str
) -> None:
    hold = Hold()
    proxy.inject(hold, path_prefix=STATUSES, method="POST")

    # httpx closes its connection on a timeout; the proxy sees the client go.
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{proxy.base_url}{STATUSES}",
            data={"status": "Q1 held #hexichat"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=0.5,
        )

    assert hold.held.is_set()
    assert statuses_count(proxy, token) == 1
    # Recorded once the client has gone, with nothing sent to it.
    eventually(lambda: "Hold" in [r.fault for r in proxy.log])
    assert [(r.method, r.status) for r in proxy.log if r.fault == "Hold"] == [("POST", None)]


def test_settle_returns_once_a_client_that_went_has_been_seen_through(
    proxy: FaultProxy, token: str
) -> None:
    hold = Hold()
    proxy.inject(hold, path_prefix=STATUSES, method="POST")
    body = b"status=sent+then+gone"
    request = (
        f"POST {STATUSES} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body

    # A client killed right after it sent its request.
    with socket.create_connection(("127.0.0.1", proxy.port)) as gone:
        gone.sendall(request)
    proxy.settle()

    assert hold.held.is_set()
    assert statuses_count(proxy, token) == 1


def test_reset_connection_raises_network_error_before_reaching_the_server(
    proxy: FaultProxy, token: str
) -> None:
    proxy.inject(ResetConnection(), path_prefix=STATUSES)

    with pytest.raises(MastodonNetworkError, match="reset by peer"):
        client(proxy, token).status_post("never sent #hexichat")

    assert statuses_count(proxy, token) == 0
    assert proxy.log[0].status is None
    assert proxy.log[0].fault == "ResetConnection"


def test_slow_answer_delays_the_response(proxy: FaultProxy, token: str) -> None:
    proxy.inject(Slow(0.3), path_prefix=STATUSES)

    started = time.monotonic()
    client(proxy, token).status_post("Q1 slowly #hexichat")

    assert time.monotonic() - started >= 0.3


def test_slow_answer_past_the_client_timeout_still_posts_once_with_a_key(
    proxy: FaultProxy, token: str
) -> None:
    proxy.inject(Slow(0.3), path_prefix=STATUSES)

    with pytest.raises(MastodonNetworkError, match="timed out"):
        client(proxy, token, timeout=0.1).status_post("Q1 #hexichat", idempotency_key="q1")
    retried = client(proxy, token).status_post("Q1 #hexichat", idempotency_key="q1")

    assert retried["content"] == "<p>Q1 #hexichat</p>"
    assert statuses_count(proxy, token) == 1


def test_stream_relays_each_event_as_it_arrives_until_cut(proxy: FaultProxy, token: str) -> None:
    api = client(proxy, token)

    with open_stream(proxy, token, "live") as stream:
        events = connected(stream)
        posted = api.status_post("A1 live #live")
        update = events.next_event("update")
        cut = proxy.cut_streams()
        broken_by = events.read_until_broken()

    assert update["id"] == posted["id"]
    assert update["content"] == "<p>A1 live #live</p>"
    assert cut == 1
    assert broken_by is httpx.RemoteProtocolError
    assert proxy.cut_streams() == 0


def test_a_stream_its_client_closed_is_not_counted_as_cut(proxy: FaultProxy, token: str) -> None:
    # As the doctor's probe of the stream's kind does: open, see it connected, close. On a
    # quiet hashtag the relay would notice only at the next event.
    with open_stream(proxy, token, "probed") as stream:
        connected(stream)
    with open_stream(proxy, token, "kept") as kept:
        events = connected(kept)
        time.sleep(0.1)  # the first client's FIN reaches the proxy
        cut = proxy.cut_streams()
        broken_by = events.read_until_broken()

    assert cut == 1
    assert broken_by is httpx.RemoteProtocolError
    assert proxy.cut_streams() == 0


def test_drop_stream_after_events_waits_for_a_stream(proxy: FaultProxy, token: str) -> None:
    proxy.inject(DropStream(after_events=1))  # default prefix: any API request
    api = client(proxy, token)

    api.status_post("before the stream #drop")
    with open_stream(proxy, token, "drop") as stream:
        events = connected(stream)
        posted = api.status_post("A1 #drop")
        update = events.next_event("update")
        broken_by = events.read_until_broken()

    assert update["id"] == posted["id"]
    assert broken_by is httpx.RemoteProtocolError
    assert [(r.path, r.fault) for r in proxy.log if r.fault] == [
        (f"{STREAMING}hashtag?tag=drop", "DropStream")
    ]


def test_drop_stream_after_seconds_cuts_an_idle_stream(proxy: FaultProxy, token: str) -> None:
    proxy.inject(DropStream(after_seconds=0.3), path_prefix=STREAMING)

    with open_stream(proxy, token, "idle") as stream:
        events = connected(stream)
        started = time.monotonic()
        broken_by = events.read_until_broken()
        lasted = time.monotonic() - started

    assert broken_by is httpx.RemoteProtocolError
    assert 0.2 < lasted < 2


def test_mastodon_py_streams_through_the_proxy_and_reconnects_after_a_cut(
    proxy: FaultProxy, token: str
) -> None:
    api = client(proxy, token)
    updates: list[str] = []
    aborts: list[Exception] = []

    class Listener(StreamListener):
        def on_update(self, status: Any) -> None:
            updates.append(status["content"])

        def on_abort(self, err: Exception) -> None:
            aborts.append(err)

    def streams_opened() -> int:
        # The proxy logs a stream once upstream answered, after it subscribed.
        return len([r for r in proxy.log if r.path.startswith(STREAMING)])

    handle = api.stream_hashtag("viapy", Listener(), run_async=True, reconnect_async=True)
    try:
        eventually(lambda: streams_opened() == 1)
        api.status_post("A1 #viapy")
        eventually(lambda: len(updates) == 1)
        proxy.cut_streams()
        eventually(lambda: streams_opened() == 2)
        api.status_post("A2 #viapy")
        eventually(lambda: len(updates) == 2)
    finally:
        handle.close()

    assert updates == ["<p>A1 #viapy</p>", "<p>A2 #viapy</p>"]
    assert [type(e) for e in aborts] == [MastodonNetworkError]


def test_stop_cuts_open_streams_promptly(server: MockServer, token: str) -> None:
    proxy = FaultProxy(server.base_url).start()

    with open_stream(proxy, token, "stopping") as stream:
        events = connected(stream)
        started = time.monotonic()
        proxy.stop()
        stopped_in = time.monotonic() - started
        broken_by = events.read_until_broken()

    assert stopped_in < 1
    assert broken_by is httpx.RemoteProtocolError


def test_chunked_request_bodies_are_forwarded(proxy: FaultProxy, token: str) -> None:
    def body() -> Iterator[bytes]:
        yield b"status=sent+in"
        yield b"+two+chunks"

    response = httpx.post(
        f"{proxy.base_url}{STATUSES}",
        content=body(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )

    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.json()["content"] == "<p>sent in two chunks</p>"


def test_unreachable_upstream_answers_502() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    with FaultProxy(f"http://127.0.0.1:{closed_port}") as proxy:
        response = httpx.get(f"{proxy.base_url}/api/v2/instance")

    assert response.status_code == 502
    assert proxy.log[0].fault is None


@pytest.mark.parametrize(
    "arguments",
    [{}, {"after_seconds": 1, "after_events": 1}, {"after_seconds": 0}, {"after_events": 0}],
)
def test_drop_stream_needs_one_positive_limit(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="after_"):
        DropStream(**arguments)
