"""HTTP for the platform libraries (Mastodon.py, tweepy): every request ends by a total
deadline, and no answer is read beyond a size cap.

requests' timeout bounds each socket read, not the request: a server that sends a byte every
2 s holds a 3 s timeout for as long as it likes. Here a watchdog shuts the connection's socket
down when the deadline passes, whatever the request is doing then (connecting, waiting for
the headers, reading the body), and the body is read in chunks that stop at the cap. Both
failures are ``requests`` exceptions, which the libraries report as network errors: the
adapters turn them into transient errors.

Rate-limit headers are made sane on the way in (see ``ratelimit_reset``): Mastodon.py fails a
whole answer, even a 200, on an ``X-RateLimit-Reset`` it cannot parse.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from bot.adapters.ratelimit_reset import http_date_epoch, reset_epoch

# Far above any page of 40 statuses (about 200 KB with their accounts) or an instance's
# description; far below what would hurt a worker's memory.
MAX_BODY_BYTES = 4 * 1024 * 1024
_CHUNK = 64 * 1024

Timeout = float | tuple[float | None, float | None] | None


class DeadlineExceeded(requests.exceptions.Timeout):
    """The whole request took longer than its deadline."""


class BodyTooLarge(requests.exceptions.RequestException):
    """The answer is larger than the cap."""


class _Watch:
    """The connections one request uses, shut down together when its deadline passes."""

    def __init__(self) -> None:
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self.fired = False

    def add(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)
            fired = self.fired
        if fired:
            _shutdown(connection)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            connections = list(self._connections)
        for connection in connections:
            _shutdown(connection)


def _shutdown(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        # The plain socket's shutdown, also under TLS: it wakes a blocked read at once.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


# The watch of the request this thread is sending, for the pools to hand their connections to.
_current = threading.local()


def _watched(connection: Any) -> Any:
    watch = getattr(_current, "watch", None)
    if isinstance(watch, _Watch):
        watch.add(connection)
    return connection


class _WatchedHTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _watched(super()._get_conn(timeout))


class _WatchedHTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _watched(super()._get_conn(timeout))


class BoundedAdapter(HTTPAdapter):
    """A transport adapter whose requests end within ``deadline`` seconds (or the timeout a
    caller passes, taken as a total) and whose answers hold at most ``max_body`` bytes."""

    def __init__(self, *, deadline: float, max_body: int = MAX_BODY_BYTES) -> None:
        super().__init__()
        self._deadline = deadline
        self._max_body = max_body

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Timeout = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        deadline = _total(timeout) or self._deadline
        watch = _Watch()
        timer = threading.Timer(deadline, watch.fire)
        timer.daemon = True
        started = time.monotonic()
        _current.watch = watch
        timer.start()
        try:
            response = super().send(
                request,
                stream=True,
                timeout=timeout if timeout is not None else deadline,
                verify=verify,
                cert=cert,
                proxies=proxies,
            )
            _sanitize_ratelimit(response)
            if not stream:
                self._read_body(response)
        except requests.RequestException:
            if watch.fired or time.monotonic() - started >= deadline:
                raise DeadlineExceeded(
                    f"timed out: no complete answer within {deadline:g} s", request=request
                ) from None
            raise
        finally:
            timer.cancel()
            _current.watch = None
        return response

    def _read_body(self, response: requests.Response) -> None:
        """The whole body into ``response.content``, or BodyTooLarge (the connection is
        dropped: the rest of the body is never read)."""
        declared = response.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self._max_body:
            response.close()
            raise BodyTooLarge(self._too_large(), response=response)
        chunks: list[bytes] = []
        size = 0
        try:
            # Decoded as it is read: a small gzip body cannot unpack past the cap either.
            for chunk in response.raw.stream(_CHUNK, decode_content=True):
                size += len(chunk)
                if size > self._max_body:
                    raise BodyTooLarge(self._too_large(), response=response)
                chunks.append(chunk)
        except BodyTooLarge:
            response.close()
            raise
        except Exception as exc:
            response.close()
            raise requests.exceptions.ConnectionError(
                f"the answer broke off: {type(exc).__name__}", response=response
            ) from None
        response._content = b"".join(chunks)
        response._content_consumed = True
        response.raw.release_conn()

    def _too_large(self) -> str:
        return f"the answer is larger than {self._max_body} bytes"


def _total(timeout: Timeout) -> float | None:
    if isinstance(timeout, tuple):
        parts = [t for t in timeout if t is not None]
        return sum(parts) if parts else None
    return timeout


def _sanitize_ratelimit(response: requests.Response) -> None:
    """``X-RateLimit-Reset`` as epoch seconds, or gone: whatever the server sent."""
    headers = response.headers
    value = headers.get("X-RateLimit-Reset")
    if value is None:
        return
    epoch = reset_epoch(value, now=time.time())
    if epoch is None:
        del headers["X-RateLimit-Reset"]
    else:
        headers["X-RateLimit-Reset"] = str(int(epoch))
    # Mastodon.py corrects the reset by the server's Date, which it parses unguarded too.
    if "Date" in headers and http_date_epoch(headers["Date"]) is None:
        del headers["Date"]


def bounded_session(*, deadline: float, max_body: int = MAX_BODY_BYTES) -> requests.Session:
    """A session every request of which goes through a ``BoundedAdapter``."""
    session = requests.Session()
    adapter = BoundedAdapter(deadline=deadline, max_body=max_body)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
