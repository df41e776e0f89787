"""Which question a post answers: reply chain, then An prefix, then the time window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.answers import (
    AnswerKey,
    AskedQuestion,
    answer_for,
    answer_windows,
    prefix_number,
    question_counts,
    window_question,
)
from tests.support.posts import BOT, person, post

T0 = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
KEY = AnswerKey(
    questions=(
        AskedQuestion(1, T0 + timedelta(minutes=5), "q1"),
        AskedQuestion(2, T0 + timedelta(minutes=15), "q2"),
        AskedQuestion(3, T0 + timedelta(minutes=25), None),  # not published yet
    ),
    closes_at=T0 + timedelta(minutes=55),
    other_posts=frozenset({"intro", "closing"}),
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_direct_reply_to_a_question_answers_it_whatever_it_says_or_when() -> None:
    answer = answer_for(KEY, text="A2 we survey", created_at=at(40), reply_chain=["q1"])
    assert answer == (1, "reply")


def test_a_reply_down_a_chain_answers_the_question_at_its_top() -> None:
    answer = answer_for(KEY, text="so true", created_at=at(20), reply_chain=["x", "y", "q1"])
    assert answer == (1, "reply")


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("A1 we use surveys", 1),
        ("a2: the practice manager", 2),
        ("A.2 nobody, sadly", 2),
        ("A 1 paper forms", 1),
        ("@host@example.social A2 the whole team", 2),
        ("#HEXIchat A1 friends and family test", 1),
        ("  A3) late answer", 3),
    ],
)
def test_a_prefix_names_the_question_in_any_of_its_spellings(text: str, number: int) -> None:
    answer = answer_for(KEY, text=text, created_at=at(50), reply_chain=[])
    assert answer == (number, "prefix")


def test_a_prefix_that_is_not_a_question_number_falls_back_to_the_window() -> None:
    text = "A 12 person team reads them"
    assert prefix_number(text) == 12
    assert prefix_number("A 2023 study says otherwise") is None  # a year, not a number
    assert answer_for(KEY, text=text, created_at=at(16), reply_chain=[]) == (2, "window")


def test_words_that_merely_start_with_a_are_not_prefixes() -> None:
    assert prefix_number("Absolutely, 2 of us agree") is None
    assert prefix_number("Any thoughts on 3?") is None


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (4.9, (None, None)),  # before Q1: introductions
        (5, (1, "window")),
        (14.99, (1, "window")),
        (15, (2, "window")),
        (30, (2, "window")),  # Q3 has not gone out: Q2's window is open until it does
        (55, (None, None)),  # the closing ends the last window
    ],
)
def test_the_window_runs_from_a_question_to_the_next(
    minutes: float, expected: tuple[int | None, str | None]
) -> None:
    assert answer_for(KEY, text="great chat", created_at=at(minutes), reply_chain=[]) == expected


def test_a_late_question_opens_its_window_when_it_goes_out() -> None:
    """Issue 12 item 19: Q2 planned at 15 min goes out 10 s late. Until then Q1's window is
    open (posts are filed under Q1 and the window holding them is Q1's); from then on, Q2's."""
    late = T0 + timedelta(minutes=15, seconds=10)
    key = replace(KEY, questions=(KEY.questions[0], AskedQuestion(2, late, "q2")))

    windows = answer_windows(key)

    assert [(w.number, w.start, w.stop) for w in windows] == [
        (1, at(5), late),
        (2, late, at(55)),
    ]
    for seconds, number in ((5, 1), (9.9, 1), (10, 2)):
        when = T0 + timedelta(minutes=15, seconds=seconds)
        assert window_question(key, when) == number
        [holding] = [w for w in windows if w.contains(when)]
        assert holding.number == number


def test_a_window_waiting_for_its_next_question_stays_open_and_paces_by_the_plan() -> None:
    """Issue 12 item 19: while Q3 (planned at 25 min) has not gone out, Q2's window paces its
    boosts up to the planned time and stays open after it, up to the closing."""
    [_, q2] = answer_windows(replace(KEY, questions=KEY.questions))

    assert (q2.start, q2.end, q2.stop) == (at(15), at(25), at(55))
    assert q2.contains(at(40))


def test_a_closing_not_out_yet_leaves_the_last_window_open_to_the_end_of_the_chat() -> None:
    """Issue 12 item 19: the closing (planned at 55 min) is late; the last question's window
    holds the posts until it goes out, and never past the chat's end (60 min)."""
    asked = replace(KEY, questions=KEY.questions[:2])
    waiting = replace(asked, open_until=at(60))

    assert window_question(waiting, at(57)) == 2
    assert window_question(waiting, at(60)) is None
    assert window_question(asked, at(57)) is None  # once out at 55 min, it closes there


def test_the_intro_opens_the_introductions_window_when_it_goes_out() -> None:
    key = replace(KEY, opens_at=at(1))

    assert [w.number for w in answer_windows(key)] == [0, 1, 2]
    assert answer_windows(key)[0].stop == at(5)
    assert window_question(key, at(2)) is None


def test_a_reply_to_the_intro_answers_no_question_unless_it_says_so() -> None:
    hello = answer_for(KEY, text="Hi, I'm a GP", created_at=at(16), reply_chain=["intro"])
    prefixed = answer_for(KEY, text="A2 the GP", created_at=at(16), reply_chain=["intro"])
    assert hello == (None, None)
    assert prefixed == (2, "prefix")


def test_counts_per_question_leave_the_bots_posts_out() -> None:
    alice, bob = person("alice"), person("bob")
    posts = [
        post("1", BOT, 5, question=1, own=True),
        replace(post("2", alice, 6, question=1), rule="prefix"),
        replace(post("3", bob, 7, question=1), rule="reply"),
        replace(post("4", bob, 8, question=1), rule="prefix"),
        post("5", alice, 1),
    ]
    counts = question_counts(posts)
    assert [(c.question, c.total, c.by_rule) for c in counts] == [
        (1, 3, (("prefix", 2), ("reply", 1))),
        (None, 1, (("none", 1),)),
    ]
