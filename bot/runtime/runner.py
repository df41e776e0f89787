"""Drives one occurrence (or a whole series) through time with APScheduler.

The YAML is the source of truth: the scheduler's in-memory jobs are rebuilt from it at every
start, and exactly-once lives in the ledger, not in the scheduler. Posts whose time has come
are reconciled in agenda order before the scheduler starts, so APScheduler's misfire rules
never decide anything.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.core.agenda import Occurrence, Plan, PlannedPost
from bot.core.steering import Steered
from bot.ports.clock import Clock
from bot.runtime.ownership import OwnershipKeeper
from bot.runtime.publisher import PostPublisher
from bot.runtime.steering import Steering

# How often the main thread looks at the clock and the stop flag while the scheduler runs.
_TICK_SECONDS = 0.2
# After a stop, how long a companion (the follower) gets to finish a request in flight.
_COMPANION_JOIN_SECONDS = 5.0
# A companion that fails is started again after a backoff (doubling from the first, up to the
# cap); after this many failures in a row it cannot recover, and the occurrence ends with it.
COMPANION_ATTEMPTS = 5
COMPANION_BACKOFF = (timedelta(seconds=1), timedelta(seconds=60))
# A companion that ran this long before it failed had recovered: its count starts over.
_COMPANION_RECOVERED = timedelta(minutes=10)


class CompanionFailed(Exception):
    """A companion (follower, curator, wrap-up) kept failing; the message says which, how
    often and why, in one line."""


class OccurrenceTask(Protocol):
    """Work that runs alongside the posts of an occurrence, in its own thread, and returns
    when its part of the occurrence is over (or the stop event is set)."""

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None: ...


def install_stop_handlers(stop_event: threading.Event, log: Any) -> None:
    """SIGTERM (containers, Heroku) and SIGINT (Ctrl-C) ask for a prompt, clean stop."""

    # The handler only sets flags: logging from it could deadlock on the log stream's lock
    # if the signal lands while the main thread is writing a line. A thread logs instead.
    received: list[str] = []
    signalled = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        received.append(signal.Signals(signum).name)
        signalled.set()
        stop_event.set()

    def report() -> None:
        signalled.wait()
        log.info("shutdown.requested", signal=received[0])

    threading.Thread(target=report, name="signal-report", daemon=True).start()
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
        companions: Sequence[OccurrenceTask] = (),
        preparations: Sequence[Callable[[Occurrence, Sequence[PlannedPost]], None]] = (),
        companion_backoff: tuple[timedelta, timedelta] = COMPANION_BACKOFF,
        steering: Steering | None = None,
    ) -> None:
        self._publisher = publisher
        self._clock = clock
        self._stop = stop_event
        self._log = log
        self._companions = companions
        # Run before anything of an occurrence is posted or read (e.g. setting its budget).
        self._preparations = preparations
        self._backoff = companion_backoff
        # The hosts' console moves, holds and edits the posts still ahead (issue 14).
        self._steering = steering

    def run(
        self, occurrence: Occurrence, agenda: Sequence[PlannedPost], *, until: datetime
    ) -> bool:
        """Publish the agenda and stay up until ``until``; False if stopped early."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        log = self._log.bind(occurrence=occurrence.id)
        held: Sequence[PlannedPost] = ()
        seen = 0
        if self._steering is not None:
            # The commands the hosts gave before a restart still hold.
            seen, steered = self._steering.begin(occurrence, agenda)
            agenda, held = steered.posts, steered.held
        now = self._clock.now()
        due = [p for p in agenda if p.at <= now]
        future = [p for p in agenda if p.at > now]
        log.info(
            "occurrence.start",
            start=occurrence.start.isoformat(),
            posts=len(agenda),
            due_now=len(due),
        )
        for prepare in self._preparations:
            prepare(occurrence, agenda)
        for post in due:
            if self._stop.is_set():
                return False
            self._publish(post)

        pending = {p.key for p in [*future, *held]}
        lock = threading.Lock()

        started: set[str] = set()

        def job(post: PlannedPost) -> None:
            with lock:
                started.add(post.key)
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
        gave_up: list[str] = []
        companions = [
            threading.Thread(
                target=self._accompany,
                args=(task, occurrence, agenda, gave_up),
                name=f"companion-{n}",
                daemon=True,
            )
            for n, task in enumerate(self._companions)
        ]
        for thread in companions:
            thread.start()
        scheduler.start()
        try:
            while not self._stop.wait(_TICK_SECONDS):
                if self._steering is not None and self._steering.version != seen:
                    seen, steered = self._steering.current()
                    with lock:
                        pending -= _reschedule(scheduler, job, steered, pending - started)
                with lock:
                    idle = not pending and not any(t.is_alive() for t in companions)
                if idle and self._clock.now() >= until:
                    break
        finally:
            # Waits for a post in flight: it is recorded, or left claimed for recovery.
            scheduler.shutdown(wait=True)
            for thread in companions:
                thread.join(_COMPANION_JOIN_SECONDS)
        stopped = self._stop.is_set()
        log.info("occurrence.end", stopped_early=stopped)
        if gave_up:
            raise CompanionFailed(gave_up[0])
        return not stopped

    def _publish(self, post: PlannedPost) -> None:
        try:
            self._publisher.publish(post)
        except Exception:
            # A bug must not kill the scheduler thread: later posts still go out.
            self._log.exception("post.error", key=post.key)

    def _accompany(
        self,
        task: OccurrenceTask,
        occurrence: Occurrence,
        agenda: Sequence[PlannedPost],
        gave_up: list[str],
    ) -> None:
        """Run a companion; start it again after a failure (it resumes from the store:
        cursors, the ledger), and give up on the occurrence once it cannot recover."""
        name = type(task).__name__
        failures = 0
        while not self._stop.is_set():
            started = self._clock.now()
            try:
                task.run(occurrence, agenda)
                return
            except Exception as exc:
                error = exc
            reason = one_line(error)
            if self._clock.now() - started >= _COMPANION_RECOVERED:
                failures = 0
            failures += 1
            if failures >= COMPANION_ATTEMPTS:
                gave_up.append(f"{name} failed {failures} times in a row, last: {reason}")
                self._log.error(
                    "companion.gave_up",
                    occurrence=occurrence.id,
                    companion=name,
                    reason=reason,
                    exc_info=error,
                )
                # Nothing more of this occurrence happens: every other part stops too.
                self._stop.set()
                return
            base, cap = self._backoff
            delay = min(cap, base * 2 ** (failures - 1))
            self._log.error(
                "companion.error",
                occurrence=occurrence.id,
                companion=name,
                reason=reason,
                attempt=failures,
                restart_in_s=delay.total_seconds(),
                exc_info=error,
            )
            if self._stop.wait(delay.total_seconds()):
                return


