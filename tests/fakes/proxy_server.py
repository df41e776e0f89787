"""The fault proxy's listening server and the client connections it holds, which ``stop()``
and ``cut_streams()`` cut from any thread; each request is handled by ``ProxyHandler``.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import sys
import threading
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING, cast

from tests.fakes.proxy_relay import ProxyHandler

if TYPE_CHECKING:
    from tests.fakes.fault_proxy import FaultProxy

__all__ = ["Connection", "ProxyServer"]


class Connection:
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

    def client_left(self) -> bool:
        """Whether the client has closed its end (or reset it) already.

        A relay learns that only when it next writes to the client, which on a quiet stream
        may be never: the proxy would go on holding a stream nobody reads. Asked of a stream
        being relayed or an answer held back (``Hold``), whose handler thread reads nothing
        from the client meanwhile.
        """
        try:
            readable, _, _ = select.select([self._client], [], [], 0)
            return bool(readable) and self._client.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):  # reset, or closed by the handler thread already
            return True

    def has_unread(self) -> bool:
        """Whether the client has sent something (a request, or its leaving) that nobody has
        read yet; a closed connection has nothing."""
        try:
            readable, _, _ = select.select([self._client], [], [], 0)
        except (OSError, ValueError):  # closed by the handler thread already
            return False
        return bool(readable)


def _shutdown(sock: socket.socket | None) -> None:
    if sock is None:
        return
    # The handler thread may have closed it already.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: FaultProxy) -> None:
        self.owner = owner
        self._connections: dict[socket.socket, Connection] = {}
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ProxyHandler)

    # Registering in process_request (the serving thread) rather than in the handler
    # thread means that once shutdown() returns, every accepted socket is known to
    # cut_connections(), even one whose handler thread has not started yet.
    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        sock = cast(socket.socket, request)
        with self._connections_lock:
            self._connections[sock] = Connection(sock)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        with self._connections_lock:
            self._connections.pop(cast(socket.socket, request), None)
        super().shutdown_request(request)

    def connection_for(self, sock: socket.socket) -> Connection:
        with self._connections_lock:
            return self._connections[sock]

    def cut_connections(self, *, streams_only: bool) -> int:
        """Cut the connections (the streams only, or all); return how many had a client.

        A stream whose client has left already (closed at once after opening, as a probe
        of the stream's kind does) is ended too, but not counted: it was open only on the
        proxy's side.
        """
        with self._connections_lock:
            victims = [
                c
                for c in self._connections.values()
                if not c.is_cut and (c.streaming or not streams_only)
            ]
        held = [not (c.streaming and c.client_left()) for c in victims]
        for connection in victims:
            connection.cut()
        return sum(held)

    def settled(self) -> bool:
        """Whether every request sent so far has been read and every client that has gone
        is done with: no connection waits to be accepted, none holds unread bytes (a request,
        or the end of a client whose request is still being answered)."""
        try:
            pending, _, _ = select.select([self.socket], [], [], 0)
        except (OSError, ValueError):  # stopped
            return True
        if pending:
            return False
        with self._connections_lock:
            connections = list(self._connections.values())
        return not any(c.has_unread() for c in connections)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        # Broken and reset connections are what this proxy exists to produce; only a
        # genuine bug deserves a traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)
