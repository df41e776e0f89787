"""A loopback HTTP proxy that injects the faults a Mastodon server shows in production.

Integration tests put it between the bot and a Mastodon API server (mastodon_mock) and
script faults: rate limits, gateway errors, slow answers, dropped streams, reset
connections. Everything that is not faulted is relayed unchanged, streaming bodies chunk by
chunk, so the bot sees the real server through it.

Usage::

    with FaultProxy(server.base_url) as proxy:
        proxy.inject(RateLimited(30), path_prefix="/api/v1/statuses")
        client = Mastodon(api_base_url=proxy.base_url, ...)
        ...
        proxy.cut_streams()
        assert [r.fault for r in proxy.log] == [...]
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal, cast
from urllib.parse import urlsplit

from tests.fakes.server_shapes import ServerShape

__all__ = [
    "BadGateway",
    "Drip",
    "DropStream",
    "Fault",
    "FaultProxy",
    "RateLimited",
    "RequestRecord",
    "ResetConnection",
    "Slow",
]


@dataclass(frozen=True)
class RateLimited:
    """Answer 429 with Mastodon's rate-limit headers instead of forwarding.

    Real Mastodon sends ``X-RateLimit-Reset`` as ISO-8601 ("iso"); mastodon_mock and
    GoToSocial send an epoch integer ("epoch"). The bot must read both.
    """

    reset_in_seconds: float
    reset_format: Literal["iso", "epoch"] = "iso"


@dataclass(frozen=True)
class BadGateway:
    """Answer 502 with an HTML body, as a reverse proxy does when the app is down."""


@dataclass(frozen=True)
class Slow:
    """Forward the request, then hold the response back for ``delay_seconds``.

    The upstream has acted by the time the client gives up, which is the case that
    idempotency keys exist for.
    """

    delay_seconds: float


@dataclass(frozen=True)
class Drip:
    """Forward the request, then send the whole answer, status line and headers included,
    one byte every ``interval_seconds``: each read is quick, the request never ends soon."""

    interval_seconds: float


@dataclass(frozen=True)
class DropStream:
    """Relay a stream, then cut it abruptly after a time or a number of SSE events.

    Only event-stream responses take this fault, so a stream request opened after other
    API calls still gets it with the default path prefix.
    """

    after_seconds: float | None = None
    after_events: int | None = None

    def __post_init__(self) -> None:
        if (self.after_seconds is None) == (self.after_events is None):
            raise ValueError("give exactly one of after_seconds or after_events")
        if self.after_seconds is not None and self.after_seconds <= 0:
            raise ValueError("after_seconds must be positive")
        if self.after_events is not None and self.after_events < 1:
            raise ValueError("after_events must be at least 1")


@dataclass(frozen=True)
class ResetConnection:
    """Close the client connection with a TCP reset; the request never reaches upstream."""


Fault = RateLimited | BadGateway | Slow | Drip | DropStream | ResetConnection


@dataclass(frozen=True)
class RequestRecord:
    """One request the proxy handled.

    ``time`` is the wall-clock arrival time, ``path`` the request target including the
    query, ``status`` what the client was sent (None when the connection was reset),
    ``fault`` the class name of the fault applied, if any.
    """

    time: float
    method: str
    path: str
    status: int | None
    fault: str | None


class FaultProxy:
    """A reverse proxy on 127.0.0.1 (free port) in front of ``upstream_base_url``.

    The ``Host`` header is forwarded unchanged so that the upstream builds the URLs it
    hands out (``Link`` pages, the streaming URL in ``/api/v1/instance``) from the
    proxy's address: Mastodon.py then opens its streams through the proxy too.
    """

    def __init__(
        self,
        upstream_base_url: str,
        *,
        drop_headers: tuple[str, ...] = (),
        shape: ServerShape | None = None,
    ) -> None:
        """``drop_headers``: headers never relayed, either way, to play a server that ignores
        or never sends them (``Idempotency-Key``, ``Link``). ``shape``: what else differs
        from the upstream (ids)."""
        parts = urlsplit(upstream_base_url)
        self.dropped_headers = frozenset(h.lower() for h in drop_headers)
        if parts.scheme != "http" or parts.hostname is None or parts.path not in ("", "/"):
            raise ValueError(f"expected http://host[:port], got {upstream_base_url!r}")
        self._upstream = (parts.hostname, parts.port or 80)
        self.shape = shape or ServerShape()
        self._schedule = _Schedule()
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FaultProxy:
        """Listen and serve in a daemon thread. Idempotent."""
        if self._server is None:
            self._server = _ProxyServer(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                # A short poll keeps stop() prompt.
                kwargs={"poll_interval": 0.05},
                name="fault-proxy",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection, streams included. Idempotent."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        server.cut_connections(streams_only=False)
        thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, to use as the client's API base URL."""
        if self._server is None:
            raise RuntimeError("FaultProxy is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def inject(self, fault: Fault, *, path_prefix: str = "/api/", times: int = 1) -> None:
        """Apply ``fault`` to the next ``times`` requests whose target starts with ``path_prefix``.

        The target includes the query, so a prefix may select one hashtag's stream. Each
        request takes at most one fault: the earliest injected one that matches.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        self._schedule.add(_Rule(fault, path_prefix, times))

    def cut_streams(self) -> int:
        """Cut every event stream being relayed now; return how many were cut."""
        if self._server is None:
            return 0
        return self._server.cut_connections(streams_only=True)

    @property
    def log(self) -> list[RequestRecord]:
        """A snapshot of the requests handled so far, in the order they were answered."""
        with self._log_lock:
            return list(self._log)

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)


@dataclass
class _Rule:
    fault: Fault
    path_prefix: str
    remaining: int


class _Schedule:
    """The faults tests scripted, consumed by handler threads."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def take(self, target: str, *, for_stream: bool) -> Fault | None:
        """Consume one use of the earliest matching rule.

        ``DropStream`` rules are taken only once the response is known to be a stream
        (``for_stream``); every other fault is taken when the request arrives.
        """
        with self._lock:
            for rule in self._rules:
                if isinstance(rule.fault, DropStream) == for_stream and target.startswith(
                    rule.path_prefix
                ):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule.fault
        return None


class _Connection:
    """One client connection and the upstream connection currently serving it.

    Cutting shuts both sockets down from any thread, which wakes the handler thread out of
    a blocking read on either side.
    """

    def __init__(self, client: socket.socket) -> None:
        self._client = client
        self._upstream: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._cut = threading.Event()
        self.streaming = False

    @property
    def is_cut(self) -> bool:
        return self._cut.is_set()

    def attach(self, upstream: http.client.HTTPConnection) -> None:
        with self._lock:
            self._upstream = upstream
        # A cut that raced with the upstream connect must still take effect.
        if self.is_cut:
            _shutdown(upstream.sock)

    def detach(self) -> None:
        with self._lock:
            upstream, self._upstream = self._upstream, None
        if upstream is not None:
            upstream.close()

    def cut(self) -> None:
        self._cut.set()
        with self._lock:
            upstream = self._upstream
        _shutdown(self._client)
        if upstream is not None:
            _shutdown(upstream.sock)

    def wait_unless_cut(self, seconds: float) -> None:
        self._cut.wait(seconds)


def _shutdown(sock: socket.socket | None) -> None:
    if sock is None:
        return
    # The handler thread may have closed it already.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: FaultProxy) -> None:
        self.owner = owner
        self._connections: dict[socket.socket, _Connection] = {}
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    # Registering in process_request (the serving thread) rather than in the handler
    # thread means that once shutdown() returns, every accepted socket is known to
    # cut_connections(), even one whose handler thread has not started yet.
    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        sock = cast(socket.socket, request)
        with self._connections_lock:
            self._connections[sock] = _Connection(sock)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        with self._connections_lock:
            self._connections.pop(cast(socket.socket, request), None)
        super().shutdown_request(request)

    def connection_for(self, sock: socket.socket) -> _Connection:
        with self._connections_lock:
            return self._connections[sock]

    def cut_connections(self, *, streams_only: bool) -> int:
        with self._connections_lock:
            victims = [
                c
                for c in self._connections.values()
                if not c.is_cut and (c.streaming or not streams_only)
            ]
        for connection in victims:
            connection.cut()
        return len(victims)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        # Broken and reset connections are what this proxy exists to produce; only a
        # genuine bug deserves a traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


# Per RFC 9110 section 7.6.1 these describe one hop and must not be relayed.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

_RATE_LIMIT = "300"  # Mastodon's default per-account budget per 5 minutes
_TOO_MANY_REQUESTS = b'{"error":"Too many requests"}'
_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_READ_SIZE = 64 * 1024


class _ProxyHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps client connections alive across requests, as a real server does;
    # every response therefore carries a Content-Length or is chunked.
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request stderr line; ``FaultProxy.log`` records requests."""

    def _forward(self) -> None:
        server = cast(_ProxyServer, self.server)
        proxy = server.owner
        connection = server.connection_for(self.connection)
        arrived = time.time()

        def record(status: int | None, fault: Fault | None) -> None:
            name = None if fault is None else type(fault).__name__
            proxy._record(RequestRecord(arrived, self.command, self.path, status, name))

        # The body is read first even when the answer is synthetic, so that the next
        # request on this kept-alive connection starts at the right byte.
        body = self._read_request_body()
        fault = proxy._schedule.take(self.path, for_stream=False)
        if isinstance(fault, ResetConnection):
            record(None, fault)
            self._reset()
            return
        if isinstance(fault, RateLimited):
            record(429, fault)
            self._answer(429, _rate_limit_headers(fault), _TOO_MANY_REQUESTS)
            return
        if isinstance(fault, BadGateway):
            record(502, fault)
            self._answer(502, {"Content-Type": "text/html"}, _BAD_GATEWAY_HTML)
            return

        # No timeout upstream: streams stay open indefinitely, and stop()/cut_streams()
        # interrupt any blocking read by shutting the socket down.
        upstream = http.client.HTTPConnection(*proxy._upstream)
        connection.attach(upstream)
        try:
            try:
                response = self._send_upstream(upstream, body)
            except (OSError, http.client.HTTPException):
                if connection.is_cut:
                    self.close_connection = True
                    return
                # What a reverse proxy answers when it cannot reach the app.
                record(502, None)
                self._answer(502, {"Content-Type": "text/html"}, _BAD_GATEWAY_HTML)
                return
            if isinstance(fault, Slow):
                connection.wait_unless_cut(fault.delay_seconds)
            if isinstance(fault, Drip):
                record(response.status, fault)
                self._drip(response, connection, fault.interval_seconds)
                return
            is_stream = response.getheader("Content-Type", "").startswith("text/event-stream")
            if is_stream:
                connection.streaming = True
                if fault is None:
                    fault = proxy._schedule.take(self.path, for_stream=True)
            record(response.status, fault)
            self._relay(response, connection, fault if isinstance(fault, DropStream) else None)
        finally:
            connection.streaming = False
            connection.detach()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward

    def _read_request_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked_body()
        length = self.headers.get("Content-Length")
        return None if length is None else self.rfile.read(int(length))

    def _read_chunked_body(self) -> bytes:
        parts: list[bytes] = []
        while size := int(self.rfile.readline().split(b";")[0], 16):
            parts.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF closing the chunk
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailer fields: nothing upstream needs
        return b"".join(parts)

    def _send_upstream(
        self, upstream: http.client.HTTPConnection, body: bytes | None
    ) -> http.client.HTTPResponse:
        # skip_host keeps the client's Host header (see FaultProxy); skip_accept_encoding
        # keeps http.client from adding a header the client did not send.
        shape = cast(_ProxyServer, self.server).owner.shape
        target = shape.request_target(self.path)
        body = shape.request_body(self.headers.get("Content-Type", ""), body)
        upstream.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
        # Content-Length is recomputed because a chunked body arrives here decoded; Expect
        # has already been answered with 100 Continue by BaseHTTPRequestHandler.
        dropped = (
            _HOP_BY_HOP
            | _connection_tokens(self.headers.get_all("Connection", []))
            | cast(_ProxyServer, self.server).owner.dropped_headers
        )
        for name, value in self.headers.items():
            if name.lower() not in dropped and name.lower() not in ("content-length", "expect"):
                upstream.putheader(name, value)
        if body is not None:
            upstream.putheader("Content-Length", str(len(body)))
        upstream.endheaders(body)
        return upstream.getresponse()

    def _relay(
        self,
        response: http.client.HTTPResponse,
        connection: _Connection,
        drop: DropStream | None,
    ) -> None:
        has_body = self.command != "HEAD" and not (
            response.status < 200 or response.status in (204, 304)
        )
        shape = cast(_ProxyServer, self.server).owner.shape
        if has_body and shape.rewrites_body(response.getheader("Content-Type", "")):
            body = shape.response_body(response.read())
            self.send_response_only(response.status, response.reason)
            dropped = _HOP_BY_HOP | cast(_ProxyServer, self.server).owner.dropped_headers
            for name, value in response.getheaders():
                if name.lower() not in dropped and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        # Chunked and close-delimited upstream bodies are re-chunked: the client connection
        # stays reusable and each upstream read reaches the client as it arrives.
        rechunk = has_body and (response.chunked or response.getheader("Content-Length") is None)
        dropped = (
            _HOP_BY_HOP
            | _connection_tokens(response.headers.get_all("Connection", []))
            | cast(_ProxyServer, self.server).owner.dropped_headers
        )
        # send_response_only: the upstream's own Date and Server headers are relayed.
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() in dropped or (rechunk and name.lower() == "content-length"):
                continue
            self.send_header(name, value)
        if rechunk:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if not has_body:
            return

        timer = None
        if drop is not None and drop.after_seconds is not None:
            timer = threading.Timer(drop.after_seconds, connection.cut)
            timer.daemon = True
            timer.start()
        events = _SseEventCounter(drop.after_events) if drop and drop.after_events else None
        try:
            self._pump(response, connection, events, rechunk=rechunk)
        except (OSError, http.client.HTTPException):
            pass  # a cut, or either peer went away
        finally:
            if timer is not None:
                timer.cancel()
        # A body that did not end cleanly leaves the connection unusable for the next
        # request; a cut has already shut it down.
        if connection.is_cut or response.length:
            self.close_connection = True

    def _pump(
        self,
        response: http.client.HTTPResponse,
        connection: _Connection,
        events: _SseEventCounter | None,
        *,
        rechunk: bool,
    ) -> None:
        """Copy the body as it arrives; read1 returns whatever one read yields."""
        while data := response.read1(_READ_SIZE):
            cut_at = None if events is None else events.feed(data)
            self._write_body(data[:cut_at], rechunk=rechunk)
            if cut_at is not None:
                connection.cut()
                return
        if rechunk:
            self.wfile.write(b"0\r\n\r\n")

    def _write_body(self, data: bytes, *, rechunk: bool) -> None:
        if rechunk:
            self.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))
        else:
            self.wfile.write(data)

    def _drip(
        self, response: http.client.HTTPResponse, connection: _Connection, interval: float
    ) -> None:
        # The body ends with the connection (no length): an endless stream drips as well.
        head = [f"HTTP/1.1 {response.status} {response.reason}"]
        head += [
            f"{name}: {value}"
            for name, value in response.getheaders()
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length"
        ]
        head += ["Connection: close", "", ""]
        self.close_connection = True
        pending = "\r\n".join(head).encode("latin-1")
        with contextlib.suppress(OSError, http.client.HTTPException):
            while pending:
                for byte in pending:
                    if connection.is_cut:
                        return
                    self.wfile.write(bytes([byte]))
                    connection.wait_unless_cut(interval)
                pending = response.read1(_READ_SIZE)

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        # send_response adds Date, which Mastodon.py uses to correct the rate-limit reset
        # for clock skew, as it does with a real server's Date.
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout turns close() into a TCP RST rather than a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        # The fd really closes, with the RST, once the handler releases its stream files.
        self.connection.close()


def _connection_tokens(values: list[str]) -> frozenset[str]:
    """Header names a ``Connection`` header marks as hop-by-hop."""
    return frozenset(t.strip().lower() for v in values for t in v.split(",") if t.strip())


def _rate_limit_headers(fault: RateLimited) -> dict[str, str]:
    reset_at = datetime.now(UTC) + timedelta(seconds=fault.reset_in_seconds)
    if fault.reset_format == "iso":
        reset = reset_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        # Rounded up so the advertised reset is never earlier than the real one.
        reset = str(int(reset_at.timestamp()) + 1)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "X-RateLimit-Limit": _RATE_LIMIT,
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset,
    }


class _SseEventCounter:
    """Finds where the Nth SSE event ends in a relayed byte stream.

    Records end with a blank line; comment-only records (``:thump`` heartbeats) are not
    events. Mastodon servers terminate lines with LF only, which is all this handles.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen = 0
        self._pending = b""

    def feed(self, data: bytes) -> int | None:
        """Return how many bytes of ``data`` to relay before cutting, or None to relay all."""
        buffer = self._pending + data
        start = 0
        while (end := buffer.find(b"\n\n", start)) != -1:
            record, start = buffer[start:end], end + 2
            if any(line and not line.startswith(b":") for line in record.split(b"\n")):
                self._seen += 1
                if self._seen >= self._limit:
                    return start - len(self._pending)
        self._pending = buffer[start:]
        return None
