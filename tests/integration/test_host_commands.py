"""The worker's side of the hosts' commands, on each kind of database: each command is done
once or refused with its reason on the row, as the page shows it."""

from __future__ import annotations

import io
import threading
from datetime import UTC, timedelta
from typing import Any

import structlog
from structlog.testing import capture_logs

from bot.adapters.commands_sql import HostCommandsSql
from bot.adapters.console import ConsolePlatform
from bot.adapters.store_curation import CurationSql
from bot.adapters.store_sql import SqlStore
from bot.bootstrap import open_archive
from bot.core.agenda import Occurrence, PlannedPost, PostKind
from bot.core.steering import CommandKind, HostCommand
from bot.ports.curation import BoostDecision
from bot.ports.posting import Published
from bot.runtime.host_commands import HostCommandTask
from bot.runtime.steering import Steering
from tests.support.clock import ManualClock
from tests.support.console import command_task, planned_post
from tests.support.posts import OCCURRENCE, START, person, post

GRACE = timedelta(minutes=5)
OCC = Occurrence("hexichat", "2026-12-02", START, START + timedelta(hours=1))


def planned(
    slot: str, minute: int, kind: PostKind, replies_to: tuple[str, ...] = ()
) -> PlannedPost:
    return planned_post(
        OCCURRENCE, slot, START + timedelta(minutes=minute), kind, replies_to=replies_to
    )


INTRO = planned("intro", 0, "intro")
Q1 = planned("q1", 5, "question", (INTRO.key,))
Q2 = planned("q2", 15, "question", (Q1.key, INTRO.key))
AGENDA = [INTRO, Q1, Q2]


def rig(
    store: SqlStore, clock: ManualClock, shown: io.StringIO
) -> tuple[HostCommandTask, Steering]:
    platform = ConsolePlatform(
        name="mastodon", clock=clock, zone=UTC, max_characters=500, stream=shown
    )
    for out in (INTRO, Q1):
        store.claim(
            out.key, occurrence=OCCURRENCE, platform="mastodon", planned_at=out.at, now=out.at
        )
        store.record(
            out.key, Published(f"id-{out.slot}", f"https://x.example/{out.slot}"), now=out.at
        )
    stop = threading.Event()
    log: Any = structlog.get_logger()
    commands = HostCommandsSql(store.engine)
    steering = Steering(commands)
    steering.begin(OCC, AGENDA)
    _, task = command_task(
        store,
        platform,
        commands=commands,
        steering=steering,
        clock=clock,
        stop=stop,
        log=log,
        hashtag="#HEXIchat",
        thread=True,
        grace=GRACE,
    )
    return task, steering


def ask(store: SqlStore, clock: ManualClock, kind: CommandKind, **fields: Any) -> HostCommand:
    command = HostCommand(
        id=0,
        occurrence=OCCURRENCE,
        kind=kind,
        by="Ana",
        created_at=clock.now(),
        **fields,
    )
    return HostCommandsSql(store.engine).add(command)


def outcomes(store: SqlStore) -> list[tuple[str, str, str | None]]:
    return [(c.kind, c.state, c.reason) for c in HostCommandsSql(store.engine).commands(OCCURRENCE)]


def test_commands_after_their_moment_are_refused_with_the_reason(store: SqlStore) -> None:
    clock = ManualClock(START + timedelta(minutes=10))
    shown = io.StringIO()
    task, steering = rig(store, clock, shown)
    ask(store, clock, "edit", slot="q1", text="Q1 reworded #HEXIchat")
    ask(store, clock, "resume")
    ask(store, clock, "boost", platform="mastodon", post_id="p1")
    ask(store, clock, "pause")
    ask(store, clock, "pause")

    task.tick(OCC)

    assert outcomes(store) == [
        ("edit", "refused", "q1 has gone out already"),
        ("resume", "refused", "the agenda is not paused"),
        ("boost", "refused", "the bot cannot boost on mastodon"),
        ("pause", "done", None),
        ("pause", "refused", "the agenda is paused already"),
    ]
    _, steered = steering.current()
    assert [p.slot for p in steered.held] == ["q2"]
    task.tick(OCC)  # settled rows are not looked at again
    assert len(outcomes(store)) == 5


def test_a_host_post_goes_into_the_thread_once_and_a_late_one_is_refused(store: SqlStore) -> None:
    clock = ManualClock(START + timedelta(minutes=10))
    shown = io.StringIO()
    task, _ = rig(store, clock, shown)
    stale = ask(store, clock, "host_post", text="Said long ago")
    clock.advance(minutes=6)  # past the grace: the worker was away
    ask(store, clock, "host_post", text="Half time, thank you all")

    task.tick(OCC)
    task.tick(OCC)

    assert outcomes(store) == [
        ("host_post", "refused", "it came too late: the worker was away past the grace"),
        ("host_post", "done", None),
    ]
    assert "Said long ago" not in shown.getvalue()
    assert shown.getvalue().count("Half time, thank you all #HEXIchat") == 1
    assert "(reply to id-q1)" in shown.getvalue()  # under the latest question out
    assert store.get(f"{OCCURRENCE}/host-{stale.id}/mastodon").state == "missed"  # type: ignore[union-attr]


