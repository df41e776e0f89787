"""Following one occurrence on one platform: every public post of the chat, once, into the
archive, whatever happens to the connection or the process.

Three ways in, because each misses something the others catch:

- the hashtag stream, live. After every (re)connect the hashtag timeline is read from the
  stored cursor, which closes the gap the disconnection left; while the stream is down or
  refused, the timeline is polled instead, no faster than the server's limits allow;
- the replies to the bot's own posts (intro, questions), read from their context now and
  then: answers without the hashtag reach no stream;
- a settling pass when the window closes: the whole tag timeline of the chat and the
  replies once more, and every archived post that neither shows is looked up, so an edit
  or a deletion made while the bot was down is not missed.

All archive writes happen on the follower's own thread; the stream's thread only reads and
converts, and hands events over through a queue. Ids are opaque: the cursor is only ever an
id the server handed out, passed back to it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.config import Follow
from bot.ports.clock import Clock
from bot.ports.console import HealthStore
from bot.ports.errors import PermanentError, TransientError
from bot.ports.following import Archive, HashtagSource, IncrementalSource
from bot.ports.posting import Ledger
from bot.runtime.clock import wait_until
from bot.runtime.follow_incremental import IncrementalSettling
from bot.runtime.follow_settle import Settling
from bot.runtime.follow_state import Schedule
from bot.runtime.follow_stream import StreamSession
from bot.runtime.follow_window import EndDelay, FollowWindow, follow_window, steered_end

# Backoff for failed timeline and replies reads.
READ_RETRY_BASE = timedelta(seconds=2)
READ_RETRY_CAP = timedelta(seconds=60)
# The longest wait on the queue, so timers and the stop flag are looked at often.
MAX_IDLE_SECONDS = 0.5
# A process restarted after the window closed still settles, if not too late.
SETTLE_LATE_LIMIT = timedelta(hours=6)


class Follower:
    """Captures one platform's posts of each occurrence it is given (see ``run``)."""

    def __init__(
        self,
        *,
        source: HashtagSource,
        archive: Archive,
        ledger: Ledger,
        clock: Clock,
        stop_event: threading.Event,
        tag: str,
        settings: Follow,
        after_end: timedelta,
        log: Any,
        end_delay: EndDelay | None = None,
        health: HealthStore | None = None,
    ) -> None:
        self.source = source
        self.archive = archive
        self.ledger = ledger
        self.clock = clock
        self.stop = stop_event
        self.tag = tag
        self.settings = settings
        self._after_end = after_end
        self._end_delay = end_delay
        self.health = health  # for the hosts' console: stream or polling, waits, errors
        self.log = log.bind(platform=source.name)

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        """Wait for the window, follow until it closes, settle. Returns early on stop."""
        window = self.window(occurrence, agenda)
        # A source that hands each post over once reads on from its cursors to settle.
        kind = _IncrementalCapture if isinstance(self.source, IncrementalSource) else _Capture
        capture = kind(self, occurrence, agenda, window)
        if not wait_until(self.clock, self.stop, window.start):
            return
        if self.clock.now() < self.window(occurrence, agenda).end:
            capture.follow()
        if self.stop.is_set():
            return
        if self.clock.now() - self.window(occurrence, agenda).end < SETTLE_LATE_LIMIT:
            capture.settle_once()

    def window(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> FollowWindow:
        """The capture window as the agenda stands now (the hosts may move its end)."""
        window = follow_window(
            occurrence, agenda, margin=self.settings.margin, after=self._after_end
        )
        return replace(window, end=steered_end(window.end, self._end_delay))


class _Capture(StreamSession, Settling):
    """Following one occurrence: the loop that runs the reads and the stream in turn."""

    def follow(self) -> None:
        self.log.info(
            "follow.start",
            tag=self.follower.tag,
            window_start=self.window.start.isoformat(),
            window_end=self.window.end.isoformat(),
        )
        try:
            while not self.stop.is_set():
                now = self.clock.now()
                self.window = self.follower.window(self.occurrence, self.agenda)
                if now >= self.window.end:
                    break
                self._step(now)
                self.health.flush()
                self.drain(self._idle_seconds())
        finally:
            self.disconnect()
            c = self.counts
            self.log.info(
                "follow.end",
                stopped=self.stop.is_set(),
                new=c.new,
                edited=c.edited,
                deleted=c.deleted,
                skipped=c.skipped,
                bad_events=c.bad_events,
                reconnects=c.reconnects,
                timeline_reads=c.timeline_reads,
                replies_reads=c.replies_reads,
            )

    def _step(self, now: datetime) -> None:
        if self.stream is None and now >= self.stream_schedule.due:
            self.connect(now)
        reads_allowed = now >= self.blocked_until
        if (
            reads_allowed
            and (self.backfill_due or self.stream is None)
            and now >= self.timeline_schedule.due
        ):
            self._guarded("timeline", self.timeline_schedule, self.read_timeline)
        if reads_allowed and now >= self.replies_schedule.due:
            self._guarded("replies", self.replies_schedule, self.read_all_replies)

    def _idle_seconds(self) -> float:
        now = self.clock.now()
        dues = [self.replies_schedule.due, self.window.end]
        if self.stream is None:
            dues += [self.stream_schedule.due, self.timeline_schedule.due]
        elif self.backfill_due:
            dues.append(self.timeline_schedule.due)
        wait = (max(min(dues), self.blocked_until) - now).total_seconds()
        return min(max(wait, 0.0), MAX_IDLE_SECONDS)

    def _guarded(self, activity: str, schedule: Schedule, read: Callable[[], object]) -> None:
        """Run one read; a failure is logged with its reason and the read is tried again
        later (the server's reset time for a rate limit), never stopping the follower."""
        now = self.clock.now()
        try:
            read()
        except TransientError as exc:
            if exc.retry_after is not None:
                wait = timedelta(seconds=max(exc.retry_after, 0.0))
                self.blocked_until = now + wait
                schedule.due = self.blocked_until
                self.health.rate_limited(self.blocked_until, exc.reason)
                self.log.warning(
                    "ratelimit.wait",
                    seconds=round(wait.total_seconds(), 2),
                    reason=exc.reason,
                    activity=activity,
                )
            else:
                delay = schedule.failed(now, READ_RETRY_BASE, READ_RETRY_CAP)
                self.health.error(exc.reason)
                self.log.warning(
                    "retry.wait",
                    seconds=round(delay.total_seconds(), 2),
                    reason=exc.reason,
                    activity=activity,
                )
        except PermanentError as exc:
            delay = schedule.failed(now, READ_RETRY_CAP, READ_RETRY_CAP)
            self.health.error(exc.reason)
            self.log.error(
                "follow.refused",
                seconds=round(delay.total_seconds(), 2),
                reason=exc.reason,
                activity=activity,
            )
        except Exception:
            # A bug must not end the capture: log it whole and try again later.
            delay = schedule.failed(now, READ_RETRY_CAP, READ_RETRY_CAP)
            self.health.error(f"the bot failed reading the {activity} (see its log)")
            self.log.exception(
                "follow.error", activity=activity, seconds=round(delay.total_seconds(), 2)
            )


class _IncrementalCapture(_Capture, IncrementalSettling):
    """Following one occurrence on a source that hands each post over once."""
