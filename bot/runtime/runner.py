"""Drives one occurrence (or a whole series) through time with APScheduler.

The YAML is the source of truth: the scheduler's in-memory jobs are rebuilt from it at every
start, and exactly-once lives in the ledger, not in the scheduler. Posts whose time has come
are reconciled in agenda order before the scheduler starts, so APScheduler's misfire rules
never decide anything.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.agenda import Occurrence, Plan, PlannedPost
from bot.ports import Clock
from bot.runtime.publisher import PostPublisher

# How often the main thread looks at the clock and the stop flag while the scheduler runs.
_TICK_SECONDS = 0.2


def install_stop_handlers(stop_event: threading.Event, log: Any) -> None:
    """SIGTERM (containers, Heroku) and SIGINT (Ctrl-C) ask for a prompt, clean stop."""

    def handler(signum: int, _frame: Any) -> None:
        log.info("shutdown.requested", signal=signal.Signals(signum).name)
        stop_event.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


class OccurrenceRunner:
    def __init__(
        self,
        *,
        publisher: PostPublisher,
        clock: Clock,
        stop_event: threading.Event,
        log: Any,
    ) -> None:
        self._publisher = publisher
        self._clock = clock
        self._stop = stop_event
        self._log = log

    def run(
        self, occurrence: Occurrence, agenda: Sequence[PlannedPost], *, until: datetime
    ) -> bool:
        """Publish the agenda and stay up until ``until``; False if stopped early."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        log = self._log.bind(occurrence=occurrence.id)
        now = self._clock.now()
        due = [p for p in agenda if p.at <= now]
        future = [p for p in agenda if p.at > now]
        log.info(
            "occurrence.start",
            start=occurrence.start.isoformat(),
            posts=len(agenda),
            due_now=len(due),
        )
        for post in due:
            if self._stop.is_set():
                return False
            self._publish(post)

        pending = {p.key for p in future}
        lock = threading.Lock()

        def job(post: PlannedPost) -> None:
            try:
                self._publish(post)
            finally:
                with lock:
                    pending.discard(post.key)

        # One worker thread: posts leave in time order and a thread is never reordered.
        scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        )
        for post in future:
            scheduler.add_job(
                job, "date", run_date=post.at, args=[post], id=post.key, name=post.slot
            )
        scheduler.start()
        try:
            while not self._stop.wait(_TICK_SECONDS):
                with lock:
                    idle = not pending
                if idle and self._clock.now() >= until:
                    break
        finally:
            # Waits for a post in flight: it is recorded, or left claimed for recovery.
            scheduler.shutdown(wait=True)
        stopped = self._stop.is_set()
        log.info("occurrence.end", stopped_early=stopped)
        return not stopped

    def _publish(self, post: PlannedPost) -> None:
        try:
            self._publisher.publish(post)
        except Exception:
            # A bug must not kill the scheduler thread: later posts still go out.
            self._log.exception("post.error", key=post.key)


def run_series(
    *,
    next_plan: Callable[[datetime], Plan],
    runner: OccurrenceRunner,
    clock: Clock,
    stop_event: threading.Event,
    linger: timedelta,
    once: bool,
) -> None:
    """Run occurrences one after another; ``once`` stops after the first (a single chat)."""
    while not stop_event.is_set():
        occurrence, agenda = next_plan(clock.now())
        until = max([occurrence.end, *(p.at for p in agenda)]) + linger
        runner.run(occurrence, agenda, until=until)
        if once:
            return
