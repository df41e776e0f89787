"""Which live stream a Mastodon-API server offers, decided once per run, and where the
bearer token may be sent to open it.

Mastodon serves the hashtag stream as SSE (``/api/v1/streaming/hashtag``) and over
WebSocket; GoToSocial, Akkoma and Pleroma serve the WebSocket API only; some servers serve
neither. The first connection tries SSE, then WebSocket, and the answer holds for the run:
a refusal later is a refusal of that kind, retried, not a reason to try the others again.

The streaming address comes from the server (``/api/v2/instance``
``configuration.urls.streaming``, or v1 ``urls.streaming_api``), so it is hostile input:
the token goes only to the instance's own host or a subdomain of it, or to a host the chat
file allows (``platforms.mastodon.streaming_hosts``), and only over https when the
instance is https. Anything else is ignored with a warning and the instance's own address
is used.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from bot.adapters.mastodon_follow import Convert, open_hashtag_stream
from bot.adapters.websocket_stream import open_websocket_stream, websocket_url
from bot.ports.errors import NoStreaming, PermanentError, PlatformError, TokenRefused
from bot.ports.following import EventStream
from bot.ports.operations import ServerFact

StreamKind = Literal["sse", "websocket", "polling"]

_SCHEMES = {"wss": "https", "https": "https", "ws": "http", "http": "http"}
# The hashtag `doctor` opens a stream of (and closes at once) to find the kind.
PROBE_TAG = "tweetchat"
_INSTEAD: dict[StreamKind, str] = {
    "websocket": "the WebSocket streaming API (/api/v1/streaming) instead",
    "polling": "the hashtag timeline is polled instead",
}

# What each fallback costs the host, in the one log line that announces it.
_COSTS: dict[StreamKind, str] = {
    "websocket": "none for capture: the same events over the WebSocket API",
    "polling": "no live stream: the tag timeline is read every follow.poll_interval, so "
    "posts arrive up to that late and each read counts against the rate limit",
}


@dataclass(frozen=True)
class StreamingBase:
    """``scheme://host[:port]`` the token may go to, and why the server's word was not
    taken, if it was not."""

    url: str
    warning: str | None = None


def streaming_base(
    instance: str, advertised: object, *, allowed_hosts: Collection[str] = ()
) -> StreamingBase:
    """The server's streaming address if the token may go there, else the instance's."""
    own = urlsplit(instance.rstrip("/"))
    own_base = f"{own.scheme}://{own.netloc}"
    if advertised is None or advertised == "":
        return StreamingBase(own_base)

    def refuse(why: str) -> StreamingBase:
        return StreamingBase(
            own_base,
            f"the server's streaming address {_shown(advertised)} {why}; "
            f"the instance's own address ({own_base}) is used instead",
        )

    if not isinstance(advertised, str):
        return refuse("is not text")
    try:
        parts = urlsplit(advertised.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return refuse("is malformed")
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None or not host or "\\" in advertised:
        return refuse("is not a ws, wss, http or https address")
    if parts.username is not None or parts.password is not None:
        return refuse("carries credentials")
    if own.scheme == "https" and scheme != "https":
        return refuse("is not encrypted, and the token must not travel in clear text")
    own_host = (own.hostname or "").lower()
    allowed = {h.lower().rstrip(".") for h in allowed_hosts}
    host = host.lower().rstrip(".")
    if not (host == own_host or host.endswith("." + own_host) or host in allowed):
        return refuse(
            "is not on the instance's own site, and the token is not sent elsewhere "
            "(name the host in platforms.mastodon.streaming_hosts to allow it)"
        )
    netloc = host if port is None else f"{host}:{port}"
    if ":" in host:
        netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
    return StreamingBase(f"{scheme}://{netloc}")


def sse_url(base: str, tag: str) -> str:
    return f"{base}/api/v1/streaming/hashtag?tag={quote(tag, safe='')}"


class HashtagStreaming:
    """Opens the hashtag stream of the kind the server offers, found on first use."""

    def __init__(
        self,
        base: Callable[[], str],
        *,
        token: str,
        connect_timeout: float,
        log: Any,
    ) -> None:
        self._base = base
        self._token = token
        self._connect_timeout = connect_timeout
        self._log = log
        self.kind: StreamKind | None = None
        self._why_polling = ""

    def open(self, tag: str, convert: Convert) -> EventStream:
        """A connected stream; TransientError / PermanentError as the ports say, and
        NoStreaming once the server turned out to have no stream at all."""
        if self.kind == "polling":
            raise NoStreaming(self._why_polling)
        base = self._base()
        sse_refusal = ""
        if self.kind in (None, "sse"):
            try:
                stream: EventStream = open_hashtag_stream(
                    sse_url(base, tag),
                    token=self._token,
                    connect_timeout=self._connect_timeout,
                    convert=convert,
                )
            except PermanentError as exc:
                if self.kind == "sse" or isinstance(exc, TokenRefused):
                    raise
                sse_refusal = exc.reason
            else:
                self.kind = "sse"
                return stream
        try:
            stream = open_websocket_stream(
                websocket_url(base, tag),
                token=self._token,
                connect_timeout=self._connect_timeout,
                convert=convert,
            )
        except PermanentError as exc:
            if self.kind == "websocket" or isinstance(exc, TokenRefused):
                raise
            self._why_polling = f"{sse_refusal}; {exc.reason}"
            self._decide("polling", self._why_polling)
            raise NoStreaming(self._why_polling) from None
        if self.kind is None:
            self._decide("websocket", sse_refusal)
        return stream

    def probe(self, convert: Convert) -> tuple[ServerFact, str | None]:
        """What `doctor` says about streaming: the kind, found by opening a stream (a read)
        and closing it at once, and what the bot does differently, if anything."""
        try:
            stream = self.open(PROBE_TAG, convert)
        except NoStreaming:
            pass
        except PlatformError as exc:
            # Not the host's to fix: the chat tries again, and polls meanwhile.
            detail = f"not known: the stream could not be opened now ({exc.reason})"
            return ServerFact("streaming", True, detail), None
        else:
            events = stream.events()
            stream.close()
            for _ in events:  # ends at once, and frees the connection
                pass
        kind = self.kind or "polling"
        if kind == "sse":
            return ServerFact("streaming", True, "SSE (/api/v1/streaming/hashtag)"), None
        detail = f"SSE not offered; {_INSTEAD[kind]}"
        return ServerFact("streaming", True, detail), (
            f"streaming: SSE not offered; {_INSTEAD[kind]} (cost: {_COSTS[kind]})"
        )

    def _decide(self, kind: StreamKind, reason: str) -> None:
        self.kind = kind
        self._log.warning(
            "server.fallback",
            capability="streaming",
            instead=kind,
            cost=_COSTS[kind],
            reason=reason,
        )


def _shown(value: object) -> str:
    # Hostile text in a log line: bounded, quoted, control characters visible.
    return repr(value if not isinstance(value, str) else value[:200])
