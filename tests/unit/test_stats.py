"""The numbers of an occurrence, worked out by hand on a small chat."""

from __future__ import annotations

from datetime import timedelta

from bot.core.stats import LinkCount, Stats, compute_stats
from bot.core.transcript import Question, author_key, build_transcript
from tests.support.posts import BOT, OCCURRENCE, START, person, post

ANA = person("ana", followers=100)
BEN = person("ben", followers=200)
CAM = person("cam", followers=300)  # opted out
DEE = person("dee", platform="x", followers=400)
BOTTY = person("botty", followers=50, is_bot=True)
QUESTIONS = [
    Question(1, "Q1: How?", frozenset({("mastodon", "q1")})),
    Question(2, "Q2: Who?", frozenset({("mastodon", "q2")})),
]


def small_chat() -> Stats:
    posts = [
        post("q1", BOT, 5, "Q1: How?", own=True, question=1),
        post("q2", BOT, 13, "Q2: Who?", own=True, question=2),
        post(
            "a1",
            ANA,
            6,
            "A1 paper surveys, see https://example.org/guide.",
            question=1,
            favourites=5,
            boosts=1,
        ),
        post("a1b", BEN, 6.5, "A1 comment cards", question=1, favourites=2),
        post(
            "r1", CAM, 7, "same: https://example.org/guide", question=1, reply_to="a1", favourites=9
        ),
        post("r2", ANA, 7.5, "thanks Cam", question=1, reply_to="r1"),
        post("r3", ANA, 8, "and the website", question=1, reply_to="a1"),  # to herself
        post("a2", DEE, 14, "A2 the practice manager", question=2, replies=4),
        post("a2b", BOTTY, 14.5, "A2 beep", question=2, favourites=50),
        post("c", CAM, 20, "lost my wifi"),
    ]
    transcript = build_transcript(OCCURRENCE, posts, QUESTIONS, opted_out={author_key(CAM)})
    return compute_stats(transcript, earlier_authors={author_key(ANA)})


def test_counts_of_people_posts_and_answers() -> None:
    stats = small_chat()

    assert (stats.participants, stats.posts, stats.answers) == (5, 8, 4)
    assert (stats.new_participants, stats.returning_participants) == (4, 1)
    # An estimate from the followers of everyone, opted out and bots included.
    assert stats.potential_reach == 100 + 200 + 300 + 400 + 50


def test_per_question_answers_replies_and_people() -> None:
    q1, q2 = small_chat().questions

    assert (q1.number, q1.heading, q1.answers, q1.replies, q1.participants) == (
        1,
        "Q1: How?",
        2,
        3,
        3,
    )
    assert (q2.answers, q2.replies, q2.participants) == (2, 0, 2)
    assert q1.asked_at == START + timedelta(minutes=5)


def test_top_contributors_leave_out_the_opted_out_and_bots() -> None:
    stats = small_chat()

    assert [(c.author.handle, c.count) for c in stats.top_posters] == [
        ("@ana@example.social", 3),
        ("@ben@example.social", 1),
        ("@dee", 1),
    ]
    # Ana's reply to her own answer is no reply received; the platform's count of Dee's
    # replies (4, none captured) is larger than the archive's.
    assert [(c.author.handle, c.count) for c in stats.top_replied] == [
        ("@dee", 4),
        ("@ana@example.social", 1),
    ]


def test_most_engaged_answers_and_each_questions_top_answer() -> None:
    stats = small_chat()

    assert [(e.post.id, e.engagement) for e in stats.most_engaged] == [
        ("a1", 5 + 1 + 1),
        ("a2", 4),
        ("a1b", 2),
    ]
    # The bot account's 50 favourites do not make it Q2's top answer.
    assert [q.top_answer.post.id if q.top_answer else None for q in stats.questions] == [
        "a1",
        "a2",
    ]


def test_links_are_counted_without_sentence_punctuation() -> None:
    stats = small_chat()

    assert stats.links == (LinkCount("https://example.org/guide", 2),)
    assert stats.links_shared == 2


def test_posts_per_minute_cover_quiet_minutes_from_the_first_question() -> None:
    stats = small_chat()

    counts = {
        int((m.minute - START).total_seconds() // 60): m.posts for m in stats.posts_per_minute
    }
    assert list(counts) == list(range(5, 21))
    assert {m: n for m, n in counts.items() if n} == {6: 2, 7: 2, 8: 1, 14: 2, 20: 1}
    assert stats.peak_posts_per_minute == 2


def test_an_empty_occurrence_has_zeros_and_no_chart() -> None:
    stats = compute_stats(build_transcript(OCCURRENCE, [], QUESTIONS))

    assert (stats.participants, stats.posts, stats.answers, stats.potential_reach) == (0, 0, 0, 0)
    assert stats.posts_per_minute == ()
    assert [q.themes for q in stats.questions] == [(), ()]


def test_themes_are_each_questions_own_key_phrases_not_the_chats_shared_subject() -> None:
    topics = {
        1: ["paper surveys", "comment cards", "paper surveys in the waiting room"],
        2: ["older patients", "carers", "older patients without internet"],
        3: ["practice manager", "monthly meetings", "the practice manager decides"],
    }
    forms = [
        "A{n} Honestly, {phrase} for us. Patient feedback is key. #HEXIchat",
        "A{n} We rely on {phrase}; patient feedback drives it #HEXIchat",
        "Agreed, {phrase}. Without patient feedback we are blind.",
    ]
    people = [person(f"p{i}") for i in range(6)]
    posts = []
    for n, phrases in topics.items():
        for i, (phrase, form) in enumerate((p, f) for p in phrases for f in forms):
            text = form.format(n=n, phrase=phrase)
            posts.append(
                post(f"{n}-{i}", people[i % 6], 5 + 8 * (n - 1) + i / 10, text, question=n)
            )
    questions = [Question(n, f"Q{n}") for n in topics]

    themes = {
        q.number: q.themes
        for q in compute_stats(build_transcript(OCCURRENCE, posts, questions)).questions
    }

    assert [t for t in themes[1] if "paper surveys" in t]
    assert [t for t in themes[2] if "older patients" in t]
    assert [t for t in themes[3] if "practice manager" in t]
    every = [phrase for phrases in themes.values() for phrase in phrases]
    assert not [p for p in every if "patient feedback" in p or "hexichat" in p or "honestly" in p]


def test_one_very_long_post_is_read_only_up_to_the_theme_budget() -> None:
    """A stranger's 300 KB post took YAKE 11 s per question: what lies past the budget
    (15 000 characters) is not read, so it cannot become a theme."""
    text = "A1 paper surveys in the waiting room. " * 500 + "zebra crossings matter. " * 2000
    posts = [post("long", person("ana"), 6, text, question=1)]

    [q1, _] = compute_stats(build_transcript(OCCURRENCE, posts, QUESTIONS)).questions

    assert [t for t in q1.themes if "paper surveys" in t]
    assert not [t for t in q1.themes if "zebra" in t]
