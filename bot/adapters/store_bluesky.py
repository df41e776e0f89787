"""The Bluesky part of the SQL store: each account's session.

The platforms are connected before a command opens its store, so the sessions open the
database themselves, on first use: migrated to the latest schema when they may write
(`run`), read as they are when not (`doctor` writes nothing: a session it refreshes is not
kept, and a missing table reads as no session).
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from bot.adapters.sql_schema import bluesky_sessions_table as sessions


class BlueskySessionsSql:
    def __init__(self, url: str, *, writable: bool = True) -> None:
        self._url = url
        self._writable = writable
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                from bot.adapters.store_sql import SqlStore, make_engine

                self._engine = (
                    SqlStore.from_url(self._url).engine
                    if self._writable
                    else make_engine(self._url)
                )
            return self._engine

    def load(self, service: str, handle: str) -> str | None:
        if not self._writable and _missing_file(self._url):
            return None  # opening it would create it
        try:
            with self.engine.connect() as conn:
                value = conn.execute(
                    select(sessions.c.session).where(
                        sessions.c.service == service, sessions.c.handle == handle
                    )
                ).scalar_one_or_none()
        except SQLAlchemyError:
            if self._writable:
                raise
            return None  # a database not created or migrated yet holds no session
        return None if value is None else str(value)

    def save(self, service: str, handle: str, session: str, *, now: datetime) -> None:
        if not self._writable:
            return
        where = (sessions.c.service == service) & (sessions.c.handle == handle)
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(sessions).where(where).values(session=session, updated_at=now)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(sessions).values(
                        service=service, handle=handle, session=session, updated_at=now
                    )
                )

    def forget(self, service: str, handle: str) -> None:
        if not self._writable:
            return
        with self.engine.begin() as conn:
            conn.execute(
                delete(sessions).where(sessions.c.service == service, sessions.c.handle == handle)
            )

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _missing_file(url: str) -> bool:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    return (
        parsed.get_backend_name() == "sqlite"
        and bool(database)
        and database != ":memory:"
        and not Path(str(database)).exists()
    )
