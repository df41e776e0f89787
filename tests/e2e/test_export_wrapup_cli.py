"""`tweetchat export` and `tweetchat wrapup`, run as a host runs them, on a stored archive.

The database is filled the way a run fills it (archive, ledger, opt-outs, boost decisions)
with the golden archive, so the files the commands write must equal the golden files.
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.store_curation import CurationSql
from bot.bootstrap import open_store
from bot.core.html_text import html_to_text
from bot.ports.curation import BoostDecision
from tests.support.chat_files import run_tweetchat, tweetchat_env
from tests.support.mastodon_server import MastodonServer
from tests.support.synthetic_chat import load_chat, store_chat

DATA = Path(__file__).resolve().parent.parent / "data"
GOLDEN = DATA / "golden"
CHAT_FILE = DATA / "golden_chat.yaml"
NOW = datetime(2026, 12, 2, 21, 20, tzinfo=UTC)


def seed(database: Path) -> None:
    """Store the golden archive as a run would have: posts, the question posts in the
    ledger, one opt-out, the boosts, and earlier posts of the returning people."""
    chat = load_chat(DATA / "chat_archive.json")
    store = open_store(f"sqlite:///{database}")
    try:
        store_chat(store, chat, now=NOW)
        archive = SqlArchive(store.engine)
        curation = CurationSql(store.engine)
        by_ref = {(p.platform, p.id): p for p in chat.posts}
        for key in chat.opted_out:
            platform, author_id = key.split(":", 1)
            curation.add_optout(platform, author_id, kind="stop", status_id="s1", now=NOW)
        for platform, post_id in chat.boosted:
            post = by_ref[(platform, post_id)]
            curation.save_decision(
                BoostDecision(
                    occurrence=chat.occurrence,
                    platform=platform,
                    post_id=post_id,
                    author=f"{platform}:{post.author.id}",
                    question=post.question or 0,
                    state="boosted",
                    decided_at=NOW,
                    boosted_at=NOW,
                )
            )
        authors = {f"{p.author.platform}:{p.author.id}": p.author for p in chat.posts}
        for key in chat.earlier_authors:
            author = authors[key]
            archive.save(
                replace(
                    chat.posts[-1],
                    author=author,
                    id=f"earlier-{author.id}",
                    occurrence="hexichat/2026-11-25",
                    platform=author.platform,
                ),
                now=NOW,
            )
    finally:
        store.close()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "tweetchat.sqlite3"
    seed(path)
    return path


def test_export_writes_the_golden_csv_and_json(database: Path, tmp_path: Path) -> None:
    env = tweetchat_env(database=database, token=None)
    for fmt, name in (("csv", "transcript.csv"), ("json", "transcript.json")):
        target = tmp_path / f"out.{fmt}"
        done = run_tweetchat(
            "export",
            str(CHAT_FILE),
            "--format",
            fmt,
            "--occurrence",
            "2026-12-02",
            "-o",
            str(target),
            env=env,
        )

        assert done.returncode == 0, done.stderr
        assert done.stdout == f"Wrote {target} (94 posts of hexichat/2026-12-02).\n"
        assert target.read_bytes() == (GOLDEN / name).read_bytes()


def test_export_html_into_a_folder_and_json_to_standard_output(
    database: Path, tmp_path: Path
) -> None:
    env = tweetchat_env(database=database, token=None)

    into_folder = run_tweetchat(
        "export", str(CHAT_FILE), "--occurrence", "2026-12-02", "-o", str(tmp_path), env=env
    )
    to_stdout = run_tweetchat(
        "export",
        str(CHAT_FILE),
        "--format",
        "json",
        "--occurrence",
        "2026-12-02",
        "-o",
        "-",
        env=env,
    )

    assert into_folder.returncode == 0, into_folder.stderr
    page = (tmp_path / "hexichat-2026-12-02.html").read_text(encoding="utf-8")
    assert '<h2 id="q6-h" dir="auto">Q6: How do you keep the stories alongside the scores?' in page
    assert json.loads(to_stdout.stdout)["statistics"]["participants"] == 30


def test_a_transcript_keeps_the_questions_asked_after_the_file_is_rewritten(
    database: Path, tmp_path: Path
) -> None:
    # The host of a weekly series writes next week's questions into the same file.
    numbers = iter(range(1, 7))
    text = re.sub(
        r'(- \{at: \d+m, text: )"[^"]*"',
        lambda m: f'{m.group(1)}"Next week, question {next(numbers)}?"',
        CHAT_FILE.read_text(encoding="utf-8"),
    )
    rewritten = tmp_path / "chat.yaml"
    rewritten.write_text(text, encoding="utf-8")
    assert "Next week, question 6?" in text
    target = tmp_path / "out.csv"

    env = tweetchat_env(database=database, token=None)
    done = run_tweetchat(
        "export", str(rewritten), "--format", "csv", "--occurrence", "2026-12-02",
        "-o", str(target), env=env,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == (GOLDEN / "transcript.csv").read_bytes()
    page = run_tweetchat(
        "export", str(rewritten), "--occurrence", "2026-12-02", "-o", "-", env=env
    ).stdout
    assert "Q6: How do you keep the stories alongside the scores?" in page
    assert "Next week" not in page


def test_export_of_an_occurrence_with_nothing_captured_says_so(database: Path) -> None:
    env = tweetchat_env(database=database, token=None)

    done = run_tweetchat("export", str(CHAT_FILE), "--occurrence", "2026-12-09", "-o", "-", env=env)

    assert done.returncode == 1
    assert done.stdout == ""
    assert "Nothing captured for hexichat/2026-12-09" in done.stderr


def test_export_of_a_malformed_date_is_a_usage_error(database: Path) -> None:
    env = tweetchat_env(database=database, token=None)

    done = run_tweetchat("export", str(CHAT_FILE), "--occurrence", "2-12-2026", env=env)

    assert done.returncode == 2
    assert "'2-12-2026' is not a date" in done.stderr


def test_export_series_has_a_row_per_occurrence_that_agrees_with_each(
    database: Path, tmp_path: Path
) -> None:
    env = tweetchat_env(database=database, token=None)

    series = run_tweetchat(
        "export", str(CHAT_FILE), "--series", "--format", "csv", "-o", "-", env=env
    )
    occurrence = run_tweetchat(
        "export", str(CHAT_FILE), "--format", "json", "--occurrence", "2026-12-02", "-o", "-",
        env=env,
    )  # fmt: skip

    assert series.returncode == 0, series.stderr
    rows = list(csv.DictReader(io.StringIO(series.stdout)))
    assert [row["date"] for row in rows] == ["2026-11-25", "2026-12-02"]
    # The earlier occurrence holds one post by each of the returning people.
    stats = json.loads(occurrence.stdout)["statistics"]
    assert rows[0]["participants"] == rows[0]["posts"] == str(stats["returning_participants"])
    assert rows[0]["new_participants"] == rows[0]["participants"]
    for column in ("participants", "new_participants", "returning_participants", "posts"):
        assert rows[1][column] == str(stats[column]), column


def test_export_series_into_the_folder_up_to_a_date(database: Path, tmp_path: Path) -> None:
    env = tweetchat_env(database=database, token=None)

    done = run_tweetchat(
        "export", str(CHAT_FILE), "--series", "--occurrence", "2026-11-25", "--format", "json",
        "-o", str(tmp_path), env=env,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    target = tmp_path / "hexichat-series.json"
    assert done.stdout == f"Wrote {target} (1 occurrence of hexichat, 2026-11-25 to 2026-11-25).\n"
    document = json.loads(target.read_text(encoding="utf-8"))
    assert [o["date"] for o in document["occurrences"]] == ["2026-11-25"]


def test_export_series_of_an_empty_archive_says_so(tmp_path: Path) -> None:
    env = tweetchat_env(database=tmp_path / "empty.sqlite3", token=None)

    done = run_tweetchat("export", str(CHAT_FILE), "--series", "-o", "-", env=env)

    assert done.returncode == 1
    assert done.stdout == ""
    assert "Nothing captured for hexichat: no series to report." in done.stderr


def golden_thread(platform: str, *, instance: str) -> list[str]:
    """The golden thread as the bot writes it for a chat on ``instance``: top answers are
    linked on the bot's own instance."""
    text = (GOLDEN / f"wrapup-{platform}.txt").read_text(encoding="utf-8")
    text = text.replace("https://example.social/", f"{instance}/")
    parts = [part.split("\n", 1)[1] for part in text.split("--- ")[1:]]
    return [part.removesuffix("\n") for part in parts]


