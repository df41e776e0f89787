"""The `tweetchat` command and X: credentials from the environment, and what `plan` says a
chat will cost there."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.support.chat_files import run_tweetchat, tweetchat_env


def write_chat(tmp_path: Path, *, closing: str, budget: dict[str, object]) -> Path:
    document = {
        "chat": {
            "id": "hexichat",
            "title": "Patient experience",
            "hashtag": "#HEXIchat",
            "timezone": "Europe/London",
            "start": "2026-12-02 20:00",
        },
        "platforms": {"x": {"api_base": "http://127.0.0.1:9", "budget": budget}},
        "posts": {
            "intro": {"text": "Welcome to {hashtag}!"},
            "questions": [{"at": "5m", "text": "How do you gather feedback?"}],
            "closing": {"at": "50m", "text": closing},
        },
    }
    path = tmp_path / "chat.yaml"
    path.write_text(yaml.safe_dump(document), "utf-8")
    return path


def test_run_without_the_x_credentials_exits_2_naming_each_variable(tmp_path: Path) -> None:
    chat = write_chat(tmp_path, closing="Thanks!", budget={})
    env = tweetchat_env(database=tmp_path / "db.sqlite3", token=None, X_API_KEY="k" * 25)

    result = run_tweetchat("run", str(chat), env=env)

    assert result.returncode == 2
    for name in ("X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_SECRET"):
        assert f"the environment variable {name} is not set" in result.stderr
    assert "X_API_KEY is not set" not in result.stderr
    assert "k" * 25 not in result.stdout + result.stderr
    assert "nothing was posted" in result.stderr


def test_plan_prints_the_cost_on_x_and_warns_about_urls(tmp_path: Path) -> None:
    chat = write_chat(
        tmp_path, closing="Thanks! Notes: https://example.org/notes", budget={"max_usd": 2.0}
    )
    env = tweetchat_env(database=tmp_path / "db.sqlite3", token=None)

    result = run_tweetchat("plan", str(chat), env=env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # $0.23 for the agenda, $0.045 for a wrap-up of three posts, $1.90 to read 300 posts.
    assert "X: about $2.175 per occurrence (max_usd $2.00)" in lines
    assert "  agenda: 3 posts, $0.23 (1 with a URL)" in lines
    assert (
        "warning: hexichat/2026-12-02/closing/x contains a URL (https://example.org/notes): "
        "X charges $0.20 for it instead of $0.015"
    ) in lines
    assert any(line.startswith("  warning: more than the cap") for line in lines)


def test_validate_refuses_a_cap_below_the_bots_own_posts(tmp_path: Path) -> None:
    chat = write_chat(tmp_path, closing="Notes: https://example.org/n", budget={"max_usd": 0.2})
    env = tweetchat_env(database=tmp_path / "db.sqlite3", token=None)

    result = run_tweetchat("validate", str(chat), env=env)

    assert result.returncode == 2
    assert "platforms.x.budget.max_usd: the agenda's 3 posts on X cost $0.23" in result.stderr
