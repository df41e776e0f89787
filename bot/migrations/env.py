"""Alembic's entry point: run the migrations on the connection the caller hands over.

``bot.adapters.migrate`` passes its connection in ``config.attributes["connection"]``;
the ``alembic`` command line (for writing new revisions) connects to ``DATABASE_URL``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bot.adapters.sql_schema import metadata
from bot.adapters.store_sql import make_engine
from bot.settings import Settings


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them on a database")

_connection = context.config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    _engine = make_engine(Settings.from_env().database_url)
    with _engine.connect() as _conn:
        _run(_conn)
    _engine.dispose()
