"""The fake X API's HTTP server on loopback: standard library only, keep-alive like X.

It reads each request into a `Request`, hands it to the dispatcher, and sends the `Reply`, or
hangs up when the reply says to drop it. `drop_open_connections` ends pooled keep-alive
connections, which would otherwise go on being served after the server stops.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.x_exchange import JsonObject, Reply, Request

Dispatch = Callable[[Request], Reply]


class XServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.dispatch = dispatch
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def track(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(connection)

    def drop_open_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            _hang_up(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-request is routine in these tests; anything else is a bug.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _hang_up(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests pools connections
    timeout = 10  # idle keep-alive connections end on their own

    def setup(self) -> None:
        super().setup()
        self._server().track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._server().untrack(self.connection)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: test output is for the tests."""

    def _server(self) -> XServer:
        return cast(XServer, self.server)

    def _serve(self) -> None:
        url = urlsplit(self.path)
        body: JsonObject | None = None
        malformed = False
        try:
            body = self._json_body()
        except ValueError:
            malformed = True
        request = Request(
            method=self.command,
            path=url.path,
            params=dict(parse_qsl(url.query, keep_blank_values=True)),
            authorization=self.headers.get("Authorization"),
            body=body,
            malformed_body=malformed,
        )
        reply = self._server().dispatch(request)
        if reply.drop:
            self.close_connection = True
            _hang_up(self.connection)
        else:
            self._send(reply)

    def _json_body(self) -> JsonObject | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length == 0:
            return None
        body = json.loads(self.rfile.read(length))
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body

    def _send(self, reply: Reply) -> None:
        payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
