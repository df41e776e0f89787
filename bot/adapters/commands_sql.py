"""The hosts' commands in the store's database: the console inserts, the worker settles."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from bot.adapters.sql_schema import host_commands_table
from bot.adapters.store_sql import _aware
from bot.core.steering import CommandState, HostCommand

_t = host_commands_table


class HostCommandsSql:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, command: HostCommand) -> HostCommand:
        values = {
            "occurrence": command.occurrence,
            "kind": command.kind,
            "platform": command.platform,
            "post_id": command.post_id,
            "slot": command.slot,
            "text": command.text,
            "minutes": command.minutes,
            "by": command.by,
            "created_at": command.created_at,
            "state": "pending",
        }
        with self.engine.begin() as conn:
            result = conn.execute(insert(_t).values(**values).returning(_t.c.id))
            new_id = int(result.scalar_one())
        return replace(command, id=new_id, state="pending")

    def commands(self, occurrence: str) -> list[HostCommand]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_t).where(_t.c.occurrence == occurrence).order_by(_t.c.id)
            ).all()
        return [_command(row._mapping) for row in rows]

    def finish(
        self,
        command_id: int,
        state: CommandState,
        *,
        now: datetime,
        reason: str | None = None,
        url: str | None = None,
    ) -> bool:
        # Conditional: of two workers that both think they may settle it, one does.
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(_t)
                .where(_t.c.id == command_id, _t.c.state == "pending")
                .values(state=state, reason=reason, url=url, done_at=now)
            ).rowcount
        return bool(changed == 1)


def _command(row: Any) -> HostCommand:
    created_at = _aware(row["created_at"])
    assert created_at is not None  # NOT NULL
    return HostCommand(
        id=row["id"],
        occurrence=row["occurrence"],
        kind=row["kind"],
        by=row["by"],
        created_at=created_at,
        state=row["state"],
        platform=row["platform"],
        post_id=row["post_id"],
        slot=row["slot"],
        text=row["text"],
        minutes=row["minutes"],
        reason=row["reason"],
        url=row["url"],
        done_at=_aware(row["done_at"]),
    )
