"""A server-sent events client on the standard library, made for long-lived streams.

Why not a library: a stream must end promptly when the process stops (``close`` from any
thread shuts the socket down, which wakes a blocked read), notice a silent server (a read
timeout longer than the server's heartbeat), hand each event over as soon as its bytes
arrive, and survive a malformed or oversized event without dropping the connection.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

_READ_SIZE = 64 * 1024
MAX_RECORD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SseRecord:
    """One event; ``problem`` says why it could not be read (the stream goes on)."""

    event: str | None
    data: str | None
    problem: str | None = None


class SseRefused(Exception):
    """The server answered, but not with a stream."""

    def __init__(self, status: int, reason: str, headers: Mapping[str, str]) -> None:
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status
        self.headers = dict(headers)


class SseLost(Exception):
    """The connection failed, ended, or stayed silent past the idle timeout."""


class SseParser:
    """Bytes in, events out (the text/event-stream format, LF or CRLF line ends)."""

    def __init__(self, *, max_record_bytes: int = MAX_RECORD_BYTES) -> None:
        self._pending = b""
        self._max = max_record_bytes
        self._skipping = False  # inside an oversized record: drop bytes up to its end

    def feed(self, data: bytes) -> list[SseRecord]:
        buffer = (self._pending + data).replace(b"\r\n", b"\n")
        # A CR at the very end may be the first half of a CRLF.
        keep_cr = buffer.endswith(b"\r")
        if keep_cr:
            buffer = buffer[:-1]
        records = []
        start = 0
        while (end := buffer.find(b"\n\n", start)) != -1:
            raw, start = buffer[start:end], end + 2
            if self._skipping:
                self._skipping = False
                continue
            record = _parse_record(raw)
            if record is not None:
                records.append(record)
        rest = buffer[start:]
        if len(rest) > self._max:
            if not self._skipping:
                records.append(
                    SseRecord(None, None, f"an event larger than {self._max} bytes was dropped")
                )
            self._skipping = True
            rest = rest[-1:] if rest.endswith(b"\n") else b""
        self._pending = rest + (b"\r" if keep_cr else b"")
        return records


def _parse_record(raw: bytes) -> SseRecord | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return SseRecord(None, None, "an event that is not UTF-8 was dropped")
    event: str | None = None
    data: list[str] = []
    for line in text.split("\n"):
        if not line or line.startswith(":"):
            continue  # comments are heartbeats
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if event is None and not data:
        return None
    return SseRecord(event, "\n".join(data) if data else None)


class SseStream:
    """One connection to an event stream. ``connect``, then iterate ``records``."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        connect_timeout: float,
        idle_timeout: float,
        max_record_bytes: int = MAX_RECORD_BYTES,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) address: {url!r}")
        self._parts = parts
        self._headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache", **headers}
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self._max_record_bytes = max_record_bytes
        self._conn: http.client.HTTPConnection | None = None
        self._sock: socket.socket | None = None
        self._response: http.client.HTTPResponse | None = None
        self._closed = threading.Event()
        self._lock = threading.Lock()

    def connect(self) -> None:
        """Open the stream; SseRefused for any answer but 200, SseLost for network trouble."""
        parts = self._parts
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(
                parts.hostname or "",
                parts.port,
                timeout=self._connect_timeout,
                context=ssl.create_default_context(),
            )
        else:
            conn = http.client.HTTPConnection(
                parts.hostname or "", parts.port, timeout=self._connect_timeout
            )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        with self._lock:
            if self._closed.is_set():
                raise SseLost("closed")
            self._conn = conn
        # The timeout bounds each read; this bounds the whole exchange up to the headers, which
        # a server dripping a byte at a time would otherwise hold open for as long as it likes.
        overdue = threading.Event()

        def give_up() -> None:
            overdue.set()
            self._shutdown()

        watchdog = threading.Timer(self._connect_timeout, give_up)
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.connect()
            # Kept: http.client lets go of the socket once a response will close at its end.
            with self._lock:
                self._sock = conn.sock
            if self._closed.is_set() or overdue.is_set():
                raise OSError("closed before the request")
            conn.request("GET", target, headers=self._headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            if overdue.is_set():
                raise SseLost(f"no answer within {self._connect_timeout:g}s") from None
            raise SseLost(self._why(exc)) from None
        finally:
            watchdog.cancel()
        if response.status != 200:
            headers = {k: v for k, v in response.getheaders()}
            reason = response.reason
            conn.close()
            raise SseRefused(response.status, reason, headers)
        content_type = response.getheader("Content-Type", "")
        if not content_type.startswith("text/event-stream"):
            conn.close()
            raise SseRefused(200, f"not an event stream ({content_type[:40]})", {})
        if self._sock is not None:
            self._sock.settimeout(self._idle_timeout)
        self._response = response

    def records(self) -> Iterator[SseRecord]:
        response = self._response
        if response is None:
            raise RuntimeError("connect() first")
        parser = SseParser(max_record_bytes=self._max_record_bytes)
        while True:
            try:
                data = response.read1(_READ_SIZE)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if self._closed.is_set():
                    return
                raise SseLost(self._why(exc)) from None
            if not data:
                if self._closed.is_set():
                    return
                raise SseLost("the server ended the stream")
            yield from parser.feed(data)
            if self._closed.is_set():
                return

    def close(self) -> None:
        with self._lock:
            self._closed.set()
        self._shutdown()

    def _shutdown(self) -> None:
        with self._lock:
            sock = self._sock
        if sock is not None:
            # The plain socket's shutdown, even under TLS: it wakes the reading thread without
            # touching the TLS state that thread is using. It may be gone already.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def release(self) -> None:
        """Free the connection once the reading thread is done with it."""
        if self._response is not None:
            self._response.close()
        if self._conn is not None:
            self._conn.close()

    def _why(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError | socket.timeout):
            return f"no data for {self._idle_timeout:g}s"
        return f"{type(exc).__name__}: {exc}".rstrip(": ")
