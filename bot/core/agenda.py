"""From a chat file to dated occurrences and the planned posts of each, with stable keys.

Times are computed in the host's zone for the wall-clock start, then offsets are added in
absolute time: a chat that crosses a DST change still lasts as long as it says.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core.config import ChatConfig
from bot.core.config_fields import parse_weekly
from bot.core.durations import format_duration
from bot.core.text import fill, with_hashtag

# What a rehearsal's times are rounded to, back in chat time.
_REPLAY_RESOLUTION = timedelta(milliseconds=10)

PostKind = Literal["reminder", "intro", "question", "closing", "wrapup", "host"]


@dataclass(frozen=True)
class Replay:
    """A rehearsal's time: the chat planned from ``planned``, played from ``origin`` ``speed``
    times faster. What a rehearsal reports (transcript, numbers, chart) is in chat time."""

    origin: datetime
    planned: datetime
    speed: float

    def chat_time(self, moment: datetime) -> datetime:
        # The compressed clock is precise to a microsecond, that is to ``speed`` microseconds
        # of chat time (3.6 ms at most): rounded, a post planned on the second stays on it.
        offset = (moment - self.origin) * self.speed
        return self.planned + round(offset / _REPLAY_RESOLUTION) * _REPLAY_RESOLUTION


@dataclass(frozen=True)
class Occurrence:
    chat_id: str
    date: str  # the local date, ISO: it names the occurrence in keys and files
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    replay: Replay | None = None  # a rehearsal's: its times are compressed

    def as_planned(self) -> Occurrence:
        """The occurrence at its planned times (a rehearsal's, back in chat time)."""
        if self.replay is None:
            return self
        chat_time = self.replay.chat_time
        return replace(self, start=chat_time(self.start), end=chat_time(self.end), replay=None)

    @property
    def id(self) -> str:
        return f"{self.chat_id}/{self.date}"


def occurrence_date(occurrence_id: str) -> str:
    """The local ISO date an occurrence id (chat/date) names."""
    return occurrence_id.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PlannedPost:
    key: str  # chat/date/slot/platform: the ledger's unique key
    occurrence: str  # chat/date
    slot: str  # reminder-1d, intro, q3, closing
    kind: PostKind
    number: int | None  # the question number
    platform: str
    at: datetime  # aware, UTC
    text: str
    # Keys of earlier posts of the thread, nearest first: the post replies to the first of
    # them that was actually published (a missed question does not break the thread).
    replies_to: tuple[str, ...] = ()


# An occurrence and its planned posts.
Plan = tuple[Occurrence, list[PlannedPost]]


def reminder_slot(before: timedelta) -> str:
    """A reminder's slot is named by how long before the chat it comes: ``reminder-1d``."""
    return f"reminder-{format_duration(before)}"


def _zone(config: ChatConfig) -> ZoneInfo:
    return ZoneInfo(config.chat.timezone)


def occurrence_at(config: ChatConfig, local_start: datetime) -> Occurrence:
    start = local_start.replace(tzinfo=_zone(config)).astimezone(UTC)
    return Occurrence(
        chat_id=config.chat.id,
        date=local_start.date().isoformat(),
        start=start,
        end=start + config.chat.duration,
    )


def next_occurrence(config: ChatConfig, now: datetime, *, linger: timedelta) -> Occurrence:
    """The occurrence a worker started at ``now`` should run.

    A chat counts as current until ``linger`` after its end, so a restart during the chat
    (or its wrap-up) resumes it instead of jumping to next week.
    """
    chat = config.chat
    if chat.start is not None:
        return occurrence_at(config, chat.start)
    assert chat.every is not None  # the config model enforces exactly one
    weekday, at = parse_weekly(chat.every)
    local_now = now.astimezone(_zone(config))
    day = local_now.date() - timedelta(days=7)
    while True:
        if day.weekday() == weekday:
            occ = occurrence_at(config, datetime.combine(day, at))
            if occ.end + linger > now:
                return occ
            day += timedelta(days=7)
        else:
            day += timedelta(days=1)


def build_agenda(config: ChatConfig, occurrence: Occurrence) -> list[PlannedPost]:
    """Every planned post of one occurrence on every configured platform, in time order."""
    posts: list[PlannedPost] = []
    for platform in config.platforms.names():
        posts.extend(_platform_agenda(config, occurrence, platform))
    return sorted(posts, key=lambda p: (p.at, p.platform))


def _platform_agenda(config: ChatConfig, occ: Occurrence, platform: str) -> list[PlannedPost]:
    zone = _zone(config)
    local_start = occ.start.astimezone(zone)
    values = {
        "hashtag": config.chat.hashtag,
        "title": config.chat.title,
        "date": f"{local_start.day} {local_start:%B %Y}",
        "time": local_start.strftime("%H:%M") + f" {local_start.tzname()}",
        "n": "",
    }
    p = config.posts

    def planned(
        slot: str, kind: PostKind, at: datetime, text: str, n: int | None = None
    ) -> PlannedPost:
        return PlannedPost(
            key=f"{occ.id}/{slot}/{platform}",
            occurrence=occ.id,
            slot=slot,
            kind=kind,
            number=n,
            platform=platform,
            at=at,
            text=with_hashtag(text, config.chat.hashtag),
        )

    posts = [
        planned(
            reminder_slot(r.before),
            "reminder",
            occ.start - r.before,
            fill(r.text, values),
        )
        for r in p.reminders
    ]
    thread = [planned("intro", "intro", occ.start + p.intro.at, fill(p.intro.text, values))]
    for n, q in enumerate(p.questions, start=1):
        prefix = fill(p.question_prefix, {**values, "n": str(n)})
        text = f"{prefix} {fill(q.text, {**values, 'n': str(n)})}".strip()
        thread.append(planned(f"q{n}", "question", occ.start + q.at, text, n))
    if p.closing is not None:
        thread.append(
            planned("closing", "closing", occ.start + p.closing.at, fill(p.closing.text, values))
        )
    if p.thread:
        thread = [
            replace(post, replies_to=tuple(earlier.key for earlier in reversed(thread[:i])))
            for i, post in enumerate(thread)
        ]
    return posts + thread


# Reminders in a rehearsal are this far apart, in their order, just before the intro.
_REHEARSED_REMINDER_GAP = timedelta(milliseconds=10)


def compress(agenda: list[PlannedPost], *, origin: datetime, speed: float) -> list[PlannedPost]:
    """The agenda replayed from ``origin``, ``speed`` times faster, for rehearsals.

    Reminders would come hours ahead; they are shown just before the origin instead, in
    their order. Every time stays distinct, so nothing depends on how ties are broken.
    """
    chat_posts = [p for p in agenda if p.kind != "reminder"]
    first = min(p.at for p in chat_posts)
    reminders = sorted((p for p in agenda if p.kind == "reminder"), key=lambda p: p.at)
    out = [
        replace(post, at=origin - (len(reminders) - i) * _REHEARSED_REMINDER_GAP)
        for i, post in enumerate(reminders)
    ]
    for post in chat_posts:
        offset = max(post.at - first, timedelta(0)) / speed
        out.append(replace(post, at=origin + offset))
    return sorted(out, key=lambda p: (p.at, p.platform))
