"""The rehearsal's crowd: who takes part, what each one does when; the same seed, the same
crowd."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from bot.chat_files import load_config
from bot.core.answers import prefix_number
from bot.core.config import ChatConfig
from bot.core.configfile import parse_config
from bot.core.curation import has_nobot, read_mention, text_fingerprint
from bot.core.text import has_hashtag, length_for
from bot.rehearsal.crowd import CrowdPlan, CrowdPost, Delete, Edit, Favourite
from bot.rehearsal.crowd_plan import plan_crowd
from bot.rehearsal.crowd_texts import keywords

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"


@pytest.fixture(scope="module")
def example() -> ChatConfig:
    return load_config(EXAMPLE)


@pytest.fixture(scope="module")
def crowd(example: ChatConfig) -> CrowdPlan:
    return plan_crowd(example, seed=1)


def _windows(config: ChatConfig) -> list[tuple[int, timedelta, timedelta]]:
    """(number, start, end) of the intro's and each question's window, from the intro."""
    marks = [timedelta(0), *(q.at for q in config.posts.questions)]
    assert config.posts.closing is not None
    ends = [*marks[1:], config.posts.closing.at]
    return list(zip(range(len(marks)), marks, ends, strict=True))


def test_the_same_seed_gives_the_same_crowd_and_another_seed_another(
    example: ChatConfig,
) -> None:
    assert plan_crowd(example, seed=1) == plan_crowd(example, seed=1)
    assert plan_crowd(example, seed=7, size=12) == plan_crowd(example, seed=7, size=12)
    other = plan_crowd(example, seed=2)
    assert other.people != plan_crowd(example, seed=1).people
    assert [p.body for p in other.posts()] != [p.body for p in plan_crowd(example, seed=1).posts()]


def test_a_few_dozen_people_with_one_of_each_that_etiquette_is_for(
    example: ChatConfig, crowd: CrowdPlan
) -> None:
    roles = Counter(p.role for p in crowd.people)
    # 36 invented people, and the host the chat file names (who only approves boosts).
    assert sum(n for role, n in roles.items() if role != "host") == 36
    assert roles["host"] == 1
    assert crowd.role("host")[0].username == "hexi_host"
    assert roles["stopper"] == roles["nobot"] == roles["bot"] == 1
    assert len({p.username for p in crowd.people}) == len(crowd.people)
    (nobot,) = crowd.role("nobot")
    assert has_nobot(nobot.bio)
    assert [p.is_bot for p in crowd.people].count(True) == 1
    assert crowd.role("bot")[0].is_bot
    posted = {p.author for p in crowd.posts()}
    assert not posted & {p.username for p in crowd.role("lurker") + crowd.role("host")}
    assert {p.author for p in crowd.actions if isinstance(p, Favourite)} & {
        p.username for p in crowd.role("lurker")
    }


def test_every_question_is_answered_with_its_number_and_the_hashtag(
    example: ChatConfig, crowd: CrowdPlan
) -> None:
    hashtag = example.chat.hashtag
    for number in range(1, len(example.posts.questions) + 1):
        answers = [p for p in crowd.posts() if p.answers == number]
        tagged = [p for p in answers if has_hashtag(p.body, hashtag)]
        numbered = [p for p in tagged if prefix_number(p.body) == number]
        assert len(numbered) >= 10, number
        # Some reply to the question post itself without the hashtag, as people do.
        assert any(p.reply_to_bot == f"q{number}" and p not in tagged for p in answers)
    untagged_replies = [p for p in crowd.posts() if p.reply_to_bot and "#" not in p.body]
    assert all(p.mentions_bot for p in untagged_replies)
    # Replies to each other, starting with the mention a client adds.
    by_id = {p.id: p for p in crowd.posts()}
    replies = [p for p in crowd.posts() if p.reply_to is not None]
    assert len(replies) >= 30
    assert all(p.mentions == (by_id[p.reply_to].author,) for p in replies if p.reply_to)
    assert any(by_id[p.reply_to].reply_to for p in replies if p.reply_to)  # and back again
    assert sum(1 for a in crowd.actions if isinstance(a, Favourite)) >= 40


def test_actions_refer_to_earlier_posts_in_time_order(crowd: CrowdPlan) -> None:
    times = [a.at for a in crowd.actions]
    assert times == sorted(times)
    posted: dict[str, CrowdPost] = {}
    for action in crowd.actions:
        if isinstance(action, CrowdPost):
            if action.reply_to is not None:
                assert action.reply_to in posted
            posted[action.id] = action
        else:
            assert action.post in posted, action
    assert len(posted) == len(crowd.posts())
    edits = [a for a in crowd.actions if isinstance(a, Edit)]
    deletes = [a for a in crowd.actions if isinstance(a, Delete)]
    assert len(edits) == 1
    assert len(deletes) == 1
    assert edits[0].body != posted[edits[0].post].body
    # Nobody replies to or favourites a post that is going to be deleted.
    assert not [
        a
        for a in crowd.actions
        if (isinstance(a, Favourite) and a.post == deletes[0].post)
        or (isinstance(a, CrowdPost) and a.reply_to == deletes[0].post)
    ]


def test_one_person_says_stop_and_is_never_named_by_anyone_after(crowd: CrowdPlan) -> None:
    (stopper,) = crowd.role("stopper")
    stops = [
        p
        for p in crowd.posts()
        if p.mentions_bot and read_mention(p.body, from_host=False).command != "none"
    ]
    assert [(p.author, read_mention(p.body, from_host=False).command) for p in stops] == [
        (stopper.username, "stop")
    ]
    assert stops[0].reply_to is None
    assert stops[0].reply_to_bot is None
    # Their posts stay in the chat, but no text names them: not theirs, not anyone's reply.
    theirs = [p for p in crowd.posts() if p.author == stopper.username]
    assert len(theirs) >= 3
    name = stopper.display_name.split()[0]
    for post in crowd.posts():
        assert stopper.username not in post.mentions
        assert stopper.username not in post.body
        assert name not in post.body


def test_texts_differ_and_fit_on_x(example: ChatConfig, crowd: CrowdPlan) -> None:
    bodies = [p.body for p in crowd.posts()]
    fingerprints = [text_fingerprint(b) for b in bodies]
    assert len(set(fingerprints)) == len(fingerprints)
    longest_handle = max(len(p.username) + 1 for p in crowd.people)
    assert max(length_for("x", b) for b in bodies) + 2 * (longest_handle + 1) <= 280


def test_what_decides_a_question_s_boosts_comes_before_a_quarter_of_its_window(
    example: ChatConfig, crowd: CrowdPlan
) -> None:
    """The curator first boosts a quarter of the way into a window: a rehearsal replays the
    same boosts only if every answer, reply and favourite that counts is in by then."""
    hashtag = example.chat.hashtag
    by_id = {p.id: p for p in crowd.posts()}
    for number, start, end in _windows(example):
        quarter = start + (end - start) / 4
        in_window = [a for a in crowd.actions if start <= a.at < end]
        deciding = [
            a
            for a in in_window
            if (isinstance(a, CrowdPost) and a.answers in (number, None) and a.reply_to_bot)
            or (isinstance(a, CrowdPost) and a.reply_to is not None)
            or isinstance(a, Favourite | Edit | Delete)
            or (isinstance(a, CrowdPost) and a.answers == number)
        ]
        assert deciding, number
        assert max(a.at for a in deciding) < quarter - (end - start) / 10, number
        # Replies without the hashtag are found late by the bot: they draw nothing.
        untagged = {p.id for p in in_window if isinstance(p, CrowdPost) and "#" not in p.body}
        for action in in_window:
            if isinstance(action, Favourite):
                assert action.post not in untagged
            elif isinstance(action, CrowdPost) and action.reply_to is not None:
                assert action.reply_to not in untagged
                assert has_hashtag(by_id[action.reply_to].body, hashtag)


def test_late_answers_come_once_their_question_s_window_has_closed(
    example: ChatConfig, crowd: CrowdPlan
) -> None:
    windows = {n: (start, end) for n, start, end in _windows(example)}
    late = [p for p in crowd.posts() if p.answers and p.at >= windows[p.answers][1]]
    assert late
    assert all(prefix_number(p.body) == p.answers for p in late)


def test_a_small_crowd_has_only_regulars_and_an_empty_one_does_nothing(
    example: ChatConfig,
) -> None:
    small = plan_crowd(example, seed=3, size=5)
    assert {p.role for p in small.people} == {"regular", "host"}
    assert small.posts()
    empty = plan_crowd(example, seed=3, size=0)
    assert [p.role for p in empty.people] == ["host"]
    assert empty.actions == ()


def test_guests_answer_every_question_and_hosts_only_listen() -> None:
    config = parse_config(
        """
