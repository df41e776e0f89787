"""Running the workers: which one owns an occurrence, its heartbeat, and what `tweetchat
doctor` reads about an account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable


class Ownership(Protocol):
    """Which worker acts for a chat occurrence: one at a time, across every worker of a
    database. A lease lasts a while and is renewed; a worker that stops renewing loses it."""

    @property
    def worker_id(self) -> str: ...

    def acquire(self, occurrence: str, *, now: datetime) -> bool:
        """Take the occurrence, or renew this worker's hold; False while another's is live."""
        ...

    def owns(self, occurrence: str, *, now: datetime) -> bool:
        """Whether this worker's hold is live now: asked right before every claim."""
        ...

    def release(self, occurrence: str) -> None:
        """Let another worker take over at once (a clean shutdown, the occurrence's end)."""
        ...


class Heartbeat(Protocol):
    """A sign of life that `tweetchat health` reads."""

    def beat(self, *, now: datetime) -> None: ...

    def forget(self) -> None:
        """This worker has stopped: its heartbeat goes."""
        ...


@dataclass(frozen=True)
class ServerFact:
    """One thing `tweetchat doctor` found out about a server, read without writing."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class AccountFacts:
    """What a platform says about the bot's account and its limits, for `tweetchat doctor`."""

    username: str
    bot: bool  # flagged as an automated account
    max_characters: int
    server: tuple[ServerFact, ...] = ()  # what the server can do, a row each
    differences: tuple[str, ...] = ()  # what the bot does differently on this server
    unknowable: tuple[str, ...] = ()  # what only the chat itself can find out


Capability = Literal["read", "post", "boost"]


@runtime_checkable
class Inspectable(Protocol):
    """A platform that can describe its account and its token. Reads only: nothing is
    posted, boosted, sent or edited to find out."""

    def account_facts(self) -> AccountFacts: ...

    def allows(self, capability: Capability) -> bool | None:
        """Whether the token's scopes allow this; None when the server does not say."""
        ...
