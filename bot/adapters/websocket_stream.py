"""Mastodon's WebSocket streaming API, for servers that serve no SSE stream (GoToSocial,
Akkoma, Pleroma): ``/api/v1/streaming?stream=hashtag&tag=...``, one JSON object per message
(``{"stream": [...], "event": "update", "payload": "<the status as a JSON string>"}``).

The ``websockets`` sync client does the protocol. As with the SSE stream, ``close`` from any
thread ends the read at once (a short closing handshake, then the socket goes), a dead link
is noticed (the library's pings), and a bad message is one skipped event, not a lost stream.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
    PayloadTooBig,
)
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bot.adapters.mastodon_follow import STATUS_EVENTS, Convert, status_event, stream_event
from bot.adapters.ratelimit_reset import reset_after
from bot.adapters.sse import MAX_RECORD_BYTES
from bot.ports.errors import PermanentError, TokenRefused, TransientError
from bot.ports.following import BadEvent, StreamEvent

# Pings every so often; no pong within the timeout means a dead link (servers send no text
# heartbeat over WebSocket, so silence alone says nothing).
PING_INTERVAL = 20.0
PING_TIMEOUT = 20.0
# The closing handshake may take this long before the socket is simply dropped: ``close``
# must end the reading thread within half a second.
CLOSE_TIMEOUT = 0.25
# What a subprotocol may be made of (RFC 9110 "token"); a token outside it goes only in
# the Authorization header.
_HEADER_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def websocket_url(base: str, tag: str) -> str:
    """``https://host`` (an address the token may go to) to the hashtag WebSocket URL."""
    parts = urlsplit(base.rstrip("/"))
    scheme = {"https": "wss", "http": "ws"}[parts.scheme]
    return (
        parts._replace(scheme=scheme).geturl()
        + f"/api/v1/streaming?stream=hashtag&tag={quote(tag, safe='')}"
    )


def open_websocket_stream(
    url: str, *, token: str, connect_timeout: float, convert: Convert
) -> WebSocketEventStream:
    """A connected stream, or TransientError (try again) / PermanentError (not offered)."""
    try:
        connection = connect(
            url,
            # The token in headers, never in the address (addresses end up in access logs):
            # Mastodon reads Authorization, GoToSocial and Akkoma Sec-WebSocket-Protocol.
            additional_headers={"Authorization": f"Bearer {token}"},
            subprotocols=[Subprotocol(token)] if _HEADER_TOKEN.fullmatch(token) else None,
            user_agent_header="tweetchat",
            # A direct connection, as the SSE stream makes.
            proxy=None,
            open_timeout=connect_timeout,
            ping_interval=PING_INTERVAL,
            ping_timeout=PING_TIMEOUT,
            close_timeout=CLOSE_TIMEOUT,
            max_size=MAX_RECORD_BYTES,
            # Hashtag events are small; inflating compressed frames is work for nothing.
            compression=None,
            # A connection, not the library's reconnecting iterator: reconnects (and the
            # backfill after each) are the follower's.
            legacy=True,
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        reason = f"WebSocket streaming refused: HTTP {status}"
        if status == 429:
            headers = {k: v for k, v in exc.response.headers.raw_items()}
            raise TransientError(
                f"rate limited by the server ({reason})",
                retry_after=reset_after(headers, now=time.time()) or None,
            ) from None
        if status >= 500 or status == 408:
            raise TransientError(reason) from None
        if status == 401:
            # The token, not the stream: no reason to think the server has no stream.
            raise TokenRefused(reason) from None
        raise PermanentError(reason) from None
    except InvalidURI as exc:
        raise PermanentError(f"not a WebSocket address: {exc}") from None
    except (InvalidHandshake, OSError, TimeoutError) as exc:
        raise TransientError(f"WebSocket connection failed: {_describe(exc)}") from None
    return WebSocketEventStream(connection, convert)


class WebSocketEventStream:
    def __init__(self, connection: ClientConnection, convert: Convert) -> None:
        self._connection = connection
        self._convert = convert
        self._closed = False

    def events(self) -> Iterator[StreamEvent]:
        while True:
            try:
                message = self._connection.recv()
            except PayloadTooBig:
                # The library ends the connection after an oversized message: reconnect.
                raise TransientError(
                    f"stream lost: a message larger than {MAX_RECORD_BYTES} bytes"
                ) from None
            except ConnectionClosed as exc:
                if self._closed:
                    return
                raise TransientError(f"stream lost: {_describe(exc)}") from None
            event = self._event(message)
            if event is not None:
                yield event

    def close(self) -> None:
        self._closed = True
        # Another thread may be in recv(): close() wakes it with ConnectionClosed.
        with contextlib.suppress(Exception):
            self._connection.close()

    def _event(self, message: str | bytes) -> StreamEvent | None:
        if isinstance(message, bytes):
            try:
                message = message.decode("utf-8")
            except UnicodeDecodeError:
                return BadEvent("a message that is not UTF-8 was dropped")
        try:
            envelope = json.loads(message)
        except (ValueError, RecursionError):
            return BadEvent("a message that is not JSON was dropped")
        if not isinstance(envelope, dict) or not isinstance(envelope.get("event"), str):
            return BadEvent("a message without an event name was dropped")
        name: str = envelope["event"]
        payload = envelope.get("payload")
        # Mastodon sends the payload as a JSON string; some servers send the status itself.
        if isinstance(payload, dict) and name in STATUS_EVENTS:
            return status_event(name, payload, self._convert)
        return stream_event(name, payload if isinstance(payload, str) else None, self._convert)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".rstrip(": ")
