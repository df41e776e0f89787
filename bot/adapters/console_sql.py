"""What the hosts' console reads from the store beyond the ports: the latest posts, the
chat's numbers in one grouped query, and a cheap fingerprint that says whether anything
changed (asked a few times a second, whatever the number of consoles open)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from bot.adapters.archive_sql import _post
from bot.adapters.sql_schema import (
    archive_posts_table,
    boost_decisions_table,
    health_table,
    host_commands_table,
    leases_table,
    ledger_table,
    workers_table,
)
from bot.adapters.store_sql import _aware
from bot.core.model import ArchivedPost

_posts = archive_posts_table


@dataclass(frozen=True)
class ChatCounts:
    """The occurrence's numbers, the bot's own posts left out."""

    posts: int
    authors: frozenset[str]  # author keys
    per_question: dict[int, int]  # question number -> posts answering it
    recent: int  # posts in the last ``recent_window``


@dataclass(frozen=True)
class WorkerState:
    worker_id: str
    beat_at: datetime


@dataclass(frozen=True)
class LeaseState:
    owner: str
    expires_at: datetime


class ConsoleReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def fingerprint(self, occurrence: str) -> tuple[Any, ...]:
        """Changes whenever a post, a ledger entry, a decision or a command of the
        occurrence does (a count and a latest time for each)."""
        p, led, d, c = _posts.c, ledger_table.c, boost_decisions_table.c, host_commands_table.c
        with self.engine.connect() as conn:
            posts = conn.execute(
                select(func.count(), func.max(p.updated_at)).where(p.occurrence == occurrence)
            ).one()
            ledger = conn.execute(
                select(func.count(), func.max(led.claimed_at), func.max(led.published_at)).where(
                    led.occurrence == occurrence
                )
            ).one()
            ledger_states = conn.execute(
                select(led.state, func.count())
                .where(led.occurrence == occurrence)
                .group_by(led.state)
            ).all()
            decisions = conn.execute(
                select(func.count(), func.max(d.decided_at)).where(d.occurrence == occurrence)
            ).one()
            commands = conn.execute(
                select(func.count(), func.max(c.done_at)).where(c.occurrence == occurrence)
            ).one()
            health = conn.execute(
                select(func.max(health_table.c.updated_at)).where(
                    health_table.c.occurrence == occurrence
                )
            ).scalar()
        return (
            tuple(posts),
            tuple(ledger),
            tuple(sorted(map(tuple, ledger_states))),
            tuple(decisions),
            tuple(commands),
            health,
        )

    def latest(
        self, occurrence: str, *, question: int | None, other: bool, limit: int
    ) -> list[ArchivedPost]:
        """The latest posts of others, newest first: those answering ``question``, or (with
        ``other``) all those that do not."""
        condition = _posts.c.question == question
        if other:
            condition = (_posts.c.question != question) | _posts.c.question.is_(None)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_posts)
                .where(_posts.c.occurrence == occurrence, _posts.c.is_own.is_(False), condition)
                .order_by(_posts.c.created_at.desc(), _posts.c.id)
                .limit(limit)
            ).all()
        return [_post(row._mapping) for row in rows]

    def counts(self, occurrence: str, *, now: datetime, recent_window: timedelta) -> ChatCounts:
        p = _posts.c
        others = (p.occurrence == occurrence) & p.is_own.is_(False)
        with self.engine.connect() as conn:
            authors = conn.execute(select(p.platform, p.author_id).where(others).distinct()).all()
            per_question = conn.execute(
                select(p.question, func.count()).where(others).group_by(p.question)
            ).all()
            recent = conn.execute(
                select(func.count()).where(others, p.created_at >= now - recent_window)
            ).scalar_one()
        return ChatCounts(
            posts=sum(n for _, n in per_question),
            authors=frozenset(f"{platform}:{author}" for platform, author in authors),
            per_question={q: n for q, n in per_question if q is not None},
            recent=int(recent),
        )

    def workers(self) -> list[WorkerState]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(workers_table.c.worker_id, workers_table.c.beat_at)).all()
        return [WorkerState(w, b) for w, b in ((r[0], _aware(r[1])) for r in rows) if b]

    def lease(self, occurrence: str) -> LeaseState | None:
        t = leases_table.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.owner, t.expires_at).where(t.occurrence == occurrence)
            ).first()
        expires = _aware(row[1]) if row else None
        return LeaseState(row[0], expires) if row and expires else None
