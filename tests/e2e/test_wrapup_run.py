"""`tweetchat run` wraps a chat up by itself: after the capture, the thread goes out once and
the transcript files, and the series' once there is more than one occurrence, are written to
wrapup.folder. A second run posts nothing again."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.archive_sql import SqlArchive
from bot.bootstrap import open_store
from bot.core.html_text import html_to_text
from tests.support.chat_files import (
    RunningBot,
    published,
    run_tweetchat,
    tweetchat_env,
    write_chat,
)
from tests.support.mastodon_server import MastodonServer
from tests.support.posts import person, post

pytestmark = pytest.mark.slow

TAG = "#WrapChat"


def test_run_posts_the_wrapup_once_and_writes_the_transcript(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    bot = mastodon.account("wrapbot", bot=True)
    ana, ben = mastodon.account("ana"), mastodon.account("ben")
    out = tmp_path / "out"
    chat = write_chat(
        tmp_path / "chat.yaml",
        instance=mastodon.base_url,
        questions=2,
        spacing=2,
        lead=4,
        chat_id="wrapchat",
        hashtag=TAG,
        sections={
            "wrapup": {
                "after": "1s",
                "folder": str(out),
                "transcript_url": "https://example.org/wrapchat/{date}.html",
            },
            "follow": {"margin": "5s", "poll_interval": "3s", "replies_interval": "5s"},
            "boost": {"mode": "off", "tick": "2s"},
        },
    )
    env = tweetchat_env(database=tmp_path / "store.sqlite3", token=bot.token)
    # Ana came to last week's occurrence too: the chat is a series of two now.
    last_week = (date.fromisoformat(chat.occurrence.date) - timedelta(days=7)).isoformat()
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    # On the server too: for a week after a wrap-up the bot re-checks that its posts exist.
    earlier = mastodon.post(ana, "A1 last week's answer")
    try:
        SqlArchive(store.engine).save(
            replace(
                post(str(earlier["id"]), person("ana"), 6, "A1 last week's answer", question=1),
                occurrence=f"wrapchat/{last_week}",
                author=replace(person("ana"), id=ana.id, handle=f"@{ana.username}"),
            ),
            now=datetime.now(UTC),
        )
    finally:
        store.close()

    with RunningBot(chat.path, env=env) as running:
        asked = published(running, "q1")
        answer = mastodon.post(ana, f"A1 paper surveys in the waiting room {TAG}")
        mastodon.post(ben, "comment cards, untagged", in_reply_to_id=asked["remote_id"])
        assert running.wait_for_event("wrapup.done", timeout=60) is not None, running.output
        assert running.wait(timeout=30) == 0, running.output

    texts = [html_to_text(s["content"]) for s in mastodon.statuses_of(bot)]
    home = mastodon.http.get("/api/v2/instance").json()["domain"]
    thread = [t for t in texts if t.startswith("Thank you all for joining")]
    assert thread == [
        f"Thank you all for joining {TAG}: A compressed test chat!\n\n"
        "2 people took part, with 2 posts and 2 answers to 2 questions. "
        "1 of you came for the first time: welcome!\n\n"
        # On the bot's own instance, built from the id: never the url a server sent.
        f"Q1 top answer: {mastodon.base_url}/@{ana.username}@{home}/{answer['id']}\n\n"
        f"The transcript: https://example.org/wrapchat/{chat.occurrence.date}.html"
    ]
    base = out / f"wrapchat-{chat.occurrence.date}"
    page = base.with_suffix(".html").read_text(encoding="utf-8")
    assert "A1 paper surveys in the waiting room" in page
    assert "comment cards, untagged" in page
    assert base.with_suffix(".csv").read_text(encoding="utf-8").count("\n") == 1 + 2 + 4
    series = list(csv.DictReader(io.StringIO((out / "wrapchat-series.csv").read_text())))
    assert [
        (row["date"], row["participants"], row["returning_participants"]) for row in series
    ] == [
        (last_week, "1", "0"),
        (chat.occurrence.date, "2", "1"),
    ]

    again = run_tweetchat("run", str(chat.path), env=env, timeout=60)

    assert again.returncode == 0, again.stderr
    assert len(mastodon.statuses_of(bot)) == len(texts)
