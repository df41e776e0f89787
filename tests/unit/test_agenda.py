from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.agenda import (
    PlannedPost,
    build_agenda,
    compress,
    next_occurrence,
    occurrence_at,
)
from bot.core.config import ChatConfig
from tests.support.config_text import BASE, chat_config

LONDON = ZoneInfo("Europe/London")
LINGER = timedelta(minutes=1)


def _agenda(config: ChatConfig) -> dict[str, PlannedPost]:
    occurrence = next_occurrence(config, datetime(2026, 11, 1, tzinfo=UTC), linger=LINGER)
    return {post.slot: post for post in build_agenda(config, occurrence)}


def test_keys_are_chat_date_slot_platform_in_time_order() -> None:
    config = chat_config()
    occurrence = occurrence_at(config, datetime(2026, 12, 2, 20, 0))

    agenda = build_agenda(config, occurrence)

    assert [post.key for post in agenda] == [
        "hexichat/2026-12-02/reminder-1d/mastodon",
        "hexichat/2026-12-02/intro/mastodon",
        *(f"hexichat/2026-12-02/q{n}/mastodon" for n in range(1, 7)),
        "hexichat/2026-12-02/closing/mastodon",
    ]
    assert [post.at for post in agenda] == sorted(post.at for post in agenda)
    assert agenda[0].at == datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # London is on GMT
    assert agenda[-1].at == datetime(2026, 12, 2, 20, 55, tzinfo=UTC)
    assert {post.occurrence for post in agenda} == {"hexichat/2026-12-02"}


def test_questions_are_numbered_q1_to_qn_in_file_order() -> None:
    agenda = build_agenda(chat_config(), occurrence_at(chat_config(), datetime(2026, 12, 2, 20)))
    questions = [post for post in agenda if post.kind == "question"]

    assert [post.number for post in questions] == [1, 2, 3, 4, 5, 6]
    assert [post.text for post in questions] == [
        f"Q{n}: Question number {n}? #HEXIchat" for n in range(1, 7)
    ]


def test_a_question_prefix_of_the_hosts_own() -> None:
    posts = _agenda(chat_config(posts={"question_prefix": "Question {n} of 6 -"}))
    assert posts["q2"].text == "Question 2 of 6 - Question number 2? #HEXIchat"


@pytest.mark.parametrize(
    ("written", "posted"),
    [
        ("Welcome!", "Welcome! #HEXIchat"),
        ("Welcome to #HEXIchat!", "Welcome to #HEXIchat!"),
        ("Welcome to #hexichat!", "Welcome to #hexichat!"),  # tags ignore case
        ("Welcome to {hashtag}!", "Welcome to #HEXIchat!"),
        ("Last week was #HEXIchat2", "Last week was #HEXIchat2 #HEXIchat"),  # another tag
    ],
)
def test_the_hashtag_is_appended_only_when_missing(written: str, posted: str) -> None:
    posts = _agenda(chat_config(posts={"intro": {"text": written}}))
    assert posts["intro"].text == posted


def test_placeholders_are_filled_with_the_local_date_and_time() -> None:
    text = "{title} on {date} at {time}"
    posts = _agenda(chat_config(posts={"reminders": [{"before": "1h", "text": text}]}))
    assert posts["reminder-1h"].text == (
        "Patient experience in primary care on 2 December 2026 at 20:00 GMT #HEXIchat"
    )


def test_a_thread_replies_to_the_nearest_earlier_post() -> None:
    config = chat_config()
    agenda = build_agenda(config, occurrence_at(config, datetime(2026, 12, 2, 20)))
    by_slot = {post.slot: post for post in agenda}
    thread = [by_slot[s] for s in ("intro", "q1", "q2", "q3", "q4", "q5", "q6", "closing")]

    assert by_slot["reminder-1d"].replies_to == ()
    assert thread[0].replies_to == ()
    for i, post in enumerate(thread[1:], start=1):
        # Nearest first: if q2 was missed, q3 still replies to q1.
        assert post.replies_to == tuple(p.key for p in reversed(thread[:i]))


def test_without_thread_every_post_stands_alone() -> None:
    posts = _agenda(chat_config(posts={"thread": False}))
    assert all(post.replies_to == () for post in posts.values())


WEEKLY = chat_config(chat={"start": None, "every": "wednesday 20:00"})


