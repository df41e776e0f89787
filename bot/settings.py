"""Process settings, from the environment and never from a chat file: the database (checked
before anything opens it), the logs, and the worker's name and lease."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.core.durations import DURATION_HINT, parse_duration
from bot.core.problems import ConfigError, Problem
from bot.runtime.ownership import DEFAULT_LEASE_TTL

DEFAULT_DATABASE_URL = "sqlite:///tweetchat.sqlite3"


@dataclass(frozen=True)
class Settings:
    """Process settings: from the environment, never from the chat file."""

    database_url: str
    log_format: str | None  # "json", "console", or None to choose by terminal
    log_level: str
    lease_ttl: timedelta = DEFAULT_LEASE_TTL
    # Unique among the workers sharing a database; host:pid unless TWEETCHAT_WORKER_ID says.
    worker_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        fmt = env.get("TWEETCHAT_LOG_FORMAT")
        return cls(
            database_url=_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            log_format=fmt if fmt in ("json", "console") else None,
            log_level=env.get("TWEETCHAT_LOG_LEVEL", "INFO"),
            lease_ttl=_lease_ttl(env.get("TWEETCHAT_LEASE_TTL")),
            worker_id=env.get("TWEETCHAT_WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}",
        )

    @property
    def json_logs(self) -> bool | None:
        """JSON log lines, or console ones; None: by terminal (see ``logs.configure``)."""
        return None if self.log_format is None else self.log_format == "json"


def _database_url(url: str) -> str:
    from bot.adapters.database_url import url_problem

    problem = url_problem(url)
    if problem is not None:
        reason, hint = problem
        raise ConfigError("environment", [Problem(("DATABASE_URL",), reason, hint)])
    return url


def _lease_ttl(value: str | None) -> timedelta:
    if not value:
        return DEFAULT_LEASE_TTL
    try:
        ttl = parse_duration(value)
    except ValueError as exc:
        ttl, reason = timedelta(0), str(exc)
    else:
        reason = "a lease must last longer than 0s"
    if ttl <= timedelta(0):
        raise ConfigError(
            "environment",
            [Problem(("TWEETCHAT_LEASE_TTL",), reason, f"{DURATION_HINT}; the default is 10s")],
        )
    return ttl
