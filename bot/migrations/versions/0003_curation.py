"""Curation: opt-outs, boost decisions, approval rounds, the notification cursor.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "optouts",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("author_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "boost_decisions",
        sa.Column("occurrence", sa.String(255), primary_key=True),
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("post_id", sa.String(64), primary_key=True),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("question", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(32)),
        sa.Column("reason", sa.Text),
        sa.Column("score", sa.Float),
        sa.Column("breakdown", sa.Text),
        sa.Column("always", sa.Boolean, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("boosted_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "approval_rounds",
        sa.Column("occurrence", sa.String(255), primary_key=True),
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("question", sa.Integer, primary_key=True),
        sa.Column("post_ids", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(64)),
        sa.Column("answer", sa.Text),
    )
    op.create_table(
        "notification_cursors",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("cursor", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notification_cursors")
    op.drop_table("approval_rounds")
    op.drop_table("boost_decisions")
    op.drop_table("optouts")