def mastodon_chat_file(tmp_path: Path, mastodon: MastodonServer) -> Path:
    text = CHAT_FILE.read_text(encoding="utf-8")
    text = text.replace("instance: https://example.social", f"instance: {mastodon.base_url}")
    text = text.replace("  x: {}\n", "")
    text += f"  folder: {tmp_path / 'out'}\n"
    path = tmp_path / "chat.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_wrapup_dry_run_shows_the_thread_and_posts_nothing(
    database: Path, tmp_path: Path, mastodon: MastodonServer
) -> None:
    bot = mastodon.account("hexibot")
    chat = mastodon_chat_file(tmp_path, mastodon)

    done = run_tweetchat(
        "wrapup",
        str(chat),
        "--occurrence",
        "2026-12-02",
        "--dry-run",
        env=tweetchat_env(database=database, token=bot.token),
    )

    assert done.returncode == 0, done.stderr
    for part in golden_thread("mastodon", instance=mastodon.base_url):
        assert textwrap.indent(part, "    ") in done.stdout
    assert "hexichat/2026-12-02/wrapup-2/mastodon (" in done.stdout
    assert done.stdout.endswith("Dry run: nothing was posted or written.\n")
    assert mastodon.statuses_of(bot) == []
    assert not (tmp_path / "out").exists()


