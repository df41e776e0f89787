"""The archive keeps whether an author opted out of search engines (Mastodon's ``noindex``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Posts archived before this revision were read without the attribute: not opted out.
    with op.batch_alter_table("archive_posts") as batch:
        batch.add_column(
            sa.Column("author_noindex", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("archive_posts") as batch:
        batch.drop_column("author_noindex")
