"""The database schema, in one place: every table the store uses.

Alembic migrations under bot/migrations describe how a database reaches this shape.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text

metadata = MetaData()

ledger_table = Table(
    "ledger",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("occurrence", String(255), nullable=False, index=True),
    Column("platform", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("planned_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("remote_id", String(64)),
    Column("url", Text),
    Column("published_at", DateTime(timezone=True)),
    Column("error", Text),
)
