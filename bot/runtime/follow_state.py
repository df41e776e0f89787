"""The state of following one occurrence on one platform, shared by the parts of the capture:
its schedules, counts, stream connection and answer key."""

from __future__ import annotations

import queue
import random
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.answers import AnswerKey
from bot.ports.following import EventStream
from bot.runtime.follow_window import FollowWindow
from bot.runtime.health import HealthRecorder

if TYPE_CHECKING:
    from bot.runtime.follower import Follower

Via = Literal["stream", "timeline", "replies", "settle"]


@dataclass
class Schedule:
    """When something may next be tried, and how many failures in a row it has had."""

    due: datetime
    failures: int = 0

    def failed(self, now: datetime, base: timedelta, cap: timedelta) -> timedelta:
        delay = min(cap, base * (1 << min(self.failures, 16))) * random.uniform(0.5, 1.0)
        self.failures += 1
        self.due = now + delay
        return delay

    def succeeded(self, due: datetime) -> None:
        self.failures = 0
        self.due = due


@dataclass
class _Counts:
    new: int = 0
    edited: int = 0
    deleted: int = 0
    skipped: int = 0
    bad_events: int = 0
    reconnects: int = 0
    timeline_reads: int = 0
    replies_reads: int = 0


@dataclass
class Stream:
    handle: EventStream
    thread: threading.Thread
    generation: int
    connected_at: datetime


# Messages from the stream's thread: ("event", generation, event) or ("lost", generation, why).
Message = tuple[str, int, Any]


@dataclass
class CaptureState:
    """The state of following one occurrence."""

    follower: Follower
    occurrence: Occurrence
    agenda: Sequence[PlannedPost]
    window: FollowWindow
    # Post id -> the id it replies to, of replies only (see ``remember_parent``).
    parents: dict[str, str] = field(default_factory=dict)
    counts: _Counts = field(default_factory=_Counts)

    def __post_init__(self) -> None:
        f = self.follower
        self.source = f.source
        self.archive = f.archive
        self.clock = f.clock
        self.stop = f.stop
        self.settings = f.settings
        self.log = f.log.bind(occurrence=self.occurrence.id)
        self.platform = self.source.name
        self.cursor_name = f"{self.occurrence.id}/{self.platform}/tag"
        self.settled_name = f"{self.occurrence.id}/{self.platform}/settled"
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.health = HealthRecorder(
            f.health, self.clock, occurrence=self.occurrence.id, platform=self.platform
        )
        self.stream: Stream | None = None
        self.generation = 0
        now = self.clock.now()
        self.stream_schedule = Schedule(now)
        self.timeline_schedule = Schedule(now)
        self.replies_schedule = Schedule(now)
        self.backfill_due = True
        self.blocked_until = now  # the server's rate limit: no reads before this
        self.recent: deque[tuple[datetime, str]] = deque()
        self.key: AnswerKey | None = None
        self.key_at = now - timedelta(days=1)
        self.own_ids: list[str] = []
