"""A companion of an occurrence (follower, curator, wrap-up) that fails is started again
with a backoff, each failure logged as an error; one that cannot recover ends the
occurrence with a one-line reason."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.store_sql import SqlStore
from bot.core.agenda import Occurrence, PlannedPost
from bot.runtime.clock import SystemClock
from bot.runtime.logs import get_logger
from bot.runtime.publisher import PostPublisher
from bot.runtime.runner import COMPANION_ATTEMPTS, CompanionFailed, OccurrenceRunner

QUICK = (timedelta(milliseconds=5), timedelta(milliseconds=20))


class FailingCompanion:
    """Raises ``failures`` times, then does its work (counts its runs)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.runs = 0
        self.finished = threading.Event()

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            raise OverflowError(f"int too large to convert to float (run {self.runs})")
        self.finished.set()


def run_with(companion: FailingCompanion, tmp_path: Path) -> tuple[bool, threading.Event]:
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    stop = threading.Event()
    clock = SystemClock()
    log = get_logger()
    publisher = PostPublisher(
        ledger=store, platforms={}, clock=clock, grace=timedelta(0), stop_event=stop, log=log
    )
    runner = OccurrenceRunner(
        publisher=publisher,
        clock=clock,
        stop_event=stop,
        log=log,
        companions=[companion],
        companion_backoff=QUICK,
    )
    now = datetime.now(UTC)
    occurrence = Occurrence("chat", "2026-12-02", now, now)
    try:
        return runner.run(occurrence, [], until=now), stop
    finally:
        store.close()


def test_a_failing_companion_is_restarted_and_each_failure_logged(
    tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    """Issue 12 item 1: a companion that fails twice runs a third time and finishes; the
    occurrence completes, and each failure is an error with its reason and attempt."""
    companion = FailingCompanion(failures=2)

    completed, _stop = run_with(companion, tmp_path)

    assert completed
    assert companion.runs == 3
    assert companion.finished.is_set()
    errors = [e for e in logs if e["event"] == "companion.error"]
    assert [(e["log_level"], e["attempt"], e["companion"]) for e in errors] == [
        ("error", 1, "FailingCompanion"),
        ("error", 2, "FailingCompanion"),
    ]
    assert errors[0]["reason"] == "OverflowError: int too large to convert to float (run 1)"
    assert errors[0]["restart_in_s"] < errors[1]["restart_in_s"]  # backing off


def test_a_companion_that_cannot_recover_ends_the_occurrence(
    tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    """Issue 12 item 1: after a bounded number of failures in a row the occurrence stops
    and says why, in one line."""
    companion = FailingCompanion(failures=1000)

    with pytest.raises(CompanionFailed) as failed:
        run_with(companion, tmp_path)

    assert companion.runs == COMPANION_ATTEMPTS
    assert str(failed.value) == (
        f"FailingCompanion failed {COMPANION_ATTEMPTS} times in a row, last: "
        f"OverflowError: int too large to convert to float (run {COMPANION_ATTEMPTS})"
    )
    events = [e["event"] for e in logs if e["event"].startswith("companion.")]
    assert events == ["companion.error"] * (COMPANION_ATTEMPTS - 1) + ["companion.gave_up"]
