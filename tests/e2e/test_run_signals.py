"""`tweetchat run` as a host runs it: stopped by signals, refused on bad set-up, and quiet
about its token, against a real Mastodon API server."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from bot.core.html_text import html_to_text
from tests.support.chat_files import (
    ChatFile,
    RunningBot,
    run_tweetchat,
    tweetchat_env,
    write_chat,
)
from tests.support.mastodon_server import MastodonServer

# The longest a stop may take: a post in flight finishes and is recorded first.
STOP_WITHIN = 10.0


def public_statuses(mastodon: MastodonServer) -> list[dict[str, Any]]:
    response = mastodon.http.get("/api/v1/timelines/public", params={"limit": 40})
    response.raise_for_status()
    statuses: list[dict[str, Any]] = response.json()
    return statuses


def assert_whole_thread(chat: ChatFile, statuses: list[dict[str, Any]]) -> None:
    assert [html_to_text(s["content"]) for s in statuses] == chat.texts
    assert [s["in_reply_to_id"] for s in statuses] == [None] + [s["id"] for s in statuses[:-1]]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_ends_the_run_cleanly_and_a_restart_finishes_the_chat(
    tmp_path: Path, mastodon: MastodonServer, signum: signal.Signals
) -> None:
    bot = mastodon.account("chatbot")
    chat = write_chat(
        tmp_path / "chat.yaml", instance=mastodon.base_url, questions=3, spacing=1, lead=2
    )
    env = tweetchat_env(
        database=tmp_path / "ledger.sqlite3", token=bot.token, TWEETCHAT_LOG_LEVEL="DEBUG"
    )

    with RunningBot(chat.path, env=env) as first:
        assert first.wait_for_event("post.published") is not None, first.output
        asked = time.monotonic()
        first.signal(signum)
        code = first.wait(timeout=STOP_WITHIN + 5)
        took = time.monotonic() - asked
    posted_before_restart = len(mastodon.statuses_of(bot))
    with RunningBot(chat.path, env=env) as second:
        second_code = second.wait(timeout=30)

    assert code == 0, first.output
    assert took < STOP_WITHIN
    assert [e["signal"] for e in first.events if e["event"] == "shutdown.requested"] == [
        signum.name
    ]
    assert [e["stopped_early"] for e in first.events if e["event"] == "occurrence.end"] == [True]
    assert 1 <= posted_before_restart < len(chat.agenda)
    assert second_code == 0, second.output
    assert_whole_thread(chat, mastodon.statuses_of(bot))
    for output in (first.output, second.output):
        assert bot.token not in output


def test_run_without_the_token_variable_exits_2_naming_it_and_posts_nothing(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    chat = write_chat(tmp_path / "chat.yaml", instance=mastodon.base_url, token_env="HEXI_TOKEN")
    env = tweetchat_env(database=tmp_path / "ledger.sqlite3", token=None, token_env="HEXI_TOKEN")

    result = run_tweetchat("run", str(chat.path), env=env)

    assert result.returncode == 2
    assert "the environment variable HEXI_TOKEN is not set" in result.stderr
    assert "nothing was posted" in result.stderr
    assert public_statuses(mastodon) == []


def test_a_post_over_the_servers_limit_exits_2_and_posts_nothing(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    bot = mastodon.account("chatbot")
    # The file claims a bigger limit than the server has: only the server can tell.
    chat = write_chat(
        tmp_path / "chat.yaml",
        instance=mastodon.base_url,
        question_texts=["Tell us everything. " * 30],
        mastodon={"max_characters": 1000},
    )
    env = tweetchat_env(database=tmp_path / "ledger.sqlite3", token=bot.token)

    validated = run_tweetchat("validate", str(chat.path), env=env)
    result = run_tweetchat("run", str(chat.path), env=env)

    assert validated.returncode == 0, validated.stderr
    assert result.returncode == 2
    assert "posts.questions[1].text: Q1 is " in result.stderr
    assert "characters on mastodon, over its limit of 500" in result.stderr
    assert public_statuses(mastodon) == []
    assert bot.token not in result.stdout + result.stderr


def test_a_refused_token_stops_the_run_before_anything_and_is_never_printed(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    token = "tok-RECOGNISABLE-5e1f0c4b9a7d2e83"
    chat = write_chat(
        tmp_path / "chat.yaml", instance=mastodon.base_url, questions=1, spacing=1, lead=1
    )
    env = tweetchat_env(
        database=tmp_path / "ledger.sqlite3", token=token, TWEETCHAT_LOG_LEVEL="DEBUG"
    )

    result = run_tweetchat("run", str(chat.path), env=env)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "the server refused the token in MASTODON_ACCESS_TOKEN" in result.stderr
    assert "401" in result.stderr
    assert "nothing was posted" in result.stderr
    assert public_statuses(mastodon) == []
    assert token not in result.stdout + result.stderr
