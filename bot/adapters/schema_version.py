"""Which schema revision a database is at, and a new database's schema, with plain SQLAlchemy.

Every start checks the schema, and it is almost always up to date; a new database (every
bench run, every rehearsal, a first start) is empty. Both are handled here, which spares a
worker the import of Alembic (some 7 MB, resident for the life of the process):
``bot.adapters.migrate`` loads it only for a database that is behind, or ahead.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    insert,
    inspect,
    select,
    text,
)

from bot.adapters.sql_schema import metadata

# The newest migration in bot/migrations/versions: a test checks it against Alembic's head,
# so a new migration cannot be forgotten here.
HEAD_REVISION = "0009"
# Workers that start together on one PostgreSQL create or upgrade the schema one after
# another, under this transaction-scoped advisory lock (an arbitrary constant of ours).
MIGRATION_LOCK = 0x7477_6368_6174  # "twchat"

# Alembic's own bookkeeping table, as Alembic creates it (its default name, column and key).
_VERSION_TABLE = "alembic_version"
_version = Table(
    _VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name=f"{_VERSION_TABLE}_pkc"),
)


class UnknownSchema(Exception):
    """The database is at a revision this version does not know: a newer version made it."""


def lock_schema(connection: Connection) -> None:
    """Wait for any other worker creating or upgrading the schema (PostgreSQL; a SQLite file
    locks itself), until the end of the connection's transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK})


def current_revisions(connection: Connection) -> list[str]:
    """The revisions the database is stamped with; none when it has no version table."""
    if not inspect(connection).has_table(_VERSION_TABLE):
        return []
    return list(connection.execute(select(_version.c.version_num)).scalars())


def at_head(engine: Engine) -> bool:
    """Whether the database is exactly at this version's latest schema (reads only)."""
    with engine.connect() as conn:
        return current_revisions(conn) == [HEAD_REVISION]


def create_if_empty(engine: Engine) -> bool:
    """Give a database that holds none of the bot's tables the latest schema at once, stamped
    with ``HEAD_REVISION`` as Alembic would have left it; whether it did. A database with any
    of them (a version table, or the first release's ledger) is left to the migrations."""
    with engine.begin() as conn:
        lock_schema(conn)
        inspector = inspect(conn)
        if any(inspector.has_table(name) for name in (_VERSION_TABLE, *metadata.tables)):
            return False
        metadata.create_all(conn)
        _version.create(conn)
        conn.execute(insert(_version).values(version_num=HEAD_REVISION))
    return True
