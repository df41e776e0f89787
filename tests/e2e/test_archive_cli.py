"""`tweetchat archive`, run as a host runs it: counts per question, the latest posts, and
every post as JSON for scripts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.store_sql import SqlStore
from tests.support.chat_files import run_tweetchat, tweetchat_env
from tests.support.posts import BOT, START, person, post

CHAT = Path(__file__).resolve().parents[1] / "data" / "golden_chat.yaml"  # hexichat, 2 Dec


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    database = tmp_path / "store.sqlite3"
    store = SqlStore.from_url(f"sqlite:///{database}")
    archive = SqlArchive(store.engine)
    alice, bob = person("alice"), person("bob")
    for item in (
        post("100", BOT, 5, "Q1: How do you gather data? #HEXIchat", own=True),
        replace(post("101", alice, 6, "A1 surveys #HEXIchat", question=1), rule="prefix"),
        replace(post("102", bob, 7, "paper forms", question=1, reply_to="100"), rule="reply"),
        post("103", bob, 1, "Hi, I'm Bob #HEXIchat"),
    ):
        archive.save(item, now=START)
    store.close()
    return tweetchat_env(database=database, token=None)


def test_the_summary_counts_answers_per_question_and_lists_the_latest(
    env: dict[str, str],
) -> None:
    result = run_tweetchat("archive", str(CHAT), "--occurrence", "2026-12-02", env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "hexichat/2026-12-02: 4 posts captured (1 by the bot)" in out
    assert "│ Q1       │ 2     │ prefix 1, reply 1 │" in out
    assert "│ none     │ 1     │ none 1            │" in out
    # Latest last, local times (London is on UTC in December).
    assert out.index("Hi, I'm Bob") < out.index("Q1: How do you") < out.index("paper forms")
    assert "20:07:00" in out


def test_json_lists_every_post_with_its_question_and_rule(env: dict[str, str]) -> None:
    result = run_tweetchat("archive", str(CHAT), "--occurrence", "2026-12-02", "--json", env=env)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["id"] for row in rows] == ["103", "100", "101", "102"]
    assert rows[3] == {
        "platform": "mastodon",
        "id": "102",
        "url": "https://example.social/@bob/102",
        "author": "@bob@example.social",
        "created_at": "2026-12-02T20:07:00+00:00",
        "in_reply_to": "100",
        "question": 1,
        "rule": "reply",
        "text": "paper forms",
    }


def test_an_occurrence_without_posts_says_so(env: dict[str, str]) -> None:
    result = run_tweetchat("archive", str(CHAT), "--occurrence", "2026-12-09", env=env)
    assert result.returncode == 0
    assert result.stdout.strip() == "Nothing captured yet for hexichat/2026-12-09."


def test_a_bad_date_is_refused_with_a_hint(env: dict[str, str]) -> None:
    result = run_tweetchat("archive", str(CHAT), "--occurrence", "2nd of Dec", env=env)
    assert result.returncode == 2
    assert "'2nd of Dec' is not a date" in result.stderr
    assert "2026-12-02" in result.stderr
