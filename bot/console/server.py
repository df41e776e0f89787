"""Serving the console with uvicorn: in the foreground (`tweetchat console`) or on a thread
beside a rehearsal, on a socket bound before the server starts (so port 0 works)."""

from __future__ import annotations

import socket
import threading
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# A stream left open by a browser must not hold a stop up for long.
_SHUTDOWN_SECONDS = 3


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _server(app: Any, *, https_proxy: bool) -> Any:
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        # The console logs who did what itself; an access log adds nothing but noise.
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=_SHUTDOWN_SECONDS,
        # Behind Heroku's router: trust its X-Forwarded-* headers.
        proxy_headers=https_proxy,
        forwarded_allow_ips="*" if https_proxy else None,
    )
    return uvicorn.Server(config)


def serve(app: Any, sock: socket.socket, *, behind_proxy: bool = False) -> None:
    """Serve until SIGINT or SIGTERM."""
    _server(app, https_proxy=behind_proxy).run(sockets=[sock])


class ConsoleThread:
    """The console on a thread of its own, e.g. beside a rehearsal."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        # uvicorn takes the signals only on the main thread: the rehearsal keeps its own.
        self._server = _server(app, https_proxy=False)
        self.port = int(sock.getsockname()[1])
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="console", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(_SHUTDOWN_SECONDS + 2)