def test_wrapup_posts_the_thread_once_and_writes_the_transcript(
    database: Path, tmp_path: Path, mastodon: MastodonServer
) -> None:
    bot = mastodon.account("hexibot")
    chat = mastodon_chat_file(tmp_path, mastodon)
    env = tweetchat_env(database=database, token=bot.token)

    first = run_tweetchat("wrapup", str(chat), "--occurrence", "2026-12-02", env=env)
    again = run_tweetchat("wrapup", str(chat), "--occurrence", "2026-12-02", env=env)

    assert first.returncode == 0, first.stderr
    assert "hexichat/2026-12-02/wrapup-1/mastodon: published" in first.stdout
    assert "hexichat/2026-12-02/wrapup-2/mastodon: published" in first.stdout
    statuses = mastodon.statuses_of(bot)
    assert [html_to_text(s["content"]) for s in statuses] == golden_thread(
        "mastodon", instance=mastodon.base_url
    )
    assert statuses[1]["in_reply_to_id"] == statuses[0]["id"]
    assert again.returncode == 0, again.stderr
    assert "hexichat/2026-12-02/wrapup-2/mastodon: skipped" in again.stdout
    assert len(mastodon.statuses_of(bot)) == 2
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    # The archive holds an earlier occurrence too: the series' files come with the transcript.
    assert written == [
        f"hexichat-{name}.{ext}"
        for name in ("2026-12-02", "series")
        for ext in ("csv", "html", "json", "md")
    ]
    series = list(
        csv.DictReader(io.StringIO((tmp_path / "out" / "hexichat-series.csv").read_text()))
    )
    assert [row["date"] for row in series] == ["2026-11-25", "2026-12-02"]
    assert (tmp_path / "out" / "hexichat-2026-12-02.csv").read_bytes() == (
        GOLDEN / "transcript.csv"
    ).read_bytes()
