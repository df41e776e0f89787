"""How the fault proxy handles one request: a scripted fault's own answer (429, 502, a reset),
or the request forwarded upstream and the answer relayed back, streamed as it arrives,
rewritten by the server shape, held back, dripped or cut after a number of events.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import struct
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, cast

from tests.fakes.proxy_faults import (
    BadGateway,
    Drip,
    DropStream,
    Fault,
    Hold,
    RateLimited,
    RequestRecord,
    ResetConnection,
    Slow,
)

if TYPE_CHECKING:
    from tests.fakes.proxy_server import Connection, ProxyServer

__all__ = ["ProxyHandler"]


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
_HOLD_POLL = 0.05  # seconds between looks at whether a held answer's client has gone


class ProxyHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps client connections alive across requests, as a real server does;
    # every response therefore carries a Content-Length or is chunked.
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request stderr line; ``FaultProxy.log`` records requests."""

    def _forward(self) -> None:
        server = cast("ProxyServer", self.server)
        proxy = server.owner
        connection = server.connection_for(self.connection)
        arrived = time.time()

        def record(status: int | None, fault: Fault | None) -> None:
            name = None if fault is None else type(fault).__name__
            proxy._record(RequestRecord(arrived, self.command, self.path, status, name))

        # The body is read first even when the answer is synthetic, so that the next
        # request on this kept-alive connection starts at the right byte.
        body = self._read_request_body()
        fault = proxy._schedule.take(self.command, self.path, body, for_stream=False)
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
            if isinstance(fault, Hold):
                fault.held.set()
                while not (connection.is_cut or connection.client_left()):
                    connection.wait_unless_cut(_HOLD_POLL)
                record(None, fault)
                self.close_connection = True
                return
            if isinstance(fault, Drip):
                record(response.status, fault)
                self._drip(response, connection, fault.interval_seconds)
                return
            is_stream = response.getheader("Content-Type", "").startswith("text/event-stream")
            if is_stream:
                connection.streaming = True
                if fault is None:
                    fault = proxy._schedule.take(self.command, self.path, body, for_stream=True)
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
        shape = cast("ProxyServer", self.server).owner.shape
        target = shape.request_target(self.path)
        body = shape.request_body(self.headers.get("Content-Type", ""), body)
        upstream.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
        # Content-Length is recomputed because a chunked body arrives here decoded; Expect
        # has already been answered with 100 Continue by BaseHTTPRequestHandler.
        dropped = (
            _HOP_BY_HOP
            | _connection_tokens(self.headers.get_all("Connection", []))
            | cast("ProxyServer", self.server).owner.dropped_headers
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
        connection: Connection,
        drop: DropStream | None,
    ) -> None:
        has_body = self.command != "HEAD" and not (
            response.status < 200 or response.status in (204, 304)
        )
        shape = cast("ProxyServer", self.server).owner.shape
        if has_body and shape.rewrites_body(response.getheader("Content-Type", "")):
            body = shape.response_body(response.read())
            self.send_response_only(response.status, response.reason)
            dropped = _HOP_BY_HOP | cast("ProxyServer", self.server).owner.dropped_headers
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
            | cast("ProxyServer", self.server).owner.dropped_headers
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
        connection: Connection,
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
        self, response: http.client.HTTPResponse, connection: Connection, interval: float
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
