"""`tweetchat run` against a hostile or unlucky world: an odd rate-limit header does not end
the capture, and a part of the run that keeps failing (here the wrap-up, whose folder cannot
be written) makes the exit status non-zero with a one-line reason, without posting a thread
that links files that were never written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.archive_sql import SqlArchive
from bot.bootstrap import open_store
from bot.core.html_text import html_to_text
from tests.support.chat_files import RunningBot, published, tweetchat_env, write_chat
from tests.support.mastodon_server import MastodonServer

pytestmark = pytest.mark.slow

TAG = "#LoudChat"
STREAM = "/api/v1/streaming/hashtag"
TIMELINE = f"/api/v1/timelines/tag/{TAG[1:]}"
HOSTILE_RESETS = ["9" * 400, "²", "1796201630000", "garbage"]


def fault(mastodon: MastodonServer, method: str, path: str, effect: dict[str, Any]) -> None:
    mastodon.http.post(
        "/api/v1/_mock/faults",
        json={"match": {"methods": [method], "path": path}, "effect": effect, "count": 1},
    ).raise_for_status()


def test_hostile_rate_limit_headers_do_not_end_the_capture(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    """Issue 12 item 1: 429s on the stream and the timeline whose X-RateLimit-Reset is a
    400-digit number, ``²``, epoch milliseconds or garbage: the capture goes on (posts made
    after them are archived), every wait is within the cap, and the run exits 0."""
    bot = mastodon.account("loudbot", bot=True)
    ana = mastodon.account("ana")
    for value in HOSTILE_RESETS:
        headers = {"X-RateLimit-Reset": value, "X-RateLimit-Remaining": "0"}
        fault(mastodon, "GET", STREAM, {"type": "status", "status": 429, "headers": headers})
        fault(mastodon, "GET", TIMELINE, {"type": "status", "status": 429, "headers": headers})
    chat = write_chat(
        tmp_path / "chat.yaml",
        instance=mastodon.base_url,
        questions=2,
        spacing=4,
        lead=3,
        chat_id="loudchat",
        hashtag=TAG,
        sections={
            "wrapup": {"after": "2s", "folder": str(tmp_path / "out")},
            "follow": {"margin": "5s", "poll_interval": "3s", "replies_interval": "5s"},
            "boost": {"mode": "off", "tick": "2s"},
        },
    )
    env = tweetchat_env(database=tmp_path / "store.sqlite3", token=bot.token)

    with RunningBot(chat.path, env=env) as running:
        asked = published(running, "q2")
        late = mastodon.post(ana, f"A2 posted after every fault {TAG}")
        untagged = mastodon.post(ana, "an untagged answer", in_reply_to_id=asked["remote_id"])
        code = running.wait(timeout=90)
        events = running.events

    assert code == 0, running.output
    assert not [e for e in events if e["event"].startswith("companion.")], running.output
    waits = [e["seconds"] for e in events if e["event"] == "ratelimit.wait"]
    assert all(0 <= w <= 900 for w in waits), waits
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        archived = {p.id for p in SqlArchive(store.engine).posts(chat.occurrence.id)}
    finally:
        store.close()
    assert {late["id"], untagged["id"]} <= archived, running.output


def test_a_wrapup_that_cannot_write_its_files_fails_the_run_and_posts_nothing(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    """Issue 12 items 1 and 2: the transcript folder cannot be created (a file is in the
    way): the wrap-up is restarted with a backoff and logged as an error each time, no
    wrap-up thread goes out, and the run ends non-zero with the reason on stderr."""
    bot = mastodon.account("wrapfail", bot=True)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be\n", encoding="utf-8")
    chat = write_chat(
        tmp_path / "chat.yaml",
        instance=mastodon.base_url,
        questions=1,
        spacing=2,
        lead=3,
        chat_id="wrapfail",
        hashtag=TAG,
        sections={
            "wrapup": {"after": "1s", "folder": str(blocker / "out")},
            "follow": {"margin": "5s", "poll_interval": "3s", "replies_interval": "5s"},
            "boost": {"mode": "off", "tick": "2s"},
        },
    )
    env = tweetchat_env(database=tmp_path / "store.sqlite3", token=bot.token)

    with RunningBot(chat.path, env=env) as running:
        code = running.wait(timeout=120)
        events = running.events
        stderr = running.stderr

    assert code != 0, running.output
    errors = [e for e in events if e["event"] == "companion.error"]
    assert [e["attempt"] for e in errors] == [1, 2, 3, 4], running.output
    assert all(e["level"] == "error" and e["companion"] == "WrapupTask" for e in errors)
    reasons = [line for line in stderr.splitlines() if line.startswith("tweetchat run:")]
    # The atomic writer names the first file it could not write: the HTML transcript.
    assert len(reasons) == 1, stderr
    assert re.fullmatch(
        re.escape(
            "tweetchat run: chat wrapfail stopped: WrapupTask failed 5 times in a row, last: "
            f"WrapupFailed: cannot write {blocker / 'out'}/wrapfail-"
        )
        + r"\d{4}-\d{2}-\d{2}\.html: Not a directory; the wrap-up thread was not posted",
        reasons[0],
    ), stderr
    texts = [html_to_text(s["content"]) for s in mastodon.statuses_of(bot)]
    assert texts
    assert not [t for t in texts if t.startswith("Thank you all for joining")]
