"""The worker's health per occurrence and platform, in the store: written by the worker,
read by the hosts' console (one row each, replaced whole)."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from bot.adapters.sql_schema import health_table
from bot.adapters.store_sql import _aware
from bot.core.health import PlatformHealth
from bot.core.masking import mask

_TIMES = ("updated_at", "mode_since", "rate_limited_until", "last_error_at")
_REASONS = ("mode_reason", "rate_limit_reason", "last_error")
# Servers' reasons are theirs: kept short on a page a host reads on a phone.
_MAX_REASON = 300


class HealthSql:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save_health(self, health: PlatformHealth) -> None:
        values = asdict(health)
        for name in _REASONS:
            if values[name] is not None:
                # Read by the console: never a secret in it.
                values[name] = mask(values[name])[:_MAX_REASON]
        t = health_table
        where = (t.c.occurrence == health.occurrence, t.c.platform == health.platform)
        try:
            with self.engine.begin() as conn:
                if not conn.execute(update(t).where(*where).values(**values)).rowcount:
                    conn.execute(t.insert().values(**values))
        except IntegrityError:
            # Another worker inserted it between the two: it is a row to update now.
            with self.engine.begin() as conn:
                conn.execute(update(t).where(*where).values(**values))

    def health(self, occurrence: str) -> list[PlatformHealth]:
        t = health_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t).where(t.c.occurrence == occurrence).order_by(t.c.platform)
            ).all()
        return [_health(row._mapping) for row in rows]


def _health(row: Any) -> PlatformHealth:
    values = {f.name: row[f.name] for f in fields(PlatformHealth)}
    for name in _TIMES:
        values[name] = _aware(values[name])
    return PlatformHealth(**values)
