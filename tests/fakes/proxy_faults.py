"""What a test scripts on the fault proxy and reads back: the faults, the schedule that
decides which request takes which, and the record of each request handled (``FaultProxy.log``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "BadGateway",
    "Drip",
    "DropStream",
    "Fault",
    "Hold",
    "RateLimited",
    "RequestRecord",
    "ResetConnection",
    "Rule",
    "Schedule",
    "Slow",
]


@dataclass(frozen=True)
class RateLimited:
    """Answer 429 with Mastodon's rate-limit headers instead of forwarding.

    Real Mastodon sends ``X-RateLimit-Reset`` as ISO-8601 ("iso"); mastodon_mock and
    GoToSocial send an epoch integer ("epoch"). The bot must read both.
    """

    reset_in_seconds: float
    reset_format: Literal["iso", "epoch"] = "iso"


@dataclass(frozen=True)
class BadGateway:
    """Answer 502 with an HTML body, as a reverse proxy does when the app is down."""


@dataclass(frozen=True)
class Slow:
    """Forward the request, then hold the response back for ``delay_seconds``.

    The upstream has acted by the time the client gives up, which is the case that
    idempotency keys exist for.
    """

    delay_seconds: float


@dataclass(frozen=True, eq=False)
class Hold:
    """Forward the request and never relay the answer: the upstream has acted while its
    client waits, until it gives up (its timeout) or goes (killed), or the proxy stops.

    ``held`` is set once the upstream has answered, so that a test can kill the client in
    exactly that window: what the upstream made exists, and the client never learnt of it.
    """

    held: threading.Event = field(default_factory=threading.Event, repr=False)


@dataclass(frozen=True)
class Drip:
    """Forward the request, then send the whole answer, status line and headers included,
    one byte every ``interval_seconds``: each read is quick, the request never ends soon."""

    interval_seconds: float


@dataclass(frozen=True)
class DropStream:
    """Relay a stream, then cut it abruptly after a time or a number of SSE events.

    Only event-stream responses take this fault, so a stream request opened after other
    API calls still gets it with the default path prefix.
    """

    after_seconds: float | None = None
    after_events: int | None = None

    def __post_init__(self) -> None:
        if (self.after_seconds is None) == (self.after_events is None):
            raise ValueError("give exactly one of after_seconds or after_events")
        if self.after_seconds is not None and self.after_seconds <= 0:
            raise ValueError("after_seconds must be positive")
        if self.after_events is not None and self.after_events < 1:
            raise ValueError("after_events must be at least 1")


@dataclass(frozen=True)
class ResetConnection:
    """Close the client connection with a TCP reset; the request never reaches upstream."""


Fault = RateLimited | BadGateway | Slow | Hold | Drip | DropStream | ResetConnection


@dataclass(frozen=True)
class RequestRecord:
    """One request the proxy handled.

    ``time`` is the wall-clock arrival time, ``path`` the request target including the
    query, ``status`` what the client was sent (None when the connection was reset),
    ``fault`` the class name of the fault applied, if any.
    """

    time: float
    method: str
    path: str
    status: int | None
    fault: str | None


@dataclass
class Rule:
    """``fault`` for the next ``remaining`` requests whose target starts with ``path_prefix``
    and, unless ``method`` is None, whose method is ``method`` (upper case), and, unless
    ``body`` is None, whose body contains ``body``."""

    fault: Fault
    path_prefix: str
    remaining: int
    method: str | None = None
    body: bytes | None = None

    def matches(self, method: str, target: str, body: bytes | None) -> bool:
        return (
            target.startswith(self.path_prefix)
            and self.method in (None, method.upper())
            and (self.body is None or (body is not None and self.body in body))
        )


class Schedule:
    """The faults tests scripted, consumed by handler threads."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []
        self._lock = threading.Lock()

    def add(self, rule: Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def take(
        self, method: str, target: str, body: bytes | None, *, for_stream: bool
    ) -> Fault | None:
        """Consume one use of the earliest rule matching the request's method, target and body.

        ``DropStream`` rules are taken only once the response is known to be a stream
        (``for_stream``); every other fault is taken when the request arrives.
        """
        with self._lock:
            for rule in self._rules:
                if isinstance(rule.fault, DropStream) == for_stream and rule.matches(
                    method, target, body
                ):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule.fault
        return None
