"""The hosts' console: the worker's health on each platform (stream or polling, rate-limit
waits, platform errors).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_health",
        sa.Column("occurrence", sa.String(255), primary_key=True),
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(16)),
        sa.Column("mode_reason", sa.Text),
        sa.Column("mode_since", sa.DateTime(timezone=True)),
        sa.Column("rate_limited_until", sa.DateTime(timezone=True)),
        sa.Column("rate_limit_reason", sa.Text),
        sa.Column("rate_limit_waits", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("platform_health")
