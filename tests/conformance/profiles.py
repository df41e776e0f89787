"""The servers a host's bot account may live on, as mastodon_mock can be made to play them
(issue 11): its own fault rules where they can express the difference, our loopback proxy
with a ``ServerShape`` where they cannot. Each profile names its source in one line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.fakes.fault_proxy import FaultProxy
from tests.fakes.server_shapes import ServerShape
from tests.support.mastodon_server import MastodonServer

# Both SSE forms: /api/v1/streaming/hashtag and the single endpoint /api/v1/streaming. The
# mock's fault rules reach plain HTTP only, so its WebSocket endpoint stays up.
SSE = r"^/api/v1/streaming(/.*)?$"
MULTI_STATUS_READ = r"^/api/v1/statuses/?$"  # GET with id[]=...; POST is posting
V2_INSTANCE = r"^/api/v2/instance/?$"


@dataclass(frozen=True)
class Profile:
    name: str
    source: str
    # Fault rules of mastodon_mock (keyword arguments of MastodonServer.fault).
    faults: tuple[dict[str, Any], ...] = ()
    # How our proxy in front reshapes the server; with neither, the bot talks to the mock.
    shape: ServerShape | None = None
    drop_headers: tuple[str, ...] = ()
    stream: Literal["sse", "websocket", "polling"] = "sse"
    # The capabilities whose fallback the bot must announce (server.fallback) here.
    fallbacks: frozenset[str] = field(default_factory=frozenset)

    @contextmanager
    def serve(self, mastodon: MastodonServer) -> Iterator[str]:
        """The server shaped as this profile; yields the address the bot is given."""
        for rule in self.faults:
            mastodon.fault(**rule)
        if self.shape is None and not self.drop_headers:
            yield mastodon.base_url
            return
        with FaultProxy(
            mastodon.base_url, shape=self.shape, drop_headers=self.drop_headers
        ) as proxy:
            yield proxy.base_url


PROFILES = (
    Profile(
        "Mastodon 4.6",
        source="docs.joinmastodon.org/methods: every endpoint the bot uses, as of 4.6",
    ),
    Profile(
        "Mastodon 4.2",
        source="docs.joinmastodon.org/methods/statuses#index: GET /api/v1/statuses came in 4.3",
        faults=({"path_regex": MULTI_STATUS_READ, "type": "status", "status": 404},),
        fallbacks=frozenset({"multi-status read"}),
    ),
    Profile(
        "Mastodon 3.5",
        source="docs.joinmastodon.org/methods/instance#v2: GET /api/v2/instance came in 4.0",
        faults=(
            {"path_regex": MULTI_STATUS_READ, "type": "status", "status": 404},
            {"path_regex": V2_INSTANCE, "type": "status", "status": 404},
        ),
        fallbacks=frozenset({"multi-status read", "/api/v2/instance"}),
    ),
    Profile(
        "no streaming, no idempotency, no Link headers, hex ids",
        source="snac2 mastoapi.c (hex ids, no /api/v1/streaming) and partial servers that "
        "ignore Idempotency-Key and page without Link",
        faults=({"path_regex": SSE, "type": "status", "status": 404},),
        shape=ServerShape(hex_ids=True),
        drop_headers=("Idempotency-Key", "Link"),
        stream="polling",
        fallbacks=frozenset({"streaming"}),
    ),
    Profile(
        "WebSocket streaming only",
        source="GoToSocial docs/getting_started/reverse_proxy/websocket.md: /api/v1/streaming "
        "is WebSocket only (Akkoma and Pleroma alike)",
        faults=({"path_regex": SSE, "type": "status", "status": 404},),
        stream="websocket",
        fallbacks=frozenset({"streaming"}),
    ),
)
