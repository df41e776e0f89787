"""`tweetchat doctor` on Bluesky: the handle resolves, the app password logs in, the bot
label and the lengths are checked, and nothing is written (no session kept)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support.bluesky_network import BlueskyNetwork
from tests.support.chat_files import run_tweetchat, tweetchat_env, write_chat


def _chat(tmp_path: Path, network: BlueskyNetwork, handle: str) -> Path:
    chat = write_chat(
        tmp_path / "chat.yaml",
        instance=network.pds,
        questions=2,
        lead=3600,
        platforms={"bluesky": {"service": network.pds, "handle": handle}},
    )
    return chat.path


def test_doctor_signs_in_checks_the_account_and_keeps_no_session(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    bot = bluesky.create_account("doc", labels=["bot"])
    database = tmp_path / "store.sqlite3"
    env = tweetchat_env(database=database, token=None, BLUESKY_APP_PASSWORD=bot.password)
    assert run_tweetchat("db", "upgrade", env=env).returncode == 0

    done = run_tweetchat("doctor", str(_chat(tmp_path, bluesky, bot.handle)), env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"signed in as @{bot.handle}" in done.stdout
    assert "flagged as a bot" in done.stdout
    assert f"{bot.handle} resolves to {bot.did}" in done.stdout
    assert "logged in with the app password" in done.stdout
    assert "announces no rate limit" in done.stdout  # the local PDS sends no ratelimit-*
    assert "300" in done.stdout  # the post length limit, in graphemes
    assert bot.password not in done.stdout + done.stderr
    with create_engine(f"sqlite:///{database}").connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM bluesky_sessions")).scalar() == 0


def test_doctor_says_a_wrong_app_password_is_refused_and_how_to_fix_it(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    bot = bluesky.create_account("doc")
    wrong = "wrong-app-password-9876"
    env = tweetchat_env(database=tmp_path / "none.sqlite3", token=None, BLUESKY_APP_PASSWORD=wrong)

    done = run_tweetchat("doctor", str(_chat(tmp_path, bluesky, bot.handle)), env=env)

    assert done.returncode == 1
    assert "refused the login" in done.stdout
    assert "App passwords" in done.stdout
    assert wrong not in done.stdout + done.stderr
    assert not (tmp_path / "none.sqlite3").exists()  # doctor writes nothing
