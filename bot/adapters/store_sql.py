"""The store on SQLAlchemy Core: a SQLite file by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from bot.adapters.sql_schema import ledger_table, metadata
from bot.ports import LedgerEntry, LedgerState, Published


def normalize_url(url: str) -> str:
    """Heroku hands out ``postgres://``; SQLAlchemy wants a dialect and driver name."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url in ("sqlite://", "sqlite:///:memory:"):
        # One shared connection, or each thread would see its own empty database.
        return create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the CLI read the archive while a worker writes to it.
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=FULL")

        return engine
    return create_engine(url, pool_pre_ping=True)


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
        metadata.create_all(self.engine)

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
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(ledger_table)
                .where(ledger_table.c.key == key, ledger_table.c.state != "done")
                .values(state=state, error=error)
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
                        error=error,
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
