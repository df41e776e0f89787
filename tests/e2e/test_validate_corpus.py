"""`tweetchat validate` and `tweetchat run` on the bad-config corpus, as a host runs them.

Every file of tests/config_corpus must be refused with exit status 2, every message that
tests/config_corpus/expected.yaml lists for it, and the promise that nothing was posted.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.support.chat_files import run_tweetchat, tweetchat_env
from tests.support.mastodon_server import MastodonServer

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "config_corpus"
EXPECTED: dict[str, list[str]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
EXAMPLE = ROOT / "config" / "example.yaml"
# The token pasted into two corpus files: it must never be echoed back.
PASTED_TOKEN = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return tweetchat_env(database=tmp_path / "ledger.sqlite3", token=None)


def test_every_corpus_file_has_its_expected_messages_and_no_more() -> None:
    files = sorted(p.name for p in CORPUS.glob("*.yaml") if p.name != "expected.yaml")
    assert len(files) >= 18
    assert files == sorted(EXPECTED)
    assert all(EXPECTED[name] for name in files)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_validate_refuses_the_file_with_its_messages(name: str, env: dict[str, str]) -> None:
    result = run_tweetchat("validate", str(CORPUS / name), env=env)

    assert result.returncode == 2, result.stderr
    for text in EXPECTED[name]:
        assert text in result.stderr, f"{text!r} missing from:\n{result.stderr}"
    assert "nothing was posted" in result.stderr
    assert result.stdout == ""
    assert PASTED_TOKEN not in result.stderr


def test_several_problems_are_all_reported_in_file_order(env: dict[str, str]) -> None:
    result = run_tweetchat("validate", str(CORPUS / "several_problems.yaml"), env=env)

    lines = [int(n) for n in re.findall(r"several_problems\.yaml:(\d+):", result.stderr)]
    assert lines == [5, 6, 14]


def test_the_example_is_ok(env: dict[str, str]) -> None:
    result = run_tweetchat("validate", str(EXAMPLE), env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert result.stderr == ""


SHORT_CHAT = """\
chat:
  id: linkchat
  title: Links
  hashtag: "#HEXIchat"
  timezone: Europe/London
  start: 2026-12-02 20:00
platforms:
  mastodon:
    instance: https://example.social
    max_characters: 70
posts:
  intro: {text: "Welcome!"}
  questions:
    - {at: 5m, text: "Short question?"}
  closing: {at: 55m, text: "CLOSING"}
"""


@pytest.mark.parametrize(
    ("link", "accepted"),
    [
        # 33 + 23 + " #HEXIchat" = 66 as Mastodon counts, though 101 characters as typed.
        ("https://example.org/patient-experience/survey-2026/results-and-comments", True),
        # The same length of plain text is counted in full: 111 characters.
        ("example dot org slash patient experience slash survey 2026 slash results", False),
    ],
)
def test_a_long_url_counts_23_characters(
    link: str, accepted: bool, tmp_path: Path, env: dict[str, str]
) -> None:
    config = tmp_path / "chat.yaml"
    config.write_text(SHORT_CHAT.replace("CLOSING", f"Read the survey before we start: {link}"))

    result = run_tweetchat("validate", str(config), env=env)

    if accepted:
        assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr
    else:
        assert result.returncode == 2
        assert (
            "posts.closing.text: the closing is 115 characters on mastodon, over its limit of 70"
            in (result.stderr)
        )


def test_run_refuses_a_bad_file_and_posts_nothing(tmp_path: Path, mastodon: MastodonServer) -> None:
    bot = mastodon.account("chatbot")
    config = tmp_path / "chat.yaml"
    config.write_text(
        (CORPUS / "question_after_end.yaml")
        .read_text()
        .replace("https://example.social", mastodon.base_url)
    )
    env = tweetchat_env(database=tmp_path / "ledger.sqlite3", token=bot.token)

    result = run_tweetchat("run", str(config), env=env)

    assert result.returncode == 2, result.stderr
    assert "posts.questions[4].at: Q4 at 1h10m is after the end of the chat" in result.stderr
    assert "nothing was posted" in result.stderr
    assert mastodon.statuses_of(bot) == []


def test_run_refuses_a_post_over_the_servers_limit(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    """The file allows 1000 characters; the server says 500: the server wins, before posting."""
    bot = mastodon.account("chatbot")
    long_question = "Tell us everything. " * 26  # 520 characters
    config = tmp_path / "chat.yaml"
    config.write_text(
        (CORPUS / "too_long_for_mastodon.yaml")
        .read_text()
        .replace("max_characters: 120", "max_characters: 1000")
        .replace("https://example.social", mastodon.base_url)
        .replace('"Who acts on it, and how?"', f'"{long_question.strip()}"')
        .replace(
            '"Whose voices are missing from the feedback you gather: young people, carers, '
            'people who do not speak English, people who never complain?"',
            '"Whose voices are missing?"',
        )
    )
    env = tweetchat_env(database=tmp_path / "ledger.sqlite3", token=bot.token)
    assert run_tweetchat("validate", str(config), env=env).returncode == 0

    result = run_tweetchat("run", str(config), env=env)

    assert result.returncode == 2, result.stderr
    length = len(f"Q2: {long_question.strip()} #HEXIchat")
    assert (
        f"posts.questions[2].text: Q2 is {length} characters on mastodon, over its limit of 500"
        in (result.stderr)
    )
    assert "nothing was posted" in result.stderr
    assert mastodon.statuses_of(bot) == []


def test_run_without_the_token_variable_names_it_and_posts_nothing(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    bot = mastodon.account("chatbot")
    config = tmp_path / "chat.yaml"
    config.write_text(EXAMPLE.read_text().replace("https://example.social", mastodon.base_url))
    env = tweetchat_env(database=tmp_path / "ledger.sqlite3", token=None)

    result = run_tweetchat("run", str(config), env=env)

    assert result.returncode == 2, result.stderr
    assert (
        "platforms.mastodon.token_env: the environment variable MASTODON_ACCESS_TOKEN is not set"
        in (result.stderr)
    )
    assert "export MASTODON_ACCESS_TOKEN=" in result.stderr
    assert "nothing was posted" in result.stderr
    assert mastodon.statuses_of(bot) == []


@pytest.mark.parametrize("command", ["plan", "run", "doctor", "rehearse"])
@pytest.mark.parametrize("name", ["alias_bomb.yaml", "deep_nesting.yaml"])
def test_every_command_refuses_an_unbounded_file(
    command: str, name: str, env: dict[str, str]
) -> None:
    """Issue 12 item 7: every command reads the chat file through the same bounded reader."""
    result = run_tweetchat(command, str(CORPUS / name), env=env)

    assert result.returncode == 2, result.stderr
    assert EXPECTED[name][0] in result.stderr
    assert "Traceback" not in result.stderr
