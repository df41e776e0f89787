"""The numbers of a series, worked out by hand on three small occurrences (see
tests/support/series.py)."""

from __future__ import annotations

from bot.core.stats import Attendance, compute_series_stats
from tests.support.series import small_series


def test_each_occurrence_is_a_line_with_new_and_returning_people() -> None:
    stats = small_series()

    assert [
        (o.date, o.participants, o.new_participants, o.returning_participants, o.posts, o.answers)
        for o in stats.occurrences
    ] == [
        ("2026-11-18", 4, 4, 0, 4, 4),
        ("2026-11-25", 3, 1, 2, 3, 2),
        ("2026-12-02", 3, 1, 2, 3, 3),
    ]
    assert [o.answers_per_question for o in stats.occurrences] == [
        ((1, 2), (2, 2)),
        ((1, 2), (2, 0)),
        ((1, 1), (2, 2)),
    ]


def test_series_totals_count_each_person_once() -> None:
    stats = small_series()

    # Ana, Ben, Cam, the bot account, Dee and Eve: opted out and bots are counted.
    assert stats.participants == 6
    assert (stats.posts, stats.answers) == (10, 9)
    assert stats.potential_reach == 100 + 200 + 300 + 50 + 400 + 500
    assert stats.mean_participants == 10 / 3


def test_attendance_tells_how_many_came_back() -> None:
    stats = small_series()

    # Ana came three times; Ben and Dee twice; Cam, the bot account and Eve once.
    assert stats.attendance == (Attendance(1, 3), Attendance(2, 2), Attendance(3, 1))
    assert stats.returning_participants == 3


def test_people_lists_name_neither_the_opted_out_nor_bots() -> None:
    stats = small_series()

    assert [(c.author.handle, c.count) for c in stats.regulars] == [
        ("@ana@example.social", 3),
        ("@ben@example.social", 2),
        ("@dee", 2),
        ("@eve@example.social", 1),
    ]
    assert [(c.author.handle, c.count) for c in stats.top_posters] == [
        ("@ana@example.social", 3),
        ("@ben@example.social", 2),
        ("@dee", 2),
        ("@eve@example.social", 1),
    ]
    # Ben's reply to Ana is the one reply received in the series.
    assert [(c.author.handle, c.count) for c in stats.top_replied] == [("@ana@example.social", 1)]


def test_most_engaged_posts_across_the_series() -> None:
    stats = small_series()

    # Cam's 50 favourites and the bot account's 40 do not name them.
    assert [(e.post.id, e.engagement) for e in stats.most_engaged] == [
        ("2026-11-25-d", 10),
        ("2026-11-18-a", 3),
        ("2026-12-02-e", 2),
        ("2026-11-25-a", 1),  # a reply received; on a tie the earlier post comes first
        ("2026-12-02-a", 1),
    ]
    assert [o.most_engaged.post.id if o.most_engaged else None for o in stats.occurrences] == [
        "2026-11-18-a",
        "2026-11-25-d",
        "2026-12-02-e",
    ]


def test_themes_come_from_what_every_occurrence_said() -> None:
    stats = small_series()

    assert "paper surveys" in stats.themes
    assert len(stats.themes) == len(set(stats.themes))


def test_an_empty_series_has_no_numbers() -> None:
    stats = compute_series_stats([])

    assert (stats.occurrences, stats.participants, stats.attendance, stats.themes) == (
        (),
        0,
        (),
        (),
    )
    assert stats.mean_participants == 0.0
