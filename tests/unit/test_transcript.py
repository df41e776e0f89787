"""Grouping an occurrence's posts by question, replies under what they reply to."""

from __future__ import annotations

from dataclasses import replace

from bot.core.agenda import PlannedPost, build_agenda, occurrence_at
from bot.core.configfile import parse_config
from bot.core.model import ArchivedPost
from bot.core.stats import compute_stats
from bot.core.transcript import (
    CLOSING_HEADING,
    OTHER_HEADING,
    Question,
    Transcript,
    author_key,
    build_transcript,
    closing_refs,
    post_ref,
    questions_from_agenda,
)
from tests.support.posts import BOT, OCCURRENCE, person, post

ANA, BEN, CAM = person("ana"), person("ben"), person("cam")
Q1 = Question(1, "Q1: How do you gather feedback?", frozenset({("mastodon", "q1")}))
Q2 = Question(2, "Q2: Who acts on it?", frozenset({("mastodon", "q2")}))


def shape(transcript: Transcript) -> list[tuple[str, list[tuple[int, str]]]]:
    """Each group's heading and its posts' ids with their depth, in reading order."""
    return [(g.heading, [(depth, e.post.id) for e, depth in g.walk()]) for g in transcript.groups]


def chat_posts() -> list[ArchivedPost]:
    return [
        post("intro", BOT, 0, "Welcome!", own=True),
        post("hi", ANA, 1, "Hi, Ana here", reply_to="intro"),
        post("q1", BOT, 5, "Q1: How do you gather feedback?", own=True, question=1),
        post("a1", ANA, 6, "A1 surveys", question=1),
        post("a1b", BEN, 7, "paper forms", question=1, reply_to="q1"),  # untagged reply
        post("r1", CAM, 8, "same here", question=1, reply_to="a1"),
        post("r2", ANA, 9, "thanks!", question=2, reply_to="r1"),  # a window says Q2
        post("q2", BOT, 13, "Q2: Who acts on it?", own=True, question=2),
        post("a2", BEN, 14, "A2 the manager", question=2),
        post("chat", CAM, 30, "lost my wifi"),
    ]


def test_questions_are_headings_with_answers_under_them_and_replies_nested() -> None:
    transcript = build_transcript(OCCURRENCE, chat_posts(), [Q1, Q2])

    assert shape(transcript) == [
        (Q1.text, [(0, "a1"), (1, "r1"), (2, "r2"), (0, "a1b")]),
        (Q2.text, [(0, "a2")]),
        (OTHER_HEADING, [(0, "intro"), (1, "hi"), (0, "chat")]),
    ]
    q1 = transcript.groups[0]
    assert [p.id for p in q1.question_posts] == ["q1"]
    assert q1.asked_at == post("q1", BOT, 5).created_at


def test_every_post_but_the_question_posts_appears_exactly_once() -> None:
    posts = chat_posts()
    transcript = build_transcript(OCCURRENCE, posts, [Q1, Q2])

    shown = [e.post.id for _, e, _ in transcript.rows()]
    assert sorted(shown) == sorted(p.id for p in posts if p.id not in ("q1", "q2"))


def test_a_question_without_answers_keeps_its_heading_and_other_posts_only_when_needed() -> None:
    transcript = build_transcript(OCCURRENCE, [post("a1", ANA, 6, "A1 yes", question=1)], [Q1, Q2])

    assert shape(transcript) == [(Q1.text, [(0, "a1")]), (Q2.text, [])]


def test_a_reply_whose_parent_was_deleted_stands_on_its_own_in_its_question() -> None:
    posts = [post("r1", CAM, 8, "same here", question=2, reply_to="gone")]

    assert shape(build_transcript(OCCURRENCE, posts, [Q1, Q2]))[1] == (Q2.text, [(0, "r1")])


