"""Every count a host or a participant reads agrees with its noun: "1 participant", never
"1 participants", in the transcript, the wrap-up thread and the series files."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.agenda import Occurrence
from bot.core.config import ChatConfig
from bot.core.planning import next_plan
from bot.core.stats import Stats, compute_series_stats, compute_stats
from bot.core.transcript import Question, Transcript, build_transcript
from bot.core.wrapup import wrapup_thread
from bot.exports import export_context, render
from bot.series_exports import render_series, series_context
from tests.support.config_text import chat_config
from tests.support.posts import BOT, OCCURRENCE, START, person, post


@pytest.fixture(scope="module")
def config() -> ChatConfig:
    return chat_config()  # hexichat, 2 December 2026 at 20:00


@pytest.fixture(scope="module")
def occurrence(config: ChatConfig) -> Occurrence:
    return next_plan(config, START - timedelta(days=1))[0]


@pytest.fixture(scope="module")
def transcript() -> Transcript:
    """One person, one answer with one link, to one question; one follower."""
    posts = [
        post("q1", BOT, 5, "Q1: How?", own=True, question=1),
        post("a1", person("ana", followers=1), 6, "A1 see https://example.org/x", question=1),
    ]
    return build_transcript(
        OCCURRENCE, posts, [Question(1, "Q1: How?", frozenset({("mastodon", "q1")}))]
    )


@pytest.fixture(scope="module")
def stats(transcript: Transcript) -> Stats:
    return compute_stats(transcript, themes=False)


def test_the_transcript_counts_in_the_singular(
    config: ChatConfig, occurrence: Occurrence, transcript: Transcript, stats: Stats
) -> None:
    """Issue 12 item 17: the transcript read "1 participants", "1 posts"."""
    ctx = export_context(config, occurrence, transcript, stats)

    markdown = render(ctx, "md")
    page = render(ctx, "html")

    assert "- 1 participant (1 new, 0 returning)\n" in markdown
    assert "- 1 post, 1 answer to 1 question\n" in markdown
    assert "- 1 link shared; busiest minute: 1 post\n" in markdown
    assert "- Potential reach: about 1 account (an estimate" in markdown
    assert "<dt>Busiest minute</dt><dd>1 post</dd>" in page


def test_the_wrapup_thread_counts_in_the_singular(
    config: ChatConfig, occurrence: Occurrence, stats: Stats
) -> None:
    """Issue 12 item 17: the wrap-up said "about 1 accounts"."""
    [first, *_] = wrapup_thread(config, occurrence, stats, platforms=["mastodon"])

    assert "1 person took part, with 1 post and 1 answer to 1 question." in first.text
    assert "Potential reach: about 1 account (an estimate" in first.text


def test_the_series_counts_in_the_singular(config: ChatConfig, transcript: Transcript) -> None:
    """Issue 12 item 17: the series file read "1 people in all", "1 posts"."""
    series = series_context(config, compute_series_stats([transcript]))

    markdown = render_series(series, "md")

    assert "- 1 person in all; 0 came more than once" in markdown
    assert "- 1 post, 1 answer, 1 link shared\n" in markdown
    assert "- Potential reach: about 1 account (an estimate" in markdown
