"""The question windows of an occurrence when every post goes out as planned: what the curator
reads from the ledger (``Curator.windows``) for tests that file posts without publishing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.agenda import PlannedPost
from bot.core.answers import AnswerKey, AskedQuestion, Window, answer_windows


def planned_windows(agenda: Sequence[PlannedPost], platform: str, end: datetime) -> list[Window]:
    posts = [p for p in agenda if p.platform == platform]
    questions = tuple(
        AskedQuestion(p.number, p.at, p.slot)
        for p in posts
        if p.kind == "question" and p.number is not None
    )
    intro = [p.at for p in posts if p.kind == "intro"]
    closing = [p.at for p in posts if p.kind == "closing"]
    key = AnswerKey(
        questions, closes_at=min(closing, default=end), opens_at=min(intro, default=None)
    )
    return answer_windows(key)
