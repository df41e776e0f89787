"""Issue 11, noindex, on a real chat: mastodon_mock behind a loopback proxy that gives one
participant Mastodon's ``noindex: true`` (mastodon_mock itself always answers null)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.html_text import html_to_text
from tests.support.chat_files import RunningBot, published, tweetchat_env, write_chat
from tests.support.mastodon_server import MastodonServer
from tests.support.noindex_proxy import NoindexProxy

pytestmark = pytest.mark.slow


def test_a_noindex_participant_is_named_in_no_file_of_a_real_chat(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    """Issue 11 (noindex): a chat run through a proxy that gives one participant Mastodon's
    ``noindex: true``: their answer, the most favourited, is in the transcript unnamed and
    unlinked, and the wrap-up thread names and links someone else's."""
    bot = mastodon.account("idxbot", bot=True)
    hidden, seen = mastodon.account("quietquinn"), mastodon.account("openolga")
    out = tmp_path / "out"
    with NoindexProxy(mastodon.base_url, noindex={"quietquinn"}) as proxy:
        chat = write_chat(
            tmp_path / "chat.yaml",
            instance=proxy.base_url,
            questions=1,
            spacing=3,
            lead=4,
            chat_id="idxchat",
            hashtag="#IdxChat",
            sections={
                "wrapup": {"after": "1s", "folder": str(out), "mention": True},
                "follow": {"margin": "5s", "poll_interval": "3s", "replies_interval": "5s"},
                "boost": {"mode": "off", "tick": "2s"},
            },
        )
        env = tweetchat_env(database=tmp_path / "store.sqlite3", token=bot.token)
        with RunningBot(chat.path, env=env) as running:
            published(running, "q1")
            quiet = mastodon.post(hidden, "A1 quilted answer #IdxChat")
            olga = mastodon.post(seen, "A1 orange answer #IdxChat")
            mastodon.http.post(
                f"/api/v1/statuses/{quiet['id']}/favourite", headers=mastodon.auth(seen)
            ).raise_for_status()
            assert running.wait_for_event("wrapup.done", timeout=60) is not None, running.output
            assert running.wait(timeout=30) == 0, running.output

    for path in sorted(out.glob("idxchat-*.*")):
        text = path.read_text(encoding="utf-8")
        assert "quilted answer" in text, path.suffix
        assert "quietquinn" not in text, path.suffix
        assert quiet["id"] not in text, path.suffix
    (thread,) = [
        html_to_text(s["content"])
        for s in mastodon.statuses_of(bot)
        if "Thank you all for joining" in s["content"]
    ]
    assert "quietquinn" not in thread
    assert "@openolga@" in thread
    assert f"/{olga['id']}" in thread
