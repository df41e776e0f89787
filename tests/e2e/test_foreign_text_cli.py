"""Strangers' text in the terminal: `archive`, `doctor` and `plan` print it as plain text.

Posts, names and server messages are printed as their characters, never read as Rich markup
(a crash, or a clickable link) and never passed to the terminal as control sequences.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.store_sql import SqlStore
from tests.support.chat_files import run_tweetchat, tweetchat_env, write_chat
from tests.support.hostile import EVIL, OSC8_LINK, RTL_OVERRIDE, TERMINAL_ATTACKS, hostile_chat
from tests.support.mastodon_server import MastodonServer
from tests.support.posts import START, person, post

CHAT = Path(__file__).resolve().parents[1] / "data" / "golden_chat.yaml"  # hexichat, 2 Dec
# Control characters a terminal acts on: ESC, BEL, CSI and OSC in their 8-bit forms.
CONTROLS = ("\x1b", "\x07", "\x9b", "\x9d", "\x9c", RTL_OVERRIDE)


def _terminal_env(env: dict[str, str], *, colours: bool) -> dict[str, str]:
    """Wide enough that no cell wraps; with ``colours``, Rich writes for a colour terminal."""
    env = {k: v for k, v in env.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TERM")}
    env["COLUMNS"] = "400"
    if colours:
        env.update(FORCE_COLOR="1", TERM="xterm-256color")
    return env


def _assert_plain(output: str) -> None:
    for control in CONTROLS:
        assert control not in output, f"{control!r} reached the terminal"


def _assert_no_hostile_sequence(output: str) -> None:
    """Rich's own colours may be there, but no link, screen clear or title from a stranger."""
    assert "\x1b]8;" not in output  # a hyperlink
    assert "\x1b[2J" not in output
    assert "\x1b]0;" not in output
    assert "\x07" not in output


@pytest.fixture
def hostile_archive(tmp_path: Path) -> Path:
    database = tmp_path / "store.sqlite3"
    store = SqlStore.from_url(f"sqlite:///{database}")
    archive = SqlArchive(store.engine)
    posts, _ = hostile_chat()
    eve = replace(
        person("eve"), handle="@eve\x1b[31m\x1b]8;;https://evil.example\x1b\\@evil.example"
    )
    posts += [
        post(f"t{i}", eve, 20 + i, text, question=2) for i, text in enumerate(TERMINAL_ATTACKS)
    ]
    for item in posts:
        archive.save(item, now=START)
    store.close()
    return database


@pytest.mark.parametrize("colours", [False, True])
def test_archive_prints_hostile_posts_and_names_as_plain_text(
    hostile_archive: Path, colours: bool
) -> None:
    """Issue 12 item 8: `[/archive]` crashed `archive`, `[link=...]` made a hyperlink, and
    raw escapes in posts and names reached the terminal."""
    env = _terminal_env(tweetchat_env(database=hostile_archive, token=None), colours=colours)

    result = run_tweetchat(
        "archive", str(CHAT), "--occurrence", "2026-12-02", "--latest", "100", env=env
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    # Shown as the characters the stranger typed, markup and all.
    assert "A1 [/archive] ends a tag never opened" in out
    assert f"[link={EVIL}/verify]verify your account[/link] [bold red]loud[/]" in out
    assert "]8;;https://evil.example/verify\\click me]8;;\\" in out  # only the ESCs removed
    assert "@eve[31m]8;;https://evil.example\\@evil.example" in out
    if colours:
        _assert_no_hostile_sequence(out)
    else:
        _assert_plain(out)
    assert OSC8_LINK not in out


def test_doctor_prints_a_servers_hostile_message_as_plain_text(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    """Issue 12 item 8: the doctor printed a server's error through Rich markup."""
    bot = mastodon.account("chatbot", bot=True)
    chat = write_chat(tmp_path / "chat.yaml", instance=mastodon.base_url)
    message = f"[/doctor] [link={EVIL}/verify]log in again[/link] {OSC8_LINK} \x1b[2Jgone\x07"
    mastodon.http.post(
        "/api/v1/_mock/faults",
        json={
            "match": {"methods": ["GET"], "path": "/api/v1/accounts/verify_credentials"},
            "effect": {"type": "status", "status": 401, "body": {"error": message}},
        },
    ).raise_for_status()
    env = _terminal_env(
        tweetchat_env(database=tmp_path / "tweetchat.sqlite3", token=bot.token), colours=True
    )
    try:
        result = run_tweetchat("doctor", str(chat.path), env=env)
    finally:
        mastodon.http.delete("/api/v1/_mock/faults").raise_for_status()

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"[/doctor] [link={EVIL}/verify]log in again[/link]" in result.stdout
    assert "[2Jgone" in result.stdout
    _assert_no_hostile_sequence(result.stdout + result.stderr)


def test_plan_prints_the_files_text_as_plain_text(tmp_path: Path) -> None:
    """Issue 12 item 8: `plan` read the chat file's text (and its title) as Rich markup."""
    chat = write_chat(
        tmp_path / "chat.yaml",
        instance="https://example.social",
        questions=2,
        question_texts=[f"What ends [/plan]? {OSC8_LINK}", f"[link={EVIL}]Linked?[/link]"],
    )
    env = _terminal_env(tweetchat_env(database=tmp_path / "x.sqlite3", token=None), colours=False)

    result = run_tweetchat("plan", str(chat.path), env=env)

    assert result.returncode == 0, result.stderr
    assert "What ends [/plan]?" in result.stdout
    assert f"[link={EVIL}]Linked?[/link]" in result.stdout
    _assert_plain(result.stdout + result.stderr)
