"""The HTML transcript in a real browser: headless Chromium opens it from a file, with the
network refused, and shows every question without a single request or console error.

Needs Debian's chromium and chromium-driver (.ci/run installs them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.stats import compute_series_stats, compute_stats
from bot.core.transcript import build_transcript
from bot.exports import ExportContext, write_exports
from bot.series_exports import SeriesContext, write_series_exports
from tests.support.browser import (
    PHONE_WIDTH,
    chromium_missing,
    console_errors,
    headless_chromium,
    requests_made,
)
from tests.support.hostile import hostile_chat
from tests.support.posts import OCCURRENCE, START
from tests.support.synthetic_chat import synthetic_chat, synthetic_series

if chromium_missing() and not os.environ.get("CI"):
    pytest.skip(
        "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    # A page opened from a file may ask for nothing at all, not even of this machine.
    with headless_chromium(tmp_path / "profile", block_all=True) as driver:
        yield driver


def open_transcript(driver: Any, context: ExportContext, folder: Path) -> Path:
    (html,) = write_exports(context, folder, formats=("html",))
    # The browser's own start page made requests of its own: drain them, to see the page's.
    driver.get_log("performance")
    driver.get_log("browser")
    driver.get(html.as_uri())
    return html


def chat_of_300_posts() -> ExportContext:
    chat = synthetic_chat(seed=300, posts=300)
    transcript = build_transcript(
        chat.occurrence, chat.posts, chat.questions, opted_out=chat.opted_out
    )
    return ExportContext(
        title="Patient experience in primary care",
        hashtag="#HEXIchat",
        chat_id="hexichat",
        date="2026-12-02",
        start=chat.start,
        end=chat.end,
        zone=ZoneInfo("Europe/London"),
        transcript=transcript,
        stats=compute_stats(transcript, earlier_authors=chat.earlier_authors),
        boosted=chat.boosted,
    )


def test_a_300_post_transcript_shows_its_questions_offline(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    context = chat_of_300_posts()
    page = open_transcript(browser, context, tmp_path / "out")

    headings = browser.find_elements(By.CSS_SELECTOR, "main section > h2")
    expected = [g.heading for g in context.transcript.groups]
    assert [h.text for h in headings] == expected
    for heading in headings:
        browser.execute_script("arguments[0].scrollIntoView()", heading)
        assert heading.is_displayed()
    assert len(browser.find_elements(By.CSS_SELECTOR, "main article")) == 300 + 2  # + intros
    chart = browser.find_element(By.CSS_SELECTOR, "figure svg")
    # Readable on a phone: nothing wider than the screen, so no sideways scrolling.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert chart.size["width"] <= PHONE_WIDTH
    assert [t.text for t in chart.find_elements(By.CSS_SELECTOR, "text")][-1] == "Q6"

    assert requests_made(browser) == [page.as_uri()]
    assert console_errors(browser) == []
    # For a person to look at: the top of the page, and a question with its answers.
    browser.execute_script("window.scrollTo(0, 0)")
    assert browser.save_screenshot(str(tmp_path / "transcript-300.png"))
    browser.execute_script("arguments[0].scrollIntoView()", headings[2])
    assert browser.save_screenshot(str(tmp_path / "transcript-300-q3.png"))


def test_a_hostile_transcript_renders_and_calls_nowhere(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    posts, questions = hostile_chat()
    transcript = build_transcript(OCCURRENCE, posts, questions)
    context = ExportContext(
        title="Hostile chat",
        hashtag="#HEXIchat",
        chat_id="hexichat",
        date="2026-12-02",
        start=START,
        end=START + timedelta(hours=1),
        zone=ZoneInfo("Europe/London"),
        transcript=transcript,
        stats=compute_stats(transcript),
    )
    page = open_transcript(browser, context, tmp_path / "out")

    assert browser.execute_script("return document.scripts.length") == 0
    assert browser.execute_script("return window.alerted === undefined")
    footer = browser.find_element(By.CSS_SELECTOR, "body > footer")
    browser.execute_script("arguments[0].scrollIntoView()", footer)
    assert footer.is_displayed()
    assert "Transcript of #HEXIchat" in footer.text
    assert len(browser.find_elements(By.CSS_SELECTOR, "main article")) == len(posts) - 2
    assert requests_made(browser) == [page.as_uri()]
    assert console_errors(browser) == []
    assert browser.save_screenshot(str(tmp_path / "transcript-hostile.png"))


def test_a_year_long_series_page_reads_on_a_phone_offline(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    weeks = synthetic_series(weeks=52, posts=60)
    stats = compute_series_stats(
        build_transcript(c.occurrence, c.posts, c.questions, opted_out=c.opted_out) for c in weeks
    )
    context = SeriesContext("Patient experience in primary care", "#HEXIchat", "hexichat", stats)
    (page,) = write_series_exports(context, tmp_path / "out", formats=("html",))
    browser.get_log("performance")
    browser.get_log("browser")
    browser.get(page.as_uri())

    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "main h2")]
    assert headings == ["The series in numbers", "Occurrence by occurrence", "People and posts"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#occurrences tbody tr")
    assert len(rows) == 52
    assert rows[0].text.startswith("2 Dec 2026 ")  # the latest first
    chart = browser.find_element(By.CSS_SELECTOR, "figure svg")
    assert chart.size["width"] <= PHONE_WIDTH
    # The table may scroll sideways inside its box; the page itself does not.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert requests_made(browser) == [page.as_uri()]
    assert console_errors(browser) == []
    browser.execute_script("window.scrollTo(0, 0)")
    assert browser.save_screenshot(str(tmp_path / "series-52.png"))
