"""The bot's health on the hosts' console, during a real `tweetchat run`: a server that
streams neither over SSE nor WebSocket and rate-limits the hashtag shows as polling, with the
wait and its end, in the console's API and on its page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.chat_files import RunningBot, tweetchat_env, write_chat
from tests.support.console import serving_console, wait_for
from tests.support.mastodon_server import MastodonServer, running_mastodon_without_streaming

pytestmark = pytest.mark.slow

TAG = "#HealthChat"


@pytest.fixture
def mastodon(tmp_path: Path) -> Iterator[MastodonServer]:
    """A server of its own that streams neither over SSE nor WebSocket."""
    with running_mastodon_without_streaming(tmp_path) as server:
        yield server


def test_polling_and_a_rate_limit_wait_show_on_the_console(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    bot = mastodon.account("healthbot", bot=True)
    chat = write_chat(
        tmp_path / "chat.yaml",
        instance=mastodon.base_url,
        questions=2,
        spacing=4,
        lead=3,
        chat_id="healthchat",
        hashtag=TAG,
        sections={
            "wrapup": {"after": "1s", "folder": str(tmp_path / "out")},
            "follow": {"margin": "5s", "poll_interval": "3s"},
            "boost": {"mode": "off"},
        },
    )
    # The first read of the hashtag is refused for a while (X-RateLimit-Reset in 5 minutes).
    mastodon.fault(path_regex=r"^/api/v1/timelines/tag/", type="ratelimit", count=1)
    database = tmp_path / "store.sqlite3"
    env = tweetchat_env(database=database, token=bot.token)
    with RunningBot(chat.path, env=env) as running:
        assert running.wait_for_event("ratelimit.wait", timeout=30), running.output
        with serving_console(chat, database) as console:
            client = console.api()

            def health() -> dict[str, Any] | None:
                answer = client.get(f"/api/occurrences/{chat.occurrence.id}")
                assert answer.status_code == 200, answer.text
                platforms = answer.json()["health"]["platforms"]
                shown = platforms[0] if platforms else None
                if shown and shown["mode"] == "polling" and shown["rate_limit_waits"]:
                    return dict(shown)
                return None

            shown = wait_for(health, timeout=10, what="polling and the wait on the console")
            page = console.page(f"/chat/{chat.config.chat.id}")

    assert shown["platform"] == "mastodon"
    assert "404" in shown["mode_reason"]
    assert shown["rate_limited_until"] is not None  # the wait still lasts: 5 minutes
    assert shown["rate_limit_waits"] == 1
    assert shown["rate_limit_reason"] == "rate limited by the server (Hit rate limit.)"
    assert page.status_code == 200, page.text
    assert "polling" in page.text
    assert "rate-limited until" in page.text
