"""Issue 12 item 14: the wrap-up thread posts only links the bot can vouch for, and only
handles that are handles."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.links import checked_handle
from bot.core.stats import compute_stats
from bot.core.transcript import Question, build_transcript
from bot.core.wrapup import wrapup_thread
from tests.support.posts import BOT, OCCURRENCE, person, post
from tests.unit.test_wrapup import chat_file, the_occurrence

EVIL = "https://evil.example/verify-your-account"


def thread_text(wrapup: str, *answers: object) -> str:
    questions = [Question(1, "Q1: How?", frozenset({("mastodon", "q1")}))]
    posts = [post("q1", BOT, 5, own=True, question=1), *answers]
    stats = compute_stats(build_transcript(OCCURRENCE, posts, questions))  # type: ignore[arg-type]
    config = chat_file(wrapup)
    thread = wrapup_thread(config, the_occurrence(config), stats, platforms=["mastodon"])
    return "\n".join(p.text for p in thread)


def test_a_hostile_servers_url_is_never_posted() -> None:
    """Issue 12 item 14: an answer whose server sent a phishing url is linked on the bot's
    own instance, built from its id and acct."""
    author = person("mallory")
    answer = replace(
        post("113400000007", author, 6, "A1 click", question=1, favourites=9), url=EVIL
    )

    text = thread_text("", answer)

    assert "evil.example" not in text
    assert "Q1 top answer: https://example.social/@mallory/113400000007" in text


def test_a_remote_answer_links_through_the_bots_instance() -> None:
    """Issue 12 item 14: a remote author's post is linked as /@user@domain/<id> on the bot's
    instance, whatever url their server gave."""
    remote = replace(person("ana"), handle="@ana@health.example")
    answer = replace(post("113400000008", remote, 6, question=1, favourites=2), url=EVIL)

    assert "https://example.social/@ana@health.example/113400000008" in thread_text("", answer)


@pytest.mark.parametrize(
    "handle",
    [
        "@mallory@evil.example https://evil.example/verify-your-account",
        "@mallory\n@everyone@example.social",
        "@mallory@evil.example/../phish",
        "@mallory@evil.example?",
    ],
)
def test_an_odd_acct_is_neither_mentioned_nor_linked(handle: str) -> None:
    """Issue 12 item 14: with ``mention: true`` an acct that is not strictly one is never
    posted, and no link is built from it."""
    author = replace(person("mallory"), handle=handle)
    answer = post("113400000009", author, 6, "A1 hi", question=1, favourites=9)

    text = thread_text("wrapup: {mention: true}", answer)

    assert "evil.example" not in text
    assert "everyone" not in text
    assert "top answer" not in text


def test_x_links_are_built_from_the_id() -> None:
    """Issue 12 item 14: an X answer is linked at x.com from its numeric id; an id that is
    not a number gives no link at all."""
    xavi = person("xavi", platform="x")
    good = replace(post("1871100000001", xavi, 6, question=1, favourites=3), url=EVIL)
    bad = replace(post("1871/../../evil", xavi, 7, question=1, favourites=9), url=EVIL)

    assert "https://x.com/xavi/status/1871100000001" in thread_text("", good)
    assert "top answer" not in thread_text("", bad)


def test_handles_are_checked_whole() -> None:
    """Issue 12 item 14: a handle matches from its first character to its last."""
    assert checked_handle("@ana@Health.Example", "mastodon") == "@ana@health.example"
    assert checked_handle("@ana@example.social\n", "mastodon") is None
    assert checked_handle("@ana_b", "x") == "@ana_b"
    assert checked_handle("@ana_b ", "x") is None
