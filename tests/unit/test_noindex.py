"""Issue 11, noindex: an account that opted out of search engines is never named or linked in
a public file, and a host may leave its posts out; the numbers count it either way."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from typing import Any

import pytest

from bot.adapters.mastodon_status import to_author
from bot.core.config import ChatConfig
from bot.core.stats import compute_series_stats, compute_stats
from bot.core.transcript import Question, build_transcript
from bot.core.wrapup import wrapup_thread
from bot.exports import FORMATS, ExportContext, export_context, render
from bot.series_exports import render_series, series_context
from tests.support.posts import BOT, OCCURRENCE, person, post
from tests.unit.test_wrapup import chat_file, the_occurrence

ANA = person("ana")
NIA = replace(person("niahidden"), noindex=True)
NIA_IDS = ("113400000071", "113400000072")


def account(**fields: Any) -> dict[str, Any]:
    return {"id": "109", "acct": "nia@health.example", "display_name": "Nia", **fields}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"noindex": True}, True),
        ({"noindex": False}, False),
        ({"noindex": None}, False),  # mastodon_mock, and servers that do not say
        ({}, False),
        ({"noindex": "true"}, False),  # only a JSON true opts out: anything else is noise
        ({"indexable": False}, False),  # the server's own search: no reason to withhold
    ],
)
def test_the_author_carries_noindex_as_the_server_says(
    fields: dict[str, Any], expected: bool
) -> None:
    """Issue 11 (noindex): ``to_author`` reads Mastodon's ``noindex``, and nothing else."""
    assert to_author(account(**fields), home="example.social").noindex is expected


def _context(config: ChatConfig) -> ExportContext:
    posts = [
        post("113400000050", BOT, 5, "Q1: How?", own=True, question=1),
        post("113400000061", ANA, 6, "A1 paper surveys", question=1, favourites=1),
        post(NIA_IDS[0], NIA, 7, "A1 nightly comment cards", question=1, favourites=30),
        post(NIA_IDS[1], NIA, 8, "nodding along", reply_to="113400000061"),
    ]
    transcript = build_transcript(
        OCCURRENCE, posts, [Question(1, "Q1: How?", frozenset({("mastodon", "113400000050")}))]
    )
    stats = compute_stats(transcript, themes=False)
    return export_context(config, the_occurrence(config), transcript, stats)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_noindex_author_is_never_named_nor_linked(fmt: str) -> None:
    """Issue 11 (noindex): in every file the person is withheld like someone who said
    "stop": no name, handle, id or link; their posts stay, and count."""
    context = _context(chat_file())

    output = render(context, fmt)  # type: ignore[arg-type]

    assert "niahidden" not in output.lower(), fmt
    for post_id in NIA_IDS:
        assert post_id not in output, fmt
    assert "A1 nightly comment cards" in output, fmt
    assert context.stats.participants == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_host_may_leave_noindex_posts_out(fmt: str) -> None:
    """Issue 11 (noindex): with ``wrapup.noindex: omit`` their posts are in no file, and the
    numbers still count them."""
    context = _context(chat_file("wrapup: {noindex: omit}"))

    output = render(context, fmt)  # type: ignore[arg-type]

    assert "nightly comment cards" not in output, fmt
    assert "nodding along" not in output, fmt
    assert "A1 paper surveys" in output, fmt
    if fmt == "json":
        document = json.loads(output)
        assert document["statistics"]["participants"] == 2
        assert document["statistics"]["posts"] == 3
        assert len(document["posts"]) == 2  # the question and Ana's answer
    if fmt == "csv":
        assert len(list(csv.DictReader(io.StringIO(output)))) == 2


def test_the_wrapup_and_the_series_never_name_a_noindex_author() -> None:
    """Issue 11 (noindex): the most engaged answer of a noindex author is not the thread's
    top answer (which names and links), nor in the series' lists."""
    config = chat_file("wrapup: {mention: true}")
    context = _context(config)

    thread = wrapup_thread(config, the_occurrence(config), context.stats, platforms=["mastodon"])
    text = "\n".join(p.text for p in thread)
    series = series_context(config, compute_series_stats([context.transcript]))

    assert "niahidden" not in text
    assert "113400000061" in text  # Ana's answer is the top one
    for fmt in FORMATS:
        page = render_series(series, fmt)
        assert "niahidden" not in page.lower(), fmt
        assert NIA_IDS[0] not in page, fmt
