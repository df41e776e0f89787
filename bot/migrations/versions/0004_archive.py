"""The archive: captured posts, deleted ids, read cursors.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_posts",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("occurrence", sa.String(255), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("author_id", sa.String(64), nullable=False),
        sa.Column("author_handle", sa.String(255), nullable=False),
        sa.Column("author_name", sa.String(255), nullable=False),
        sa.Column("author_followers", sa.Integer, nullable=False),
        sa.Column("author_is_bot", sa.Boolean, nullable=False),
        sa.Column("author_bio", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("html", sa.Text, nullable=False),
        sa.Column("in_reply_to", sa.String(64)),
        sa.Column("conversation_id", sa.String(64)),
        sa.Column("language", sa.String(16)),
        sa.Column("replies", sa.Integer, nullable=False),
        sa.Column("boosts", sa.Integer, nullable=False),
        sa.Column("favourites", sa.Integer, nullable=False),
        sa.Column("question", sa.Integer),
        sa.Column("rule", sa.String(16)),
        sa.Column("is_own", sa.Boolean, nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_archive_posts_occurrence", "archive_posts", ["occurrence", "created_at"])
    op.create_table(
        "archive_deleted",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("occurrence", sa.String(255), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "read_cursors",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("read_cursors")
    op.drop_table("archive_deleted")
    op.drop_index("ix_archive_posts_occurrence", table_name="archive_posts")
    op.drop_table("archive_posts")