def one_line(exc: BaseException) -> str:
    """An exception as one line of text: its type and its message's first line."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _reschedule(
    scheduler: Any, job: Callable[[PlannedPost], None], steered: Steered, pending: set[str]
) -> set[str]:
    """Move the jobs of the posts still pending to their steered times and texts; a held post
    has no job until the agenda resumes. A job that has just started is left to finish.
    Returns the keys dropped from the agenda (an early end): no longer pending."""
    from apscheduler.jobstores.base import JobLookupError

    dropped = {p.key for p in steered.dropped} & pending
    for key in dropped:
        with contextlib.suppress(JobLookupError):
            scheduler.remove_job(key)

    for post in steered.held:
        if post.key in pending and scheduler.get_job(post.key) is not None:
            with contextlib.suppress(JobLookupError):
                scheduler.remove_job(post.key)
    for post in steered.posts:
        if post.key not in pending:
            continue
        with contextlib.suppress(JobLookupError):
            scheduler.remove_job(post.key)
        scheduler.add_job(job, "date", run_date=post.at, args=[post], id=post.key, name=post.slot)
    return dropped


def run_series(
    *,
    next_plan: Callable[[datetime], Plan],
    runner: OccurrenceRunner,
    clock: Clock,
    stop_event: threading.Event,
    linger: timedelta,
    once: bool,
    ownership: OwnershipKeeper | None = None,
    acting: threading.Event | None = None,
    grace: timedelta = timedelta(0),
) -> None:
    """Run occurrences one after another; ``once`` stops after the first (a single chat).

    With ``ownership``, an occurrence runs only while this worker owns it, and ``acting``
    (the stop event the runner was built with) is set when the ownership is lost: the
    worker then stands by again. A standby waits until ``grace`` after the occurrence's
    end, since an owner that dies near the end leaves posts that may still go out late.
    """
    while not stop_event.is_set():
        occurrence, agenda = next_plan(clock.now())
        # A series stays up through the linger, or next_plan would hand back the occurrence
        # that just ended; a single chat has nothing left to do once it is over.
        until = max([occurrence.end, *(p.at for p in agenda)]) + (timedelta(0) if once else linger)
        if ownership is None or acting is None:
            runner.run(occurrence, agenda, until=until)
            if once:
                return
            continue
        if ownership.wait_to_own(occurrence.id, until=until + grace, acting=acting):
            try:
                completed = runner.run(occurrence, agenda, until=until)
            finally:
                ownership.let_go(occurrence.id)
            if completed and once:
                return
        elif once:
            return
