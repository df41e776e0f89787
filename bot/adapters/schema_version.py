"""Which schema revision a database is at, read with plain SQLAlchemy.

Every start checks the schema, and it is almost always up to date: reading the revision here
spares each worker the import of Alembic (about 11 MB), which ``bot.adapters.migrate`` loads
only when there is something to create or upgrade.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, inspect, select

# The newest migration in bot/migrations/versions: a test checks it against Alembic's head,
# so a new migration cannot be forgotten here.
HEAD_REVISION = "0005"

# Alembic's own bookkeeping table (its default name and column).
_VERSION_TABLE = "alembic_version"
_version = Table(_VERSION_TABLE, MetaData(), Column("version_num", String(32)))


class UnknownSchema(Exception):
    """The database is at a revision this version does not know: a newer version made it."""


def current_revisions(connection: Connection) -> list[str]:
    """The revisions the database is stamped with; none when it has no version table."""
    if not inspect(connection).has_table(_VERSION_TABLE):
        return []
    return list(connection.execute(select(_version.c.version_num)).scalars())


def at_head(engine: Engine) -> bool:
    """Whether the database is exactly at this version's latest schema (reads only)."""
    with engine.connect() as conn:
        return current_revisions(conn) == [HEAD_REVISION]
