"""The store on SQLAlchemy Core: a SQLite file by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool

from bot.adapters.sql_schema import ledger_table
from bot.core.masking import mask
from bot.ports.posting import LedgerEntry, LedgerState, Published

# The page cache of each SQLite connection, in KiB (SQLite's default is 2000).
_SQLITE_CACHE_KIB = 512


def normalize_url(url: str) -> str:
    """Heroku hands out ``postgres://``; SQLAlchemy wants a dialect and driver name."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url in ("sqlite://", "sqlite:///:memory:"):
        return _memory_engine()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the CLI read the archive while a worker writes to it.
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=FULL")
            # Each pooled connection keeps its own page cache, 2 MB by default, filled by
            # every read of many posts (a curation tick, the settling pass) and left in the
            # process's heap once freed. The file is in the system's cache anyway.
            dbapi_conn.execute(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")

        return engine
    # A server that stops answering must not hang a worker: bounded connect, and TCP
    # keepalives so a dead connection is noticed within seconds.
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": 10,
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
        },
    )


class _MemoryDatabase:
    """A private database in memory that every thread can use at once (a rehearsal's
    publisher, follower and curator), each on its own connection.

    SQLite's ``memdb`` VFS shares one database, by name, between the connections of a
    process, with the usual locking (and busy timeout); a plain ``:memory:`` database is
    private to one connection, which threads cannot share without mixing their
    transactions. The database lasts as long as a connection to it: this one keeps one.
    """

    def __init__(self) -> None:
        self._address = f"file:/tweetchat-{uuid.uuid4().hex}?vfs=memdb"
        self._keeper = self.connect()

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._address, uri=True, check_same_thread=False, timeout=30)


def _memory_engine() -> Engine:
    # The pool's creator holds the database, so it lives as long as the engine.
    return create_engine("sqlite://", creator=_MemoryDatabase().connect, poolclass=QueuePool)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; everything we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class SqlStore:
    """The ledger (and, later, the archive and cursors) in one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> SqlStore:
        store = cls(make_engine(url))
        store.create_schema()
        return store

    def create_schema(self) -> None:
        """Bring the database to the latest schema, so a rehearsal's in-memory database, a
        fresh file and a years-old PostgreSQL all end up alike. Alembic is imported only for
        a database behind the latest schema (or ahead of it, to complain): an up-to-date or
        an empty one needs no migration."""
        from bot.adapters.schema_version import at_head, create_if_empty

        if at_head(self.engine) or create_if_empty(self.engine):
            return
        from bot.adapters.migrate import upgrade

        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- ledger --------------------------------------------------------------------------

    def get(self, key: str) -> LedgerEntry | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(ledger_table).where(ledger_table.c.key == key)).first()
        return _entry(row._mapping) if row else None

    def claim(
        self, key: str, *, occurrence: str, platform: str, planned_at: datetime, now: datetime
    ) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(ledger_table).values(
                        key=key,
                        occurrence=occurrence,
                        platform=platform,
                        state="claimed",
                        planned_at=planned_at,
                        claimed_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def reclaim(self, key: str, *, now: datetime) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(ledger_table)
                .where(ledger_table.c.key == key, ledger_table.c.state == "failed")
                .values(state="claimed", claimed_at=now)
            )
        return result.rowcount == 1

    def record(self, key: str, published: Published, *, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(ledger_table)
                .where(ledger_table.c.key == key)
                .values(
                    state="done",
                    remote_id=published.remote_id,
                    url=published.url,
                    published_at=published.created_at or now,
                    error=None,
                )
            )

    def mark(
        self,
        key: str,
        state: LedgerState,
        *,
        error: str | None,
        now: datetime,
        occurrence: str,
        platform: str,
        planned_at: datetime,
    ) -> None:
        # Stored reasons are read by the console and `archive`: never a secret in them.
        stored_error = None if error is None else mask(error)
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(ledger_table)
                .where(ledger_table.c.key == key, ledger_table.c.state != "done")
                .values(state=state, error=stored_error)
            ).rowcount
            if not changed and self._absent(conn, key):
                conn.execute(
                    insert(ledger_table).values(
                        key=key,
                        occurrence=occurrence,
                        platform=platform,
                        state=state,
                        planned_at=planned_at,
                        claimed_at=now,
                        error=stored_error,
                    )
                )

    @staticmethod
    def _absent(conn: Any, key: str) -> bool:
        return (
            conn.execute(select(ledger_table.c.key).where(ledger_table.c.key == key)).first()
            is None
        )

    def entries(self, occurrence: str) -> list[LedgerEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ledger_table)
                .where(ledger_table.c.occurrence == occurrence)
                .order_by(ledger_table.c.planned_at, ledger_table.c.key)
            ).all()
        return [_entry(row._mapping) for row in rows]


def _entry(row: Any) -> LedgerEntry:
    planned_at = _aware(row["planned_at"])
    claimed_at = _aware(row["claimed_at"])
    # NOT NULL columns
    assert planned_at is not None
    assert claimed_at is not None
    return LedgerEntry(
        key=row["key"],
        occurrence=row["occurrence"],
        platform=row["platform"],
        state=row["state"],
        planned_at=planned_at,
        claimed_at=claimed_at,
        remote_id=row["remote_id"],
        url=row["url"],
        published_at=_aware(row["published_at"]),
        error=row["error"],
    )
