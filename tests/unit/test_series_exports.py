"""The series' files, from the small series of tests/support/series.py: what a host reads in
each format, and that a person who opted out is named in none of them."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.series_exports import SeriesContext, render_series, write_series_exports
from tests.support.series import small_series


@pytest.fixture(scope="module")
def context() -> SeriesContext:
    return SeriesContext(
        title="Patient experience",
        hashtag="#HEXIchat",
        chat_id="hexichat",
        stats=small_series(),
    )


def test_csv_has_one_row_per_occurrence_oldest_first(context: SeriesContext) -> None:
    rows = list(csv.reader(io.StringIO(render_series(context, "csv"))))

    assert rows == [
        [
            "date",
            "participants",
            "new_participants",
            "returning_participants",
            "posts",
            "answers",
            "links_shared",
            "peak_posts_per_minute",
            "potential_reach",
            "most_engaged_url",
        ],
        ["2026-11-18", "4", "4", "0", "4", "4", "0", "1", "650", "https://example.social/@ana/a"],
        ["2026-11-25", "3", "1", "2", "3", "2", "0", "1", "700", "https://example.social/@dee/d"],
        ["2026-12-02", "3", "1", "2", "3", "3", "0", "1", "1000", "https://example.social/@eve/e"],
    ]


def test_json_holds_the_totals_and_each_occurrence(context: SeriesContext) -> None:
    document = json.loads(render_series(context, "json"))
    statistics = document["statistics"]

    assert document["chat"] == {
        "id": "hexichat",
        "title": "Patient experience",
        "hashtag": "#HEXIchat",
    }
    assert (statistics["occurrences"], statistics["participants"]) == (3, 6)
    assert statistics["returning_participants"] == 3
    assert statistics["mean_participants"] == 3.33
    assert statistics["attendance"] == [
        {"occurrences": 1, "people": 3},
        {"occurrences": 2, "people": 2},
        {"occurrences": 3, "people": 1},
    ]
    assert [(r["author"], r["occurrences"]) for r in statistics["regulars"]][:2] == [
        ("@ana@example.social", 3),
        ("@ben@example.social", 2),
    ]
    assert [(e["date"], e["id"]) for e in statistics["most_engaged"]][:2] == [
        ("2026-11-25", "2026-11-25-d"),
        ("2026-11-18", "2026-11-18-a"),
    ]
    assert statistics["potential_reach"]["estimate"] is True
    dates = [o["date"] for o in document["occurrences"]]
    assert dates == ["2026-11-18", "2026-11-25", "2026-12-02"]
    assert document["occurrences"][1]["answers_per_question"] == {"1": 2, "2": 0}


def test_markdown_lists_the_latest_occurrence_first(context: SeriesContext) -> None:
    markdown = render_series(context, "md")

    assert markdown.startswith("# Patient experience (\\#HEXIchat): the series\n")
    assert "3 occurrences, 18 Nov 2026 to 2 Dec 2026." in markdown
    assert (
        "- 6 people in all; 3 came more than once (3 people came once; 2 people came twice; "
        "1 person came 3 times)" in markdown
    )
    table = [line for line in markdown.splitlines() if line.startswith("| ") and "Nov" in line]
    assert table == [
        "| 25 Nov 2026 | 3 | 1 | 2 | 3 | 2 | 1 |",
        "| 18 Nov 2026 | 4 | 4 | 0 | 4 | 4 | 1 |",
    ]


def test_html_links_each_date_to_its_transcript(context: SeriesContext) -> None:
    page = render_series(context, "html")

    assert '<a href="hexichat-2026-11-25.html">25 Nov 2026</a>' in page
    assert '<a href="hexichat-2026-11-25.html#p2">Q1: A1 paper surveys sent' in page
    assert page.count('<tr><th scope="row"><a href=') == 3
    assert '<svg role="img" aria-label="People per occurrence, new and returning"' in page


def test_the_opted_out_are_counted_but_named_in_no_format(context: SeriesContext) -> None:
    for fmt in ("html", "md", "csv", "json"):
        text = render_series(context, fmt)
        # Cam's handle, and the address of the post with Cam's 50 favourites.
        assert "@cam@" not in text, fmt
        assert "/@cam/" not in text, fmt
        assert "@botty@" not in text, fmt


def test_files_are_written_beside_the_transcripts(context: SeriesContext, tmp_path: Path) -> None:
    written = write_series_exports(context, tmp_path / "out")

    assert sorted(p.name for p in written) == [
        "hexichat-series.csv",
        "hexichat-series.html",
        "hexichat-series.json",
        "hexichat-series.md",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in written)


def test_links_go_where_the_host_publishes_the_transcripts(context: SeriesContext) -> None:
    published = replace(context, transcript_url="https://example.org/chats/{date}.html")

    page = render_series(published, "html")

    assert '<a href="https://example.org/chats/2026-11-25.html">25 Nov 2026</a>' in page
    assert 'href="https://example.org/chats/2026-11-25.html#p2"' in page
    assert 'href="hexichat-' not in page
