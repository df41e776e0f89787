"""The runner follows the hosts' commands while it runs: a question goes out as edited, the
scheduler's jobs move with a shift, and an early end drops the questions left and sends the
closing at once. Real time
(APScheduler's), a few seconds; the posts printed by the console platform, the ledger read."""

from __future__ import annotations

import io
import threading
from datetime import UTC, timedelta
from pathlib import Path

import structlog

from bot.adapters.commands_sql import HostCommandsSql
from bot.adapters.console import ConsolePlatform
from bot.adapters.store_curation import CurationSql
from bot.adapters.store_sql import SqlStore
from bot.bootstrap import open_archive
from bot.core.agenda import Occurrence, PlannedPost, PostKind
from bot.core.steering import HostCommand
from bot.runtime.clock import SystemClock
from bot.runtime.host_commands import HostCommandTask
from bot.runtime.publisher import PostPublisher
from bot.runtime.runner import OccurrenceRunner
from bot.runtime.steering import Steering
from tests.support.console import planned_post, wait_for

SHIFT = timedelta(seconds=2)


def test_an_edit_a_shift_and_an_early_end_reach_the_running_scheduler(tmp_path: Path) -> None:
    clock = SystemClock()
    start = clock.now()
    occurrence = Occurrence("steer", "2026-12-02", start, start + timedelta(seconds=6))

    def planned(slot: str, seconds: float, kind: PostKind) -> PlannedPost:
        at = start + timedelta(seconds=seconds)
        return planned_post(occurrence.id, slot, at, kind, tag="#Steer")

    agenda = [planned("q1", 2, "question"), planned("q2", 8, "question")]
    agenda.append(planned("closing", 12, "closing"))
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    commands = HostCommandsSql(store.engine)
    shown = io.StringIO()
    platform = ConsolePlatform(
        name="mastodon", clock=clock, zone=UTC, max_characters=500, stream=shown
    )
    stop = threading.Event()
    log = structlog.get_logger()
    publisher = PostPublisher(
        ledger=store,
        platforms={"mastodon": platform},
        clock=clock,
        grace=timedelta(minutes=1),
        stop_event=stop,
        log=log,
    )
    steering = Steering(commands)
    task = HostCommandTask(
        hashtag="#Steer",
        thread=False,
        commands=commands,
        steering=steering,
        publisher=publisher,
        platforms={"mastodon": platform},
        ledger=store,
        curation=CurationSql(store.engine),
        archive=open_archive(store),
        clock=clock,
        stop_event=stop,
        log=log,
        linger=timedelta(0),
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

    def ask(kind: str, **fields: object) -> None:
        commands.add(
            HostCommand(0, occurrence.id, kind, "Ana", clock.now(), **fields)  # type: ignore[arg-type]
        )

    def host() -> None:
        ask("edit", slot="q1", text="Q1, reworded by the hosts #Steer")
        ask("shift", minutes=SHIFT.total_seconds() / 60)
        wait_for(lambda: store.get(agenda[0].key), timeout=10, what="q1 out")
        ask("end")

    hosting = threading.Thread(target=host)
    hosting.start()
    try:
        completed = runner.run(occurrence, agenda, until=occurrence.end)
    finally:
        stop.set()
        hosting.join(10)

    assert completed
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
    assert [c.state for c in commands.commands(occurrence.id)] == ["done", "done", "done"]
    store.close()