chat: {id: tiny, title: Garden swaps, hashtag: "#SwapChat", timezone: UTC,
       start: 2026-12-02 20:00, duration: 30m, hosts: ["@ann@garden.example"]}
platforms: {mastodon: {instance: https://garden.example}}
posts:
  intro: {text: Welcome}
  questions: [{at: 5m, text: "Which seeds do you save?"}, {at: 15m, text: "Why?"}]
  closing: {at: 25m, text: Thanks}
boost: {always: ["@guest@seeds.example"]}
""",
        filename="tiny.yaml",
    )
    crowd = plan_crowd(config, seed=4, size=10)
    (guest,) = crowd.role("guest")
    assert (guest.username, guest.server) == ("guest", "seeds.example")
    assert {p.answers for p in crowd.posts() if p.author == "guest"} >= {1, 2}
    (host,) = crowd.role("host")
    assert not [a for a in crowd.actions if getattr(a, "author", None) == host.username]
    # The second question's words are too short to echo: the title's are used instead.
    assert any("seeds" in p.body for p in crowd.posts() if p.answers == 1)


def test_keywords_are_the_question_s_nouns_when_it_has_some() -> None:
    assert keywords("Which feedback do you trust, and whose voices are missing?") == [
        "feedback",
        "voices",
    ]
    assert keywords("Who reads it, and how quickly?") == ["quickly"]
    assert keywords("Why?") == []
