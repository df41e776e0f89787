"""Ownership as lease rows, and worker heartbeats, in the store's database.

A lease row names the worker that acts for an occurrence and when its hold runs out. It
works alike on SQLite and PostgreSQL, and takes an injected time, so takeover can be tested
without waiting. Each change is one conditional statement: the database decides races.
Leases compare the workers' clocks, so hosts keep them in sync (NTP, as every host does).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, case, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.adapters.sql_schema import leases_table, workers_table
from bot.adapters.store_sql import _aware as aware

leases = leases_table.c
workers = workers_table.c


def gone_from_this_host(owner: str) -> bool:
    """Whether a worker id (``host:pid``) names a process of this host that has ended: a
    worker restarted after a crash takes its predecessor's occurrences over at once instead
    of waiting for their leases to lapse. Any doubt counts as alive."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) <= 0:
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists, under another user
    return False


class SqlLeases:
    def __init__(
        self,
        engine: Engine,
        *,
        worker_id: str,
        ttl: timedelta,
        holder_gone: Callable[[str], bool] | None = None,
    ) -> None:
        self.engine = engine
        self._worker_id = worker_id
        self.ttl = ttl
        self._holder_gone = holder_gone

    @property
    def worker_id(self) -> str:
        return self._worker_id

    def acquire(self, occurrence: str, *, now: datetime) -> bool:
        mine = leases.owner == self._worker_id
        if self._take(occurrence, or_(mine, leases.expires_at <= now), now=now):
            return True
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(leases_table).values(
                        occurrence=occurrence,
                        owner=self._worker_id,
                        acquired_at=now,
                        expires_at=now + self.ttl,
                    )
                )
        except IntegrityError:
            pass  # another worker holds a live lease
        else:
            return True
        holder = self._holder(occurrence)
        if holder is None or self._holder_gone is None or not self._holder_gone(holder):
            return False
        return self._take(occurrence, leases.owner == holder, now=now)

    def _take(self, occurrence: str, condition: ColumnElement[bool], *, now: datetime) -> bool:
        """Renew or take over the lease where ``condition`` holds; whether it did."""
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(leases_table)
                .where(leases.occurrence == occurrence, condition)
                .values(
                    owner=self._worker_id,
                    expires_at=now + self.ttl,
                    acquired_at=case(
                        (leases.owner == self._worker_id, leases.acquired_at), else_=now
                    ),
                )
            ).rowcount
        return bool(taken)

    def _holder(self, occurrence: str) -> str | None:
        with self.engine.connect() as conn:
            owner: str | None = conn.execute(
                select(leases.owner).where(leases.occurrence == occurrence)
            ).scalar()
        return owner

    def owns(self, occurrence: str, *, now: datetime) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(leases.occurrence).where(
                    leases.occurrence == occurrence,
                    leases.owner == self._worker_id,
                    leases.expires_at > now,
                )
            ).first()
        return row is not None

    def release(self, occurrence: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(leases_table).where(
                    leases.occurrence == occurrence, leases.owner == self._worker_id
                )
            )


class SqlHeartbeat:
    def __init__(self, engine: Engine, *, worker_id: str, host: str, pid: int) -> None:
        self.engine = engine
        self._worker_id = worker_id
        self._host = host
        self._pid = pid

    def beat(self, *, now: datetime) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(
                update(workers_table)
                .where(workers.worker_id == self._worker_id)
                .values(beat_at=now)
            ).rowcount
            if not updated:
                conn.execute(
                    insert(workers_table).values(
                        worker_id=self._worker_id,
                        host=self._host,
                        pid=self._pid,
                        started_at=now,
                        beat_at=now,
                    )
                )

    def forget(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(workers_table).where(workers.worker_id == self._worker_id))


@dataclass(frozen=True)
class LastBeat:
    worker_id: str
    host: str
    beat_at: datetime


def last_beat(engine: Engine, *, host: str | None) -> LastBeat | None:
    """The freshest heartbeat of a worker on ``host`` (None: on any host)."""
    query = select(workers.worker_id, workers.host, workers.beat_at)
    if host is not None:
        query = query.where(workers.host == host)
    with engine.connect() as conn:
        row = conn.execute(query.order_by(workers.beat_at.desc()).limit(1)).first()
    if row is None:
        return None
    beat_at = aware(row.beat_at)
    assert beat_at is not None  # NOT NULL column
    return LastBeat(row.worker_id, row.host, beat_at)
