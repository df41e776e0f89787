"""A small series written out by hand: three weekly occurrences, five people, a bot account
and one person who opted out, for the tests of the series' numbers and files."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.core.model import ArchivedPost
from bot.core.stats import SeriesStats, compute_series_stats
from bot.core.transcript import Question, Transcript, author_key, build_transcript
from tests.support.posts import BOT, person, post

ANA = person("ana", followers=100)
BEN = person("ben", followers=200)
CAM = person("cam", followers=300)  # opted out
DEE = person("dee", platform="x", followers=400)
EVE = person("eve", followers=500)
BOTTY = person("botty", followers=50, is_bot=True)
QUESTIONS = [
    Question(1, "Q1: How?", frozenset({("mastodon", "q1")})),
    Question(2, "Q2: Who?", frozenset({("mastodon", "q2")})),
]
OPTED_OUT = frozenset({author_key(CAM)})


def occurrence(day: str, posts: list[ArchivedPost]) -> Transcript:
    occurrence_id = f"hexichat/{day}"
    # The posts are written for 2026-12-02; earlier occurrences are as many days before.
    shift = timedelta(days=(date.fromisoformat(day) - date(2026, 12, 2)).days)
    asked = [
        post("q1", BOT, 5, "Q1: How?", own=True, question=1),
        post("q2", BOT, 13, "Q2: Who?", own=True, question=2),
    ]
    # Ids are per platform across the whole archive: each occurrence gets its own.
    stored = [
        replace(p, occurrence=occurrence_id, id=f"{day}-{p.id}", created_at=p.created_at + shift)
        for p in posts + asked
    ]
    questions = [
        replace(q, post_refs=frozenset((pl, f"{day}-{i}") for pl, i in q.post_refs))
        for q in QUESTIONS
    ]
    return build_transcript(occurrence_id, stored, questions, opted_out=OPTED_OUT)


def small_series() -> SeriesStats:
    first = occurrence(
        "2026-11-18",
        [
            post("a", ANA, 6, "A1 paper surveys in the waiting room", question=1, favourites=3),
            post("b", BEN, 7, "A1 paper surveys and comment cards", question=1),
            post("c", CAM, 14, "A2 the practice manager", question=2, favourites=50),
            post("d", BOTTY, 15, "A2 beep", question=2, favourites=40),
        ],
    )
    second = occurrence(
        "2026-11-25",
        [
            post("a", ANA, 6, "A1 paper surveys again", question=1),
            post("d", DEE, 7, "A1 paper surveys sent by text", question=1, favourites=10),
            post("r", BEN, 8, "so do we", question=1, reply_to="2026-11-25-a"),
        ],
    )
    third = occurrence(
        "2026-12-02",
        [
            post("a", ANA, 6, "A1 paper surveys, still", question=1, favourites=1),
            post("d", DEE, 14, "A2 a named lead", question=2),
            post("e", EVE, 15, "A2 the patient group", question=2, boosts=2),
        ],
    )
    return compute_series_stats([first, second, third])