def test_an_untagged_reply_to_a_question_post_belongs_to_that_question() -> None:
    # The archive could not tell (question None); the reply to the Q2 post says it all.
    posts = [post("q2", BOT, 13, own=True), post("x", ANA, 14, "the manager", reply_to="q2")]

    assert shape(build_transcript(OCCURRENCE, posts, [Q1, Q2]))[1] == (Q2.text, [(0, "x")])


def test_a_post_answering_an_unplanned_question_gets_a_group_of_its_own() -> None:
    transcript = build_transcript(OCCURRENCE, [post("a9", ANA, 50, "A9 hm", question=9)], [Q1])

    assert [(g.number, g.heading) for g in transcript.groups] == [(1, Q1.text), (9, "Q9")]


def test_replies_from_another_platform_never_attach_to_a_post_with_the_same_id() -> None:
    x_user = person("xena", platform="x")
    posts = [
        post("100", ANA, 6, "A1 on Mastodon", question=1),
        post("200", x_user, 7, "reply on X", question=1, reply_to="100"),  # X's own post 100
    ]

    assert shape(build_transcript(OCCURRENCE, posts, [Q1]))[0] == (
        Q1.text,
        [(0, "100"), (0, "200")],
    )


def test_a_reply_loop_from_a_broken_server_loses_no_post() -> None:
    posts = [
        post("a", ANA, 6, question=1, reply_to="c"),
        post("b", BEN, 7, question=1, reply_to="a"),
        post("c", CAM, 8, question=1, reply_to="b"),
        post("self", ANA, 9, question=1, reply_to="self"),
    ]

    shown = [e.post.id for _, e, _ in build_transcript(OCCURRENCE, posts, [Q1]).rows()]
    assert sorted(shown) == ["a", "b", "c", "self"]


def test_a_reply_chain_thousands_deep_is_built_and_walked_without_recursion() -> None:
    depth = 5000
    posts = [post("0", ANA, 6, question=1)]
    posts += [
        post(str(i), (ANA, BEN)[i % 2], 6 + i / 1000, question=1, reply_to=str(i - 1))
        for i in range(1, depth)
    ]

    walked = list(build_transcript(OCCURRENCE, posts, [Q1]).groups[0].walk())
    assert len(walked) == depth
    assert walked[-1][1] == depth - 1


def test_opted_out_people_keep_their_posts_but_lose_their_name() -> None:
    posts = chat_posts()
    transcript = build_transcript(
        OCCURRENCE, posts, [Q1, Q2], opted_out={author_key(BEN), author_key(BOT)}
    )

    named = {e.post.id: e.named for _, e, _ in transcript.rows()}
    assert named == {
        "a1": True,
        "r1": True,
        "r2": True,
        "a1b": False,
        "a2": False,
        "intro": True,  # the bot's own posts are always its own
        "hi": True,
        "chat": True,
    }


def test_order_is_by_time_then_platform_and_id_whatever_the_input_order() -> None:
    posts = chat_posts()
    forward = build_transcript(OCCURRENCE, posts, [Q1, Q2])
    backward = build_transcript(OCCURRENCE, list(reversed(posts)), [Q1, Q2])

    assert shape(forward) == shape(backward)


def agenda_asking(first: str, second: str) -> list[PlannedPost]:
    """The agenda of a chat file asking two questions, on Mastodon and X."""
    config = parse_config(
        f"""
chat: {{id: hexichat, title: T, hashtag: "#HEXIchat", timezone: Europe/London,
       start: 2026-12-02 20:00}}
platforms: {{mastodon: {{instance: https://example.social}}, x: {{}}}}
posts:
  intro: {{text: Welcome}}
  questions:
    - {{at: 5m, text: "{first}"}}
    - {{at: 13m, text: "{second}"}}
""",
        filename="chat.yaml",
    )
    assert config.chat.start is not None
    return build_agenda(config, occurrence_at(config, config.chat.start))


