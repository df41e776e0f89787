"""The hosts' console: the commands it writes for the worker to carry out.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "host_commands",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("occurrence", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(32)),
        sa.Column("post_id", sa.String(64)),
        sa.Column("slot", sa.String(32)),
        sa.Column("text", sa.Text),
        sa.Column("minutes", sa.Float),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("done_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_host_commands_occurrence", "host_commands", ["occurrence", "state"])


def downgrade() -> None:
    op.drop_index("ix_host_commands_occurrence", table_name="host_commands")
    op.drop_table("host_commands")
