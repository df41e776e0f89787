"""A loopback WebSocket endpoint in front of a server's WebSocket streaming API, whose
connections a test can cut, as a reverse proxy or a flaky network does.

Each client connection opens one upstream connection with the same path and query and
relays upstream's messages to the client until either side goes. ``cut()`` drops every
relayed connection without a closing handshake.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from urllib.parse import urlsplit

from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import Server, ServerConnection, serve

__all__ = ["WebSocketRelay"]


class WebSocketRelay:
    def __init__(self, upstream_base_url: str) -> None:
        parts = urlsplit(upstream_base_url)
        if parts.scheme != "http" or not parts.netloc:
            raise ValueError(f"expected http://host[:port], got {upstream_base_url!r}")
        self._upstream = f"ws://{parts.netloc}"
        self._lock = threading.Lock()
        self._live: list[tuple[ServerConnection, ClientConnection]] = []
        self.handshakes = 0
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> WebSocketRelay:
        self._server = serve(self._relay, "127.0.0.1", 0, close_timeout=0.2)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cut()
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def streaming_url(self) -> str:
        """``ws://127.0.0.1:<port>``, as an instance names its streaming server."""
        if self._server is None:
            raise RuntimeError("WebSocketRelay is not started")
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}"

    def cut(self) -> int:
        """Drop every relayed connection at once; return how many there were."""
        with self._lock:
            live, self._live = self._live, []
        for client, upstream in live:
            for sock in (client.socket, upstream.socket):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        return len(live)

    def _relay(self, client: ServerConnection) -> None:
        path = client.request.path if client.request is not None else "/"
        try:
            upstream = connect(self._upstream + path, legacy=True, proxy=None, open_timeout=5)
        except (WebSocketException, OSError):
            return
        with self._lock:
            self.handshakes += 1
            self._live.append((client, upstream))
        # The client leaving (or being cut) ends the upstream connection too.
        watcher = threading.Thread(target=_drain_then_close, args=(client, upstream), daemon=True)
        watcher.start()
        try:
            for message in upstream:
                client.send(message)
        except (ConnectionClosed, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                upstream.close()
            with contextlib.suppress(Exception):
                client.close()
            watcher.join(timeout=2)


def _drain_then_close(client: ServerConnection, upstream: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        for _ in client:
            pass
    with contextlib.suppress(Exception):
        upstream.close()
