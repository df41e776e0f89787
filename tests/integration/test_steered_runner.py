"""The runner follows the hosts' commands while it runs: a question goes out as edited, the
scheduler's jobs move with a shift, `next` sends the next question at once, and an early end
drops the questions left and sends the closing at once. Real time (APScheduler's), a few
seconds; the posts printed by the console platform, the ledger read."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path

import structlog

from bot.adapters.commands_sql import HostCommandsSql
from bot.adapters.console import ConsolePlatform
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import Occurrence, PlannedPost, PostKind
from bot.core.steering import CommandKind, HostCommand
from bot.runtime.clock import SystemClock
from bot.runtime.runner import OccurrenceRunner
from bot.runtime.steering import Steering
from tests.support.console import command_task, planned_post, wait_for

SHIFT = timedelta(seconds=2)


@dataclass
class SteeredRun:
    store: SqlStore
    commands: HostCommandsSql
    occurrence: Occurrence
    agenda: list[PlannedPost]
    shown: io.StringIO
    clock: SystemClock

    def ask(self, kind: CommandKind, **fields: object) -> None:
        self.commands.add(
            HostCommand(0, self.occurrence.id, kind, "Ana", self.clock.now(), **fields)  # type: ignore[arg-type]
        )

    def out(self, slot: str) -> object:
        return self.store.get(next(p for p in self.agenda if p.slot == slot).key)


def run_steered(
    tmp_path: Path,
    slots: list[tuple[str, float, PostKind]],
    *,
    end: float,
    host: Callable[[SteeredRun], None],
) -> tuple[bool, SteeredRun]:
    """Run an agenda of ``slots`` (seconds from now) to ``end`` seconds, with the console's
    command task, while ``host`` gives commands from another thread."""
    clock = SystemClock()
    start = clock.now()
    occurrence = Occurrence("steer", "2026-12-02", start, start + timedelta(seconds=end))
    agenda = [
        planned_post(occurrence.id, slot, start + timedelta(seconds=at), kind, tag="#Steer")
        for slot, at, kind in slots
    ]
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    commands = HostCommandsSql(store.engine)
    shown = io.StringIO()
    platform = ConsolePlatform(
        name="mastodon", clock=clock, zone=UTC, max_characters=500, stream=shown
    )
    stop = threading.Event()
    log = structlog.get_logger()
    steering = Steering(commands)
    publisher, task = command_task(
        store,
        platform,
        commands=commands,
        steering=steering,
        clock=clock,
        stop=stop,
        log=log,
        hashtag="#Steer",
        thread=False,
        grace=timedelta(minutes=1),
        poll=timedelta(milliseconds=50),
    )
    runner = OccurrenceRunner(
        publisher=publisher,
        clock=clock,
        stop_event=stop,
        log=log,
        companions=[task],
        steering=steering,
    )
    run = SteeredRun(store, commands, occurrence, agenda, shown, clock)
    hosting = threading.Thread(target=host, args=(run,))
    hosting.start()
    try:
        completed = runner.run(occurrence, agenda, until=occurrence.end)
    finally:
        stop.set()
        hosting.join(10)
    return completed, run


def test_an_edit_a_shift_and_an_early_end_reach_the_running_scheduler(tmp_path: Path) -> None:
    def host(run: SteeredRun) -> None:
        run.ask("edit", slot="q1", text="Q1, reworded by the hosts #Steer")
        run.ask("shift", minutes=SHIFT.total_seconds() / 60)
        wait_for(lambda: run.out("q1"), timeout=10, what="q1 out")
        run.ask("end")

    slots: list[tuple[str, float, PostKind]] = [
        ("q1", 2, "question"),
        ("q2", 8, "question"),
        ("closing", 12, "closing"),
    ]
    completed, run = run_steered(tmp_path, slots, end=6, host=host)

    assert completed
    agenda, store, shown = run.agenda, run.store, run.shown
    q1, q2, closing = (store.get(p.key) for p in agenda)
    assert q1 is not None
    assert q1.published_at is not None
    assert q1.published_at >= agenda[0].at + SHIFT - timedelta(milliseconds=100)
    assert q2 is not None
    assert (q2.state, q2.error) == ("missed", "the hosts ended the chat early")
    assert closing is not None
    assert closing.published_at is not None
    assert closing.published_at < agenda[2].at  # brought forward, not at its planned time
    assert "q2 #Steer" not in shown.getvalue()
    assert "Q1, reworded by the hosts #Steer" in shown.getvalue()
    assert "q1 #Steer" not in shown.getvalue()
    assert [c.state for c in run.commands.commands(run.occurrence.id)] == ["done", "done", "done"]
    store.close()


def test_next_sends_the_next_question_at_once_and_the_rest_keeps_its_times(
    tmp_path: Path,
) -> None:
    asked: list[float] = []

    def host(run: SteeredRun) -> None:
        wait_for(lambda: run.out("q1"), timeout=10, what="q1 out")
        asked.append(run.clock.now().timestamp())
        run.ask("next")
        wait_for(lambda: run.out("q2"), timeout=10, what="q2 out")
        run.ask("next")  # q3 now too: nothing is left to bring forward after it
        wait_for(lambda: run.out("q3"), timeout=10, what="q3 out")
        run.ask("next")

    slots: list[tuple[str, float, PostKind]] = [
        ("q1", 1, "question"),
        ("q2", 30, "question"),
        ("q3", 60, "question"),
        ("closing", 4, "closing"),
    ]
    completed, run = run_steered(tmp_path, slots, end=5, host=host)

    assert completed
    q2, q3, closing = (run.store.get(p.key) for p in run.agenda[1:])
    assert q2 is not None
    assert q2.published_at is not None
    # Within a second of the host's command, not 30 s in.
    assert q2.published_at.timestamp() - asked[0] < 1.5
    assert q3 is not None
    assert q3.published_at is not None
    assert q3.published_at < run.agenda[2].at - timedelta(seconds=50)
    assert closing is not None
    assert closing.published_at is not None
    # The closing kept its time: `next` moves one question, not the agenda.
    assert closing.published_at >= run.agenda[3].at - timedelta(milliseconds=100)
    printed = run.shown.getvalue()
    assert printed.index("q1 #Steer") < printed.index("q2 #Steer") < printed.index("q3 #Steer")
    outcomes = [(c.state, c.reason) for c in run.commands.commands(run.occurrence.id)]
    assert outcomes == [("done", None), ("done", None), ("refused", "every question has gone out")]
    run.store.close()
