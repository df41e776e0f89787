"""One exchange with the fake X API: the request as it came, the call an endpoint answers, the
reply, and the record of both that the contract tests read (`FakeXApi.exchanges`).

Endpoints are named by keys such as ``"GET /2/tweets/search/recent"``: X's OpenAPI description
names its operations the same way (tests/contracts/x_openapi.py), and so do the rate limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JsonObject = dict[str, Any]

SEARCH = "GET /2/tweets/search/recent"
CREATE = "POST /2/tweets"


@dataclass(frozen=True)
class Request:
    """A request as the HTTP server read it, before routing."""

    method: str
    path: str
    params: dict[str, str]
    authorization: str | None
    body: JsonObject | None
    malformed_body: bool = False


@dataclass(frozen=True)
class Call:
    """What an endpoint answers: the parameters, the body, the ids in the path, and the time."""

    params: dict[str, str]
    body: JsonObject | None
    args: tuple[str, ...]
    now: datetime


@dataclass
class Reply:
    """An answer; ``drop`` hangs up instead of sending it (a lost answer)."""

    status: int
    body: JsonObject = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


@dataclass(frozen=True)
class Exchange:
    """One request the fake answered, as it came, and the answer."""

    method: str
    path: str
    params: dict[str, str]
    body: JsonObject | None
    reply: Reply