def test_questions_come_from_the_agenda_and_the_ledgers_published_posts() -> None:
    agenda = agenda_asking("How do you gather feedback?", "Who acts on it? #HEXIchat")
    published = {
        "hexichat/2026-12-02/q1/mastodon": "m-q1",
        "hexichat/2026-12-02/q1/x": "x-q1",
        "hexichat/2026-12-02/q2/x": "x-q2",  # Q2 never made it to Mastodon
        "hexichat/2026-12-02/intro/x": "x-intro",
        "hexichat/2026-12-02/q1/bsky": "b-q1",  # a platform the file no longer names
    }

    questions = questions_from_agenda(agenda, published, hashtag="#HEXIchat")

    assert questions == [
        Question(
            1,
            "Q1: How do you gather feedback?",
            frozenset({("mastodon", "m-q1"), ("x", "x-q1"), ("bsky", "b-q1")}),
        ),
        Question(2, "Q2: Who acts on it?", frozenset({("x", "x-q2")})),
    ]


def test_a_question_that_went_out_is_headed_as_it_went_out() -> None:
    agenda = agenda_asking("Next week's first question", "Next week's second question")
    published = {
        "hexichat/2026-12-02/q1/x": "x-q1",
        "hexichat/2026-12-02/q1/mastodon": "m-q1",
        "hexichat/2026-12-02/q2/mastodon": "m-q2",  # went out, but was never captured
    }
    # The host rewrote the file for next week after this chat: the posts say what was asked.
    asked_on_x = replace(post("x-q1", BOT, 5, "Q1: How? https://t.co/x #HEXIchat"), platform="x")
    asked = post("m-q1", BOT, 5, "Q1: How do you gather\nfeedback? #HEXIchat", own=True)

    questions = questions_from_agenda(
        agenda,
        published,
        hashtag="#HEXIchat",
        archived={post_ref(p): p for p in (asked_on_x, asked)},
    )

    assert [q.text for q in questions] == [
        "Q1: How do you gather feedback?",  # Mastodon's text, on one line, without the tag
        "Q2: Next week's second question",
    ]


def test_an_edited_post_shows_its_new_text() -> None:
    edited = replace(post("a1", ANA, 6, "A1 old", question=1), text="A1 new")

    transcript = build_transcript(OCCURRENCE, [edited], [Q1])

    assert transcript.groups[0].entries[0].post.text == "A1 new"


def test_the_closing_and_its_replies_have_their_own_section_after_the_questions() -> None:
    """Issue 12 item 17: the bot threads its closing under the last question, and the
    transcript filed the closing and the thanks it got there, as replies to Q2."""
    posts = [
        *chat_posts(),
        post("bye", BOT, 55, "Thank you all!", own=True, reply_to="q2"),
        post("thx", ANA, 56, "Thanks for hosting!", reply_to="bye"),
        post("thx2", BEN, 57, "A2 and one more thing", question=2, reply_to="thx"),
    ]
    published = {
        f"{OCCURRENCE}/q1/mastodon": "q1",
        f"{OCCURRENCE}/q2/mastodon": "q2",
        f"{OCCURRENCE}/closing/mastodon": "bye",
    }

    transcript = build_transcript(OCCURRENCE, posts, [Q1, Q2], closing=closing_refs(published))

    assert shape(transcript)[1:] == [
        (Q2.text, [(0, "a2")]),
        (CLOSING_HEADING, [(0, "bye"), (1, "thx"), (2, "thx2")]),
        (OTHER_HEADING, [(0, "intro"), (1, "hi"), (0, "chat")]),
    ]
    assert [g.anchor for g in transcript.groups] == ["q1", "q2", "closing", "other"]
    q2 = compute_stats(transcript).questions[1]
    assert (q2.answers, q2.replies, q2.participants) == (1, 0, 1)


def test_closing_refs_are_the_published_closing_posts_on_every_platform() -> None:
    published = {
        f"{OCCURRENCE}/q1/mastodon": "1",
        f"{OCCURRENCE}/closing/mastodon": "9",
        f"{OCCURRENCE}/closing/x": "19",
        f"{OCCURRENCE}/intro/x": "11",
    }

    assert closing_refs(published) == {("mastodon", "9"), ("x", "19")}
