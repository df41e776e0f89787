"""When a chat is followed, and what the ledger says about the bot's posts in it: shared by
the followers of every platform and the curator."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.answers import AnswerKey, AskedQuestion
from bot.ports.posting import Ledger

# The settling pass starts this long (at most) before the wrap-up reads the archive.
SETTLE_AHEAD = timedelta(minutes=1)
# Kinds of the bot's posts whose replies belong to the chat.
_REPLIED_KINDS = ("intro", "question", "closing")


@dataclass(frozen=True)
class FollowWindow:
    start: datetime
    end: datetime


def follow_window(
    occurrence: Occurrence, agenda: Sequence[PlannedPost], *, margin: timedelta, after: timedelta
) -> FollowWindow:
    """From the intro, less ``margin``, to the end of the chat (or its closing) plus
    ``after`` (the wrap-up delay), less a little: the archive is settled by the time the
    wrap-up reads it."""
    intro = [p.at for p in agenda if p.kind == "intro"]
    last = [p.at for p in agenda if p.kind in _REPLIED_KINDS]
    start = min(intro, default=occurrence.start) - margin
    settling = min(after / 4, SETTLE_AHEAD)
    return FollowWindow(start=start, end=max([occurrence.end, *last]) + after - settling)


# The end of a window while the hosts hold the agenda: not known until they resume it.
OPEN_END = datetime.max.replace(tzinfo=UTC)
# How the hosts' console moved the end of the agenda (None while paused): see Steering.delay.
EndDelay = Callable[[], timedelta | None]


def steered_end(end: datetime, delay: EndDelay | None) -> datetime:
    """A window's end, moved as much as the hosts moved the end of the agenda: a post made
    after the planned end but before the steered one belongs to the chat too."""
    moved = delay() if delay is not None else timedelta(0)
    return OPEN_END if moved is None else end + moved


def ledger_answer_key(
    ledger: Ledger, occurrence: Occurrence, agenda: Sequence[PlannedPost], platform: str
) -> tuple[AnswerKey, list[str]]:
    """The questions as the ledger knows them on one platform (which post asked each, and
    when), and the ids of the bot's posts whose replies belong to the chat."""
    done = {e.key: e for e in ledger.entries(occurrence.id) if e.state == "done" and e.remote_id}
    questions = []
    others: set[str] = set()
    replied: list[str] = []
    closes_at = occurrence.end
    opens_at = open_until = None
    for post in agenda:
        if post.platform != platform:
            continue
        entry = done.get(post.key)
        at = (entry.published_at if entry else None) or post.at
        remote_id = entry.remote_id if entry else None
        if post.kind == "question" and post.number is not None:
            questions.append(AskedQuestion(post.number, at, remote_id))
        elif remote_id:
            others.add(remote_id)
        if post.kind == "closing":
            closes_at = at
            open_until = None if entry else occurrence.end
        if post.kind == "intro" and remote_id:
            opens_at = at
        if remote_id and post.kind in _REPLIED_KINDS:
            replied.append(remote_id)
    key = AnswerKey(
        tuple(questions),
        closes_at=closes_at,
        other_posts=frozenset(others),
        opens_at=opens_at,
        open_until=open_until,
    )
    return key, replied
