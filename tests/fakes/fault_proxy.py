"""A loopback HTTP proxy that injects the faults a Mastodon server shows in production.

Integration tests put it between the bot and a Mastodon API server (mastodon_mock) and
script faults: rate limits, gateway errors, slow answers, dropped streams, reset
connections. Everything that is not faulted is relayed unchanged, streaming bodies chunk by
chunk, so the bot sees the real server through it.

Usage::

    from tests.fakes.proxy_faults import RateLimited

    with FaultProxy(server.base_url) as proxy:
        proxy.inject(RateLimited(30), path_prefix="/api/v1/statuses", method="POST")
        client = Mastodon(api_base_url=proxy.base_url, ...)
        ...
        proxy.cut_streams()
        assert [r.fault for r in proxy.log] == [...]
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from urllib.parse import urlsplit

from tests.fakes.proxy_faults import Fault, RequestRecord, Rule, Schedule
from tests.fakes.proxy_server import ProxyServer
from tests.fakes.server_shapes import ServerShape

__all__ = ["FaultProxy"]

_SETTLE_POLL = 0.01  # seconds between looks at whether every request has been seen through


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
        self._schedule = Schedule()
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._server: ProxyServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FaultProxy:
        """Listen and serve in a daemon thread. Idempotent."""
        if self._server is None:
            self._server = ProxyServer(self)
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
        return f"http://127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        """The port it listens on (on 127.0.0.1)."""
        if self._server is None:
            raise RuntimeError("FaultProxy is not started")
        return int(self._server.server_address[1])

    def inject(
        self,
        fault: Fault,
        *,
        path_prefix: str = "/api/",
        method: str | None = None,
        body_contains: str | None = None,
        times: int = 1,
    ) -> None:
        """Apply ``fault`` to the next ``times`` requests whose target starts with ``path_prefix``
        and, if ``method`` is given, whose method it is, and, if ``body_contains`` is given,
        whose body contains it (UTF-8): one write among others on the same path, such as one
        planned post's text.

        The target includes the query, so a prefix may select one hashtag's stream. A read
        and a write can share a prefix (``GET /api/v1/statuses?id[]=`` and ``POST
        /api/v1/statuses``): a fault meant for one names its method, or the other may take
        it first. Each request takes at most one fault: the earliest injected one that
        matches.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        if method is not None and not method.isalpha():
            raise ValueError(f"expected an HTTP method such as 'POST', got {method!r}")
        body = None if body_contains is None else body_contains.encode()
        self._schedule.add(Rule(fault, path_prefix, times, method and method.upper(), body))

    def cut_streams(self) -> int:
        """Cut every event stream being relayed now; return how many were cut.

        A stream its client has closed already is not counted: the proxy would notice only
        at its next event, and nobody was reading it.
        """
        if self._server is None:
            return 0
        return self._server.cut_connections(streams_only=True)

    def settle(self, *, timeout: float = 10) -> None:
        """Wait until every request sent so far has been seen through: read, forwarded, and
        for a client that has gone, answered by the upstream (a ``Hold`` has fired).

        After a test kills a client, what the client sent before it died may still be on
        its way; once this returns, the upstream has acted on all of it.
        """
        deadline = time.monotonic() + timeout
        while self._server is not None and not self._server.settled():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the proxy did not settle within {timeout} s")
            time.sleep(_SETTLE_POLL)

    @property
    def log(self) -> list[RequestRecord]:
        """A snapshot of the requests handled so far, in the order they were answered."""
        with self._log_lock:
            return list(self._log)

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)
