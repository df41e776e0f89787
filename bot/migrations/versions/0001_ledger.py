"""The ledger: one row per outward action, claimed before and recorded after it.

Revision ID: 0001
Revises:
Create Date: 2026-11-20

The schema of the first release, which made it with ``create_all``; ``bot.adapters.migrate``
stamps such a database at this revision instead of creating the table again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("occurrence", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remote_id", sa.String(64)),
        sa.Column("url", sa.Text),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_ledger_occurrence", "ledger", ["occurrence"])


def downgrade() -> None:
    op.drop_index("ix_ledger_occurrence", table_name="ledger")
    op.drop_table("ledger")
