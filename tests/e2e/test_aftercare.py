"""After the wrap-up, "forget me" and deletions still reach the transcript files: a real chat
on mastodon_mock, wrapped up by `tweetchat run`; then a participant asks to be forgotten and
another deletes their answer, and the next start of the bot honours both."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.html_text import html_to_text
from tests.support.chat_files import (
    RunningBot,
    log_events,
    published,
    run_tweetchat,
    tweetchat_env,
    write_chat,
)
from tests.support.mastodon_server import MastodonServer

pytestmark = pytest.mark.slow

TAG = "#AfterChat"


def test_forget_me_after_the_wrapup_rewrites_the_files_before_the_reply(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    """Issue 12 item 12: a "forget me" sent after the wrap-up, and an answer deleted after
    it, are read at the next start: every transcript file is written again without the
    person (name, text, id, link) and without the deleted post, and the confirmation goes
    out only after the files were written."""
    bot = mastodon.account("afterbot", bot=True)
    forgetful, deleter, stays = (
        mastodon.account("zoeforgets"),
        mastodon.account("yanndeletes"),
        mastodon.account("walterstays"),
    )
    out = tmp_path / "out"
    chat = write_chat(
        tmp_path / "chat.yaml",
        instance=mastodon.base_url,
        questions=2,
        spacing=2,
        lead=4,
        chat_id="afterchat",
        hashtag=TAG,
        sections={
            "wrapup": {"after": "1s", "folder": str(out)},
            "follow": {"margin": "5s", "poll_interval": "3s", "replies_interval": "5s"},
            "boost": {"mode": "off", "tick": "2s"},
        },
    )
    env = tweetchat_env(database=tmp_path / "store.sqlite3", token=bot.token)
    with RunningBot(chat.path, env=env) as running:
        published(running, "q1")
        forgotten = mastodon.post(forgetful, f"A1 zebra crossings of feedback {TAG}")
        deleted = mastodon.post(deleter, f"A1 yellow sticky notes {TAG}")
        mastodon.post(stays, f"A1 whiteboards in the staff room {TAG}")
        assert running.wait_for_event("wrapup.done", timeout=60) is not None, running.output
        assert running.wait(timeout=30) == 0, running.output

    files = sorted(out.glob(f"afterchat-{chat.occurrence.date}.*"))
    assert [f.suffix for f in files] == [".csv", ".html", ".json", ".md"]
    before = {f.suffix: f.read_text(encoding="utf-8") for f in files}
    assert all("zoeforgets" in text and "yellow sticky notes" in text for text in before.values())

    mastodon.post(forgetful, f"@{bot.username} forget me")
    mastodon.http.delete(
        f"/api/v1/statuses/{deleted['id']}", headers=mastodon.auth(deleter)
    ).raise_for_status()
    again = run_tweetchat("run", str(chat.path), env=env, timeout=90)

    assert again.returncode == 0, again.stderr
    for path in files:
        text = path.read_text(encoding="utf-8")
        for trace in ("zoeforgets", "zebra crossings", forgotten["id"], forgotten["url"]):
            assert trace not in text, (path.suffix, trace)
        assert "yellow sticky notes" not in text, path.suffix
        assert deleted["id"] not in text, path.suffix
        assert "whiteboards in the staff room" in text, path.suffix
    replies = [
        s
        for s in mastodon.statuses_of(bot)
        if any(m["username"] == "zoeforgets" for m in s["mentions"])
    ]
    assert len(replies) == 1
    assert "removed from the archive and transcript" in html_to_text(replies[0]["content"])
    events = [e["event"] for e in log_events(again.stdout + again.stderr)]
    assert "optout.rewritten" in events, again.stdout
    assert "optout.confirmed" in events, again.stdout
    assert events.index("optout.rewritten") < events.index("optout.confirmed")
