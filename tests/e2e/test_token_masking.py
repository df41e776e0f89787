"""A server that echoes the bot's token in its errors gets it printed, logged or stored
nowhere: not by `run` (its messages and log lines), not in `doctor`'s table, not in the
ledger's stored reasons."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.support.chat_files import run_tweetchat, tweetchat_env, write_chat
from tests.support.mastodon_server import MastodonServer

pytestmark = pytest.mark.slow

# A token folded over two lines of a table still leaks: look for any piece this long.
PIECE = 8


def leaks(token: str, text: str) -> list[str]:
    """The pieces of ``token`` that ``text`` shows."""
    pieces = {token[i : i + PIECE] for i in range(len(token) - PIECE + 1)}
    return sorted(piece for piece in pieces if piece in text)


def echo_token(mastodon: MastodonServer, token: str, method: str, path: str, status: int) -> None:
    """Make the server answer ``method path`` with an error that repeats the token."""
    mastodon.http.post(
        "/api/v1/_mock/faults",
        json={
            "match": {"methods": [method], "path": path},
            "effect": {
                "type": "status",
                "status": status,
                "body": {"error": f"The access token {token} is not valid here"},
            },
            "count": 100,
        },
    ).raise_for_status()


def chat_for(mastodon: MastodonServer, tmp_path: Path) -> Path:
    return write_chat(
        tmp_path / "chat.yaml", instance=mastodon.base_url, questions=1, spacing=1, lead=2
    ).path


def test_doctor_and_run_do_not_print_an_echoed_token(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    """Issue 12 item 6: the server refuses the token, quoting it: `doctor` reports the
    refusal and `run` refuses to start, and neither shows any piece of the token."""
    bot = mastodon.account("echobot", bot=True)
    echo_token(mastodon, bot.token, "GET", "/api/v1/accounts/verify_credentials", 401)
    chat = chat_for(mastodon, tmp_path)
    env = tweetchat_env(database=tmp_path / "store.sqlite3", token=bot.token)

    # Wide enough that the table does not wrap the server's message mid-sentence.
    doctor = run_tweetchat("doctor", str(chat), env={**env, "COLUMNS": "400"})
    run = run_tweetchat("run", str(chat), env=env)

    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    assert "The access token *** is" in doctor.stdout
    assert leaks(bot.token, doctor.stdout + doctor.stderr) == []
    assert run.returncode == 2, run.stdout + run.stderr
    assert "the server refused the token" in run.stderr
    assert leaks(bot.token, run.stdout + run.stderr) == []


def test_run_neither_logs_nor_stores_an_echoed_token(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    """Issue 12 item 6: every post is refused with the token in the message: the log lines
    say why without it, and the ledger's stored reasons do not hold it."""
    bot = mastodon.account("echobot", bot=True)
    echo_token(mastodon, bot.token, "POST", "/api/v1/statuses", 422)
    chat = chat_for(mastodon, tmp_path)
    database = tmp_path / "store.sqlite3"
    env = tweetchat_env(database=database, token=bot.token)

    run = run_tweetchat("run", str(chat), env=env, timeout=60)

    failed = [line for line in run.stdout.splitlines() if '"post.failed"' in line]
    assert len(failed) == 3, run.stdout + run.stderr  # the intro, Q1, the closing
    assert all("is not valid here" in line for line in failed)
    assert leaks(bot.token, run.stdout + run.stderr) == []
    with sqlite3.connect(database) as db:
        stored = "\n".join(db.iterdump())
        errors: list[Any] = db.execute("select error from ledger").fetchall()
    assert [e for (e,) in errors if "is not valid here" in e]
    assert len(errors) == 3
    assert leaks(bot.token, stored) == []
