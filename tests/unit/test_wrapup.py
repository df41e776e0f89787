"""The wrap-up thread: what it says, how it is split and keyed for the ledger."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.core.agenda import Occurrence, occurrence_at
from bot.core.config import ChatConfig
from bot.core.configfile import parse_config
from bot.core.stats import Stats, compute_stats
from bot.core.text import length_for
from bot.core.transcript import Question, build_transcript
from bot.core.wrapup import split_thread, wrapup_thread
from tests.support.posts import BOT, OCCURRENCE, person, post

ANA = person("ana", followers=120)
XAVI = person("xavi", platform="x", followers=80)


def chat_file(wrapup: str = "", title: str = "Patient experience") -> ChatConfig:
    return parse_config(
        f"""
chat: {{id: hexichat, title: "{title}", hashtag: "#HEXIchat", timezone: Europe/London,
       start: 2026-12-02 20:00, duration: 1h}}
platforms: {{mastodon: {{instance: https://example.social}}, x: {{}}}}
posts:
  intro: {{text: Welcome}}
  questions: [{{at: 5m, text: "How?"}}, {{at: 13m, text: "Who?"}}]
{wrapup}
""",
        filename="chat.yaml",
    )


def chat_stats() -> Stats:
    posts = [
        post("q1", BOT, 5, own=True, question=1),
        post("a1", ANA, 6, "A1 surveys", question=1, favourites=3),
        post("1871100000002", XAVI, 14, "A2 the manager", question=2, favourites=1),
    ]
    questions = [
        Question(1, "Q1: How?", frozenset({("mastodon", "q1")})),
        Question(2, "Q2: Who?"),
    ]
    return compute_stats(build_transcript(OCCURRENCE, posts, questions))


def the_occurrence(config: ChatConfig) -> Occurrence:
    assert config.chat.start is not None  # the chat files here have a start
    return occurrence_at(config, config.chat.start)


def texts(config: ChatConfig, platform: str, stats: Stats | None = None) -> list[str]:
    occurrence = the_occurrence(config)
    thread = wrapup_thread(config, occurrence, stats or chat_stats(), platforms=[platform])
    return [p.text for p in thread]


def test_a_short_thread_is_one_unnumbered_post_with_thanks_numbers_and_top_answers() -> None:
    config = chat_file("wrapup: {transcript_url: 'https://example.org/t/{date}.html'}")

    assert texts(config, "mastodon") == [
        "Thank you all for joining #HEXIchat: Patient experience!\n\n"
        "2 people took part, with 2 posts and 2 answers to 2 questions. "
        "Potential reach: about 200 accounts (an estimate: the sum of your followers).\n\n"
        "Q1 top answer: https://example.social/@ana/a1\n\n"
        "Q2 top answer: https://x.com/xavi/status/1871100000002\n\n"
        "The transcript: https://example.org/t/2026-12-02.html"
    ]


def test_no_mentions_unless_asked_and_then_only_on_the_handles_own_platform() -> None:
    quiet = texts(chat_file(), "x")
    loud_x = texts(chat_file("wrapup: {mention: true}"), "x")
    loud_mastodon = texts(chat_file("wrapup: {mention: true}"), "mastodon")

    def mentions(parts: list[str]) -> list[str]:
        # An @ inside a post's address is no mention.
        return re.findall(r"(?<![\w/])@\w+", " ".join(parts))

    assert mentions(quiet) == []
    assert mentions(loud_x) == ["@xavi"]
    assert mentions(loud_mastodon) == ["@ana"]
    assert "Q1 top answer, by @ana@example.social: " in loud_mastodon[0]


def test_the_thread_is_keyed_for_the_ledger_and_goes_out_after_the_end() -> None:
    config = chat_file("wrapup: {after: 20m}", title=" ".join(["word"] * 300))
    occurrence = the_occurrence(config)

    thread = wrapup_thread(config, occurrence, chat_stats(), platforms=["mastodon", "x"])

    keys = [p.key for p in thread]
    assert keys[0] == "hexichat/2026-12-02/wrapup-1/mastodon"
    # Composed once the followers' last read is in: a polling interval after the capture.
    assert {p.at for p in thread} == {occurrence.end + timedelta(minutes=20, seconds=6)}
    for platform in ("mastodon", "x"):
        mine = [p for p in thread if p.platform == platform]
        assert len(mine) > 1
        assert [p.slot for p in mine] == [f"wrapup-{i}" for i in range(1, len(mine) + 1)]
        assert all(p.kind == "wrapup" for p in mine)
        # Each part replies to the part before it (nearest first), as agenda threads do.
        assert [p.replies_to for p in mine[:3]] == [
            (),
            (mine[0].key,),
            (mine[1].key, mine[0].key),
        ]


@pytest.mark.parametrize(("platform", "limit"), [("mastodon", 500), ("mastodon", 120), ("x", 280)])
def test_every_part_fits_the_platform_and_is_numbered(platform: str, limit: int) -> None:
    parts = [
        "Thank you all for joining #HEXIchat: " + "Très long titre 日本語の題名 👩‍👩‍👧‍👦 " * 12,
        "x" * 700,  # one "word" longer than any post
        *[f"Q{n} top answer: https://example.social/@ana/{n}{'9' * 60}" for n in range(1, 13)],
    ]

    posts = split_thread(parts, platform, limit)

    assert all(length_for(platform, p) <= limit for p in posts)
    assert [p.split(" ", 1)[0] for p in posts] == [
        f"{i}/{len(posts)}" for i in range(1, len(posts) + 1)
    ]
    # Nothing is lost: every word of every part is in the thread, in order.
    words = " ".join(p.split(" ", 1)[1] for p in posts).split()
    assert "".join(words) == "".join("".join(part.split()) for part in parts)


def test_x_counts_emoji_and_cjk_double() -> None:
    # 140 CJK characters are 280 weighted: exactly one X post, but 140 of Mastodon's 500.
    parts = ["日" * 140]
    assert split_thread(parts, "x", 280) == parts
    assert len(split_thread(["日" * 141], "x", 280)) == 2


def test_a_chat_nobody_answered_still_thanks_and_links_the_transcript() -> None:
    config = chat_file("wrapup: {transcript_url: 'https://example.org/t.html'}")
    empty = compute_stats(build_transcript(OCCURRENCE, [], [Question(1, "Q1: How?")]))

    assert texts(config, "mastodon", empty) == [
        "Thank you all for joining #HEXIchat: Patient experience!\n\n"
        "Nobody answered this time; we will try again.\n\n"
        "The transcript: https://example.org/t.html"
    ]


def test_opted_out_people_are_never_the_top_answer() -> None:
    posts = [
        post("a1", ANA, 6, "A1 surveys", question=1, favourites=30),
        post("1871100000001", XAVI, 7, "A1 forms", question=1, favourites=1),
    ]
    transcript = build_transcript(
        OCCURRENCE, posts, [Question(1, "Q1: How?")], opted_out={"mastodon:id-ana"}
    )

    thread = texts(chat_file(), "mastodon", compute_stats(transcript))

    assert "Q1 top answer: https://x.com/xavi/status/1871100000001" in thread[0]
    assert "@ana" not in " ".join(thread)
