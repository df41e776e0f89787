"""Issue 12 item 13: a person shown as "(name withheld)" cannot be found again through an
id, a link or an anchor in any file; anchors name no post for anyone."""

from __future__ import annotations

import csv
import io
import json
import re
from zoneinfo import ZoneInfo

import pytest

from bot.core.stats import compute_stats
from bot.core.transcript import Question, author_key, build_transcript
from bot.exports import FORMATS, ExportContext, render
from tests.support.posts import BOT, OCCURRENCE, START, person, post

ANA = person("ana")
CAM = person("cam")  # said "stop": withheld
# Ids a reader could hand to the platform's API to find the author (Mastodon's are numbers).
CAM_IDS = ("113400000071", "113400000072")


def _context() -> ExportContext:
    posts = [
        post("113400000050", BOT, 5, "Q1: How?", own=True, question=1),
        post("113400000061", ANA, 6, "A1 paper surveys", question=1, favourites=2),
        post(CAM_IDS[0], CAM, 7, "A1 comment cards", question=1, favourites=9),
        post(CAM_IDS[1], CAM, 8, "agreed", reply_to="113400000061"),
        post("113400000073", ANA, 9, "thanks", reply_to=CAM_IDS[0]),
    ]
    transcript = build_transcript(
        OCCURRENCE,
        posts,
        [Question(1, "Q1: How?", frozenset({("mastodon", "113400000050")}))],
        opted_out=frozenset({author_key(CAM)}),
    )
    return ExportContext(
        title="Chat",
        hashtag="#HEXIchat",
        chat_id="hexichat",
        date="2026-12-02",
        start=START,
        end=START,
        zone=ZoneInfo("Europe/London"),
        transcript=transcript,
        stats=compute_stats(transcript, themes=False),
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_file_holds_an_id_of_a_withheld_person(fmt: str) -> None:
    """Issue 12 item 13: no id, URL or anchor in any format leads back to the withheld
    person; their posts are still there, unnamed."""
    output = render(_context(), fmt)  # type: ignore[arg-type]

    for post_id in CAM_IDS:
        assert post_id not in output, fmt
    assert "cam" not in output.lower(), fmt
    assert "A1 comment cards" in output, fmt


def test_the_flat_files_keep_the_named_peoples_ids() -> None:
    """Issue 12 item 13: the CSV and JSON rows of a withheld post have an empty id and url;
    everyone else's keep theirs."""
    context = _context()
    rows = list(csv.DictReader(io.StringIO(render(context, "csv"))))
    posts = json.loads(render(context, "json"))["posts"]

    for listed in (rows, posts):
        withheld = [r for r in listed if r["author"] == "(name withheld)"]
        assert [(r["id"], r["url"]) for r in withheld] == [("", ""), ("", "")]
        assert "113400000061" in [r["id"] for r in listed]


def test_anchors_are_places_not_post_ids() -> None:
    """Issue 12 item 13: every post's anchor on the page is its place in the transcript
    (p1, p2, ...), for named and withheld people alike, and the page's links to them hold."""
    page = render(_context(), "html")

    anchors = re.findall(r'<article id="([^"]+)"', page)
    assert anchors == ["p1", "p3", "p2", "p4"]  # reading order; numbered in time order
    for target in re.findall(r'href="#(p\d+)"', page):
        assert target in anchors
