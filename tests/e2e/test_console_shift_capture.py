"""A shift from the console keeps the capture of a real `tweetchat run` open: a post made
after the chat's planned end, but before its steered end, is in the archive and the
transcript's numbers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.commands_sql import HostCommandsSql
from bot.bootstrap import open_store
from bot.core.steering import HostCommand
from tests.support.chat_files import RunningBot, published, tweetchat_env, write_chat
from tests.support.mastodon_server import MastodonServer

pytestmark = pytest.mark.slow

TAG = "#ShiftChat"
SHIFT = timedelta(seconds=12)


def test_a_post_after_the_planned_end_but_before_the_steered_one_is_captured(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    bot = mastodon.account("shiftbot", bot=True)
    ana = mastodon.account("ana")
    chat = write_chat(
        tmp_path / "chat.yaml",
        instance=mastodon.base_url,
        questions=2,
        spacing=2,
        lead=3,
        chat_id="shiftchat",
        hashtag=TAG,
        sections={
            "wrapup": {"after": "1s", "folder": str(tmp_path / "out")},
            "follow": {"margin": "5s", "poll_interval": "3s"},
            "boost": {"mode": "off"},
        },
    )
    database = tmp_path / "store.sqlite3"
    env = tweetchat_env(database=database, token=bot.token)
    with RunningBot(chat.path, env=env) as running:
        published(running, "intro")
        store = open_store(f"sqlite:///{database}")
        try:
            HostCommandsSql(store.engine).add(
                HostCommand(
                    0,
                    chat.occurrence.id,
                    "shift",
                    "Ana",
                    datetime.now(UTC),
                    minutes=SHIFT.total_seconds() / 60,
                )
            )
            # Past the planned end and the capture's planned close (end + wrap-up delay).
            late_at = chat.occurrence.end + timedelta(seconds=3)
            time.sleep(max((late_at - datetime.now(UTC)).total_seconds(), 0.0))
            late = mastodon.post(ana, f"A2 a late thought, after the planned end {TAG}")
            assert running.wait_for_event("wrapup.done", timeout=60) is not None, running.output
            assert running.wait(timeout=30) == 0, running.output
            archived = {p.id for p in SqlArchive(store.engine).posts(chat.occurrence.id)}
            closing = store.get(chat.agenda[-1].key)
        finally:
            store.close()

    assert str(late["id"]) in archived
    assert closing is not None
    assert closing.published_at is not None
    assert closing.published_at >= chat.agenda[-1].at + SHIFT  # the shift reached the agenda
