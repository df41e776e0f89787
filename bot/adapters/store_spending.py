"""The spending part of the SQL store: what each paid request cost, on the ledger's engine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, insert, select, update

from bot.adapters.sql_schema import spending_table
from bot.core.budget import Spend


class SpendingSql:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def hold_spending(
        self, occurrence: str, platform: str, *, kind: str, spend: Spend, now: datetime
    ) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(spending_table).values(
                    occurrence=occurrence,
                    platform=platform,
                    kind=kind,
                    state="held",
                    held_at=now,
                    **_columns(spend),
                )
            )
        key = result.inserted_primary_key
        assert key is not None  # an autoincrement primary key
        return int(key[0])

    def settle_spending(self, row_id: int, spend: Spend, *, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(spending_table)
                .where(spending_table.c.id == row_id)
                .values(state="settled", settled_at=now, **_columns(spend))
            )

    def spending(self, occurrence: str, platform: str) -> Spend:
        """Everything spent or still held for the occurrence on the platform."""
        t = spending_table
        columns = (t.c.reads, t.c.users, t.c.posts, t.c.reposts, t.c.micros)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*(func.coalesce(func.sum(c), 0) for c in columns)).where(
                    t.c.occurrence == occurrence, t.c.platform == platform
                )
            ).one()
        return Spend(*(int(value) for value in row))


def _columns(spend: Spend) -> dict[str, int]:
    return {
        "reads": spend.reads,
        "users": spend.users,
        "posts": spend.posts,
        "reposts": spend.reposts,
        "micros": spend.micros,
    }
