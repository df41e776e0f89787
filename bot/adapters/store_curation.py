"""The curation part of the SQL store: opt-outs, boost decisions, approval rounds and the
notification cursor, on the same engine (and database) as the ledger and the archive."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.sql_schema import (
    approval_rounds_table,
    archive_posts_table,
    boost_decisions_table,
    notification_cursors_table,
    optouts_table,
)
from bot.adapters.store_sql import _aware
from bot.core.masking import mask
from bot.ports.curation import ApprovalRound, BoostDecision

# Decisions that stand once made: a boost is never "re-decided" into a mere score.
_FINAL = ("boosted",)


def _required(value: datetime | None) -> datetime:
    aware = _aware(value)
    assert aware is not None  # a NOT NULL column
    return aware


class CurationSql:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- opt-outs --------------------------------------------------------------------------

    def add_optout(
        self, platform: str, author_id: str, *, kind: str, status_id: str, now: datetime
    ) -> bool:
        t = optouts_table
        values = {"kind": kind, "status_id": status_id, "at": now}
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(t).values(platform=platform, author_id=author_id, **values))
            return True
        except IntegrityError:
            pass
        if kind != "forget":
            return False
        # "forget me" after a "stop": the stronger request replaces the weaker one.
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(t)
                .where(t.c.platform == platform, t.c.author_id == author_id, t.c.kind != "forget")
                .values(**values)
            ).rowcount
        return bool(changed)

    def optouts(self) -> dict[str, str]:
        t = optouts_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.platform, t.c.author_id, t.c.kind)).all()
        return {f"{platform}:{author_id}": kind for platform, author_id, kind in rows}

    # -- decisions -------------------------------------------------------------------------

    def save_decision(self, decision: BoostDecision) -> None:
        t = boost_decisions_table
        values = {
            "author": decision.author,
            "question": decision.question,
            "state": decision.state,
            "rule": decision.rule,
            # Read by the console: never a secret in it.
            "reason": None if decision.reason is None else mask(decision.reason),
            "score": decision.score,
            "breakdown": json.dumps(dict(decision.breakdown)) if decision.breakdown else None,
            "always": decision.always,
            "decided_at": decision.decided_at,
            "boosted_at": decision.boosted_at,
        }
        where = (
            t.c.occurrence == decision.occurrence,
            t.c.platform == decision.platform,
            t.c.post_id == decision.post_id,
        )
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(t).where(*where, t.c.state.not_in(_FINAL)).values(**values)
            ).rowcount
            if changed:
                return
            if conn.execute(select(t.c.state).where(*where)).first() is not None:
                return  # final already
            conn.execute(
                insert(t).values(
                    occurrence=decision.occurrence,
                    platform=decision.platform,
                    post_id=decision.post_id,
                    **values,
                )
            )

    def decisions(
        self, occurrence: str, *, post_ids: Collection[str] | None = None
    ) -> list[BoostDecision]:
        t = boost_decisions_table
        query = select(t).where(t.c.occurrence == occurrence)
        if post_ids is not None:
            query = query.where(t.c.post_id.in_(post_ids))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.c.decided_at, t.c.post_id)).all()
        return [_decision(row._mapping) for row in rows]

    def forget_decisions(self, author: str) -> int:
        t = boost_decisions_table
        with self.engine.begin() as conn:
            return int(conn.execute(delete(t).where(t.c.author == author)).rowcount)

    # -- approval rounds -------------------------------------------------------------------

    def save_round(self, round_: ApprovalRound) -> None:
        t = approval_rounds_table
        values = {
            "post_ids": json.dumps(list(round_.post_ids)),
            "state": round_.state,
            "sent_at": round_.sent_at,
            "message_id": round_.message_id,
            "answer": round_.answer,
        }
        where = (
            t.c.occurrence == round_.occurrence,
            t.c.platform == round_.platform,
            t.c.question == round_.question,
        )
        with self.engine.begin() as conn:
            if not conn.execute(update(t).where(*where).values(**values)).rowcount:
                conn.execute(
                    insert(t).values(
                        occurrence=round_.occurrence,
                        platform=round_.platform,
                        question=round_.question,
                        **values,
                    )
                )

    def rounds(self, occurrence: str, platform: str) -> list[ApprovalRound]:
        t = approval_rounds_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t)
                .where(t.c.occurrence == occurrence, t.c.platform == platform)
                .order_by(t.c.question)
            ).all()
        return [
            ApprovalRound(
                occurrence=row.occurrence,
                platform=row.platform,
                question=row.question,
                post_ids=tuple(json.loads(row.post_ids)),
                state=row.state,
                sent_at=_required(row.sent_at),
                message_id=row.message_id,
                answer=row.answer,
            )
            for row in rows
        ]

    # -- the archive beyond one occurrence ---------------------------------------------------

    def returning_authors(self, chat_id: str, *, before: str) -> set[str]:
        t = archive_posts_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.platform, t.c.author_id)
                .where(
                    t.c.occurrence.startswith(f"{chat_id}/", autoescape=True),
                    # Occurrences are chat/ISO-date: text order is time order.
                    t.c.occurrence < before,
                    t.c.is_own.is_(False),
                )
                .distinct()
            ).all()
        return {f"{platform}:{author_id}" for platform, author_id in rows}

    def occurrences(self, chat_id: str) -> list[str]:
        t = archive_posts_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.occurrence)
                .where(t.c.occurrence.startswith(f"{chat_id}/", autoescape=True))
                .distinct()
                .order_by(t.c.occurrence)
            ).all()
        return [row.occurrence for row in rows]

    def forget_author(self, platform: str, author_id: str, *, now: datetime) -> int:
        t = archive_posts_table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.id, t.c.occurrence).where(
                    t.c.platform == platform, t.c.author_id == author_id
                )
            ).all()
        archive = SqlArchive(self.engine)
        # Deleted as the follower deletes: for good, so a later capture is refused.
        return sum(
            archive.delete(platform, post_id, occurrence=occurrence, now=now)
            for post_id, occurrence in rows
        )

    # -- notification cursor ---------------------------------------------------------------

    def notification_cursor(self, platform: str) -> str | None:
        t = notification_cursors_table
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.cursor).where(t.c.platform == platform)).first()
        return str(row[0]) if row else None

    def set_notification_cursor(self, platform: str, cursor: str) -> None:
        t = notification_cursors_table
        with self.engine.begin() as conn:
            if not conn.execute(
                update(t).where(t.c.platform == platform).values(cursor=cursor)
            ).rowcount:
                conn.execute(insert(t).values(platform=platform, cursor=cursor))


def _decision(row: Any) -> BoostDecision:
    breakdown = json.loads(row["breakdown"]) if row["breakdown"] else {}
    return BoostDecision(
        occurrence=row["occurrence"],
        platform=row["platform"],
        post_id=row["post_id"],
        author=row["author"],
        question=row["question"],
        state=row["state"],
        decided_at=_required(row["decided_at"]),
        score=row["score"],
        breakdown=tuple((str(k), float(v)) for k, v in breakdown.items()),
        rule=row["rule"],
        reason=row["reason"],
        always=bool(row["always"]),
        boosted_at=_aware(row["boosted_at"]),
    )
