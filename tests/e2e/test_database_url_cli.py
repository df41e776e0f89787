"""A malformed DATABASE_URL, met by every command that opens the database, as a host runs
them: one located line, exit 2, no traceback, and never the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.chat_files import run_tweetchat, tweetchat_env, write_chat

PASSWORD = "s3cr3t-pa55"
CASES = {
    f"postgresql://u:{PASSWORD}@host:abc/test": "has a port that is not a number",
    f"postgresql//u:{PASSWORD}@host/test": "is not a database address",
    "garbage": "is not a database address",
}


@pytest.mark.parametrize("command", ["db upgrade", "health", "doctor", "archive", "export", "run"])
def test_a_malformed_database_url_is_one_line_without_the_password(
    command: str, tmp_path: Path
) -> None:
    """Issue 12 item 9: each command gave a Python traceback."""
    chat = write_chat(tmp_path / "chat.yaml", instance="https://example.social")
    args = command.split() + (
        [str(chat.path)] if command in ("doctor", "archive", "export", "run") else []
    )
    for url, reason in CASES.items():
        env = tweetchat_env(database=tmp_path / "unused.sqlite3", token="a-token")
        env["DATABASE_URL"] = url

        result = run_tweetchat(*args, env=env)

        assert result.returncode == 2, (url, result.stdout + result.stderr)
        assert result.stderr.startswith(f"environment: DATABASE_URL: {reason}"), result.stderr
        assert "Traceback" not in result.stderr
        assert PASSWORD not in result.stdout + result.stderr
        assert not (tmp_path / "unused.sqlite3").exists()