def test_a_shift_moves_what_is_ahead_for_the_runner(store: SqlStore) -> None:
    clock = ManualClock(START + timedelta(minutes=10))
    task, steering = rig(store, clock, io.StringIO())
    version, _ = steering.current()
    ask(store, clock, "shift", minutes=3)

    task.tick(OCC)

    later, steered = steering.current()
    assert later > version
    assert {p.slot: p.at - START for p in steered.posts} == {
        "intro": timedelta(0),
        "q1": timedelta(minutes=5),
        "q2": timedelta(minutes=18),
    }
    # A worker that starts now finds the same agenda.
    _, replayed = Steering(HostCommandsSql(store.engine)).begin(OCC, AGENDA)
    assert replayed.posts == steered.posts
    # The wrap-up waits as much longer; while the agenda is paused, it cannot tell.
    assert steering.delay() == timedelta(minutes=3)
    ask(store, clock, "pause")
    task.tick(OCC)
    assert steering.delay() is None


def test_a_skipped_post_is_never_boosted_and_says_who_skipped_it(store: SqlStore) -> None:
    clock = ManualClock(START + timedelta(minutes=10))
    task, _ = rig(store, clock, io.StringIO())
    open_archive(store).save(post("p1", person("ana"), 6, "A1 mine", question=1), now=START)
    CurationSql(store.engine).save_decision(
        BoostDecision(OCCURRENCE, "mastodon", "p1", "mastodon:id-ana", 1, "scored", START, 4.0)
    )
    ask(store, clock, "skip", platform="mastodon", post_id="p1")
    ask(store, clock, "skip", platform="mastodon", post_id="gone")
    ask(store, clock, "boost", platform="mastodon", post_id="p1")

    task.tick(OCC)

    assert outcomes(store)[:2] == [
        ("skip", "done", None),
        ("skip", "refused", "not a post of this chat (deleted, or never captured)"),
    ]
    # The curator's boost key is closed: no tick of any worker boosts it.
    entry = store.get(f"{OCCURRENCE}/boost/mastodon/p1")
    assert entry is not None
    assert (entry.state, entry.error) == ("missed", "skipped by Ana")
    assert outcomes(store)[2] == ("boost", "refused", "the bot cannot boost on mastodon")


def test_an_early_end_closes_the_questions_left_in_the_ledger(store: SqlStore) -> None:
    clock = ManualClock(START + timedelta(minutes=10))
    task, steering = rig(store, clock, io.StringIO())
    ask(store, clock, "end")

    task.tick(OCC)

    assert outcomes(store) == [("end", "done", None)]
    entry = store.get(Q2.key)
    assert entry is not None
    assert (entry.state, entry.error) == ("missed", "the hosts ended the chat early")
    _, steered = steering.current()
    assert [p.slot for p in steered.dropped] == ["q2"]
    # The wrap-up comes as much earlier as the agenda now ends (q1, 10 minutes sooner).
    assert steering.delay() == -timedelta(minutes=10)


def test_a_pause_never_resumed_ends_the_chat_after_the_limit(store: SqlStore) -> None:
    clock = ManualClock(START + timedelta(minutes=10))
    task, steering = rig(store, clock, io.StringIO())
    ask(store, clock, "pause")
    task.tick(OCC)
    assert steering.delay() is None  # paused: the run, capture and wrap-up wait

    clock.advance(hours=2, minutes=59)
    task.tick(OCC)
    assert outcomes(store) == [("pause", "done", None)]
    clock.advance(minutes=1)
    with capture_logs() as logs:
        task.tick(OCC)
        task.tick(OCC)  # asked for once

    commands = HostCommandsSql(store.engine).commands(OCCURRENCE)
    assert [(c.kind, c.state, c.by) for c in commands] == [
        ("pause", "done", "Ana"),
        ("end", "done", "tweetchat: paused past the limit (3h)"),
    ]
    expired = [line for line in logs if line["event"] == "console.pause_expired"]
    assert [line["max_pause"] for line in expired] == ["3h"]
    entry = store.get(Q2.key)
    assert entry is not None
    assert (entry.state, entry.error) == ("missed", "the hosts ended the chat early")
    _, steered = steering.current()
    assert not steered.paused
    assert steering.delay() is not None  # the end is known again: the run can finish
