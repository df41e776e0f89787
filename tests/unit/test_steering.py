"""The agenda as hosts steer it: shifts, pauses, the next question now and edits, replayed
from the commands done, and the commands refused once their moment has passed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.agenda import Occurrence, PlannedPost, PostKind
from bot.core.steering import HostCommand, refusal, steer
from tests.support.console import planned_post

T0 = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
OCC = Occurrence("hexichat", "2026-12-02", T0, T0 + timedelta(hours=1))


def post(slot: str, minute: int, kind: PostKind = "question") -> PlannedPost:
    return planned_post(OCC.id, slot, T0 + timedelta(minutes=minute), kind)


AGENDA = [post("intro", 0, "intro"), post("q1", 5), post("q2", 15), post("q3", 25)]


def done(n: int, kind: str, minute: float, **fields: object) -> HostCommand:
    at = T0 + timedelta(minutes=minute)
    return HostCommand(
        id=n,
        occurrence=OCC.id,
        kind=kind,  # type: ignore[arg-type]
        by="ana",
        created_at=at,
        state="done",
        done_at=at,
        **fields,  # type: ignore[arg-type]
    )


def times(posts: tuple[PlannedPost, ...]) -> dict[str, float]:
    return {p.slot: (p.at - T0).total_seconds() / 60 for p in posts}


def test_a_shift_moves_only_the_posts_still_ahead() -> None:
    steered = steer(AGENDA, [done(1, "shift", 10, minutes=3)])
    assert times(steered.posts) == {"intro": 0, "q1": 5, "q2": 18, "q3": 28}


def test_a_rehearsal_shifts_by_chat_minutes_at_its_speed() -> None:
    steered = steer(AGENDA, [done(1, "shift", 10, minutes=6)], speed=60)
    assert times(steered.posts)["q2"] == 15.1


def test_a_shift_earlier_never_goes_into_the_past() -> None:
    steered = steer(AGENDA, [done(1, "shift", 10, minutes=-8)])
    assert times(steered.posts) == {"intro": 0, "q1": 5, "q2": 10, "q3": 17}


def test_a_pause_holds_the_rest_and_a_resume_moves_it_by_the_pause() -> None:
    paused = steer(AGENDA, [done(1, "pause", 10)])
    assert paused.paused
    assert [p.slot for p in paused.held] == ["q2", "q3"]
    assert times(paused.posts) == {"intro": 0, "q1": 5}

    resumed = steer(AGENDA, [done(1, "pause", 10), done(2, "resume", 17)])
    assert not resumed.paused
    assert resumed.held == ()
    assert times(resumed.posts) == {"intro": 0, "q1": 5, "q2": 22, "q3": 32}


def test_the_next_question_now_and_an_edit() -> None:
    steered = steer(AGENDA, [done(1, "next", 7), done(2, "edit", 8, slot="q3", text="Q3 new")])
    assert times(steered.posts) == {"intro": 0, "q1": 5, "q2": 7, "q3": 25}
    assert [p.text for p in steered.posts if p.slot == "q3"] == ["Q3 new"]


def test_pending_and_refused_commands_change_nothing() -> None:
    pending = replace(done(1, "shift", 10, minutes=3), state="pending")
    refused = replace(done(2, "pause", 10), state="refused")
    assert steer(AGENDA, [pending, refused]).posts == tuple(AGENDA)


def test_commands_after_their_moment_are_refused_with_the_reason() -> None:
    now = T0 + timedelta(minutes=26)
    over = steer(AGENDA, [])
    assert refusal(done(1, "shift", 26, minutes=5), over, now=now) == (
        "every post of the agenda has gone out: nothing is left to move"
    )
    assert refusal(done(1, "next", 26), over, now=now) == "every question has gone out"
    assert refusal(done(1, "edit", 26, slot="q2", text="x"), over, now=now) == (
        "q2 has gone out already"
    )
    assert refusal(done(1, "resume", 26), over, now=now) == "the agenda is not paused"
    paused = steer(AGENDA, [done(1, "pause", 10)])
    later = T0 + timedelta(minutes=11)
    assert refusal(done(2, "pause", 11), paused, now=later) == "the agenda is paused already"
    assert refusal(done(2, "next", 11), paused, now=later) == (
        "the agenda is paused: resume it first"
    )
    assert refusal(done(2, "edit", 11, slot="q3", text="x"), paused, now=later) is None


def test_an_early_end_drops_the_questions_ahead_and_brings_the_closing_now() -> None:
    agenda = [*AGENDA, post("closing", 35, "closing")]
    steered = steer(agenda, [done(1, "end", 12)])
    assert times(steered.posts) == {"intro": 0, "q1": 5, "closing": 12}
    assert [p.slot for p in steered.dropped] == ["q2", "q3"]
    # Ended while paused: what was held is dropped or brought forward too.
    paused = steer(agenda, [done(1, "pause", 10), done(2, "end", 12)])
    assert (paused.paused, paused.held) == (False, ())
    assert times(paused.posts) == {"intro": 0, "q1": 5, "closing": 12}
    over = T0 + timedelta(minutes=13)
    assert refusal(done(3, "end", 13), steered, now=over) == (
        "the chat is over already: no question or closing is left to post"
    )
