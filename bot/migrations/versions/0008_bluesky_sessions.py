"""Bluesky sessions: the access and refresh tokens of each account, so that a restart
refreshes the session instead of logging in again (createSession is limited per day).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bluesky_sessions",
        sa.Column("service", sa.String(255), primary_key=True),
        sa.Column("handle", sa.String(255), primary_key=True),
        sa.Column("session", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bluesky_sessions")