@pytest.mark.parametrize(
    ("now", "date", "utc_start"),
    [
        # October: London leaves summer time on Sunday 25 October 2026.
        (datetime(2026, 10, 19, 12, tzinfo=UTC), "2026-10-21", datetime(2026, 10, 21, 19, 0)),
        (datetime(2026, 10, 22, 12, tzinfo=UTC), "2026-10-28", datetime(2026, 10, 28, 20, 0)),
        # March: summer time starts on Sunday 28 March 2027.
        (datetime(2027, 3, 22, 12, tzinfo=UTC), "2027-03-24", datetime(2027, 3, 24, 20, 0)),
        (datetime(2027, 3, 25, 12, tzinfo=UTC), "2027-03-31", datetime(2027, 3, 31, 19, 0)),
    ],
)
def test_a_weekly_series_keeps_its_local_time_across_clock_changes(
    now: datetime, date: str, utc_start: datetime
) -> None:
    occurrence = next_occurrence(WEEKLY, now, linger=LINGER)

    assert occurrence.date == date
    assert occurrence.start == utc_start.replace(tzinfo=UTC)
    local = occurrence.start.astimezone(LONDON)
    assert (local.weekday(), local.hour, local.minute) == (2, 20, 0)
    assert occurrence.end - occurrence.start == timedelta(hours=1)
    agenda = build_agenda(WEEKLY, occurrence)
    assert agenda[0].key == f"hexichat/{date}/reminder-1d/mastodon"


def test_a_chat_over_a_clock_change_lasts_as_long_as_it_says() -> None:
    # 00:30 local on the night the clocks go back: 01:00-02:00 happens twice.
    config = chat_config(chat={"start": "2026-10-25 00:30", "duration": "2h"})
    occurrence = next_occurrence(config, datetime(2026, 10, 1, tzinfo=UTC), linger=LINGER)

    assert occurrence.end - occurrence.start == timedelta(hours=2)
    closing = build_agenda(config, occurrence)[-1]
    assert closing.at - occurrence.start == timedelta(minutes=55)


def test_the_current_occurrence_is_kept_until_its_end_and_linger() -> None:
    this_week = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # Wednesday, GMT
    end = this_week + timedelta(hours=1)

    def date_at(now: datetime) -> str:
        return next_occurrence(WEEKLY, now, linger=LINGER).date

    assert date_at(this_week - timedelta(days=1)) == "2026-12-02"
    assert date_at(this_week + timedelta(minutes=30)) == "2026-12-02"  # a restart mid-chat
    assert date_at(end + LINGER - timedelta(seconds=1)) == "2026-12-02"
    assert date_at(end + LINGER) == "2026-12-09"
    assert date_at(this_week + timedelta(days=6)) == "2026-12-09"


def test_a_single_chat_is_its_start_whatever_the_time() -> None:
    config = chat_config()
    later = next_occurrence(config, datetime(2027, 6, 1, tzinfo=UTC), linger=LINGER)
    assert later.date == "2026-12-02"
    assert later.start == datetime(2026, 12, 2, 20, 0, tzinfo=UTC)


def test_compress_replays_the_chat_from_now_faster() -> None:
    config = chat_config()
    agenda = build_agenda(config, occurrence_at(config, datetime(2026, 12, 2, 20)))
    origin = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)

    rehearsal = compress(agenda, origin=origin, speed=60)

    offsets = {post.slot: (post.at - origin).total_seconds() for post in rehearsal}
    # Reminders are shown first, just before the intro, which starts the chat at the origin.
    assert [post.slot for post in rehearsal][:2] == ["reminder-1d", "intro"]
    assert -1 < offsets["reminder-1d"] < 0
    assert offsets["intro"] == 0
    questions = BASE["posts"]["questions"]
    for n, question in enumerate(questions, start=1):
        minutes = int(question["at"].removesuffix("m"))
        assert offsets[f"q{n}"] == pytest.approx(minutes * 60 / 60)
    assert offsets["closing"] == pytest.approx(55)
    # Only the times change: keys, texts and threads stay those of the real chat.
    assert [(p.key, p.text, p.replies_to) for p in sorted(rehearsal, key=lambda p: p.key)] == [
        (p.key, p.text, p.replies_to) for p in sorted(agenda, key=lambda p: p.key)
    ]


def test_compress_keeps_reminders_in_order_and_every_time_distinct() -> None:
    config = chat_config(
        posts={
            "reminders": [
                {"before": "1h", "text": "In an hour"},
                {"before": "1d", "text": "Tomorrow"},
                {"before": "10m", "text": "Soon"},
            ]
        }
    )
    agenda = build_agenda(config, occurrence_at(config, datetime(2026, 12, 2, 20)))
    origin = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)

    rehearsal = compress(agenda, origin=origin, speed=3600)

    assert [post.slot for post in rehearsal][:4] == [
        "reminder-1d",
        "reminder-1h",
        "reminder-10m",
        "intro",
    ]
    assert len({post.at for post in rehearsal}) == len(rehearsal)
