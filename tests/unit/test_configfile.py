"""From the text of a chat file to a config, or to problems that say where and what."""

from datetime import datetime

import pytest

from bot.core.configfile import parse_config
from bot.core.problems import ConfigError, Problem
from tests.support.config_text import chat_text

GOOD = """\
chat:
  id: hexichat
  title: Patient experience in primary care
  hashtag: "#HEXIchat"
  timezone: Europe/London
  start: 2026-12-02 20:00:30
platforms:
  mastodon:
    instance: https://example.social
posts:
  intro: {text: "Welcome to {hashtag}!"}
  questions:
    - at: 5m
      text: How do you gather patient experience data?
    - at: 13m
      text: Who acts on it?
  closing: {at: 55m, text: "Thank you!"}
"""


def _problems(text: str) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, filename="chat.yaml")
    assert info.value.filename == "chat.yaml"
    return info.value.problems


def _where(problem: Problem) -> tuple[int | None, tuple[str | int, ...]]:
    return problem.line, problem.loc


def test_a_good_file_parses() -> None:
    config = parse_config(GOOD, filename="chat.yaml")
    assert config.chat.start == datetime(2026, 12, 2, 20, 0, 30)
    assert [q.text for q in config.posts.questions][1] == "Who acts on it?"


def test_a_nested_error_names_the_line_of_its_key() -> None:
    text = GOOD.replace("    - at: 13m", "    - at: 13 minutes")

    [problem] = _problems(text)

    assert _where(problem) == (15, ("posts", "questions", 1, "at"))
    assert problem.render("chat.yaml").startswith(
        "chat.yaml:15: posts.questions[2].at: '13 minutes' is not a duration\n"
        "    hint: did you mean 13m?"
    )


def test_a_missing_key_points_at_its_section() -> None:
    text = GOOD.replace("    - at: 13m\n      text:", "    - text:")

    [problem] = _problems(text)

    assert _where(problem) == (15, ("posts", "questions", 1, "at"))
    assert problem.message == "'at' is required here"


def test_cross_field_problems_have_lines_too() -> None:
    text = GOOD.replace("{at: 55m,", "{at: 2h,")

    [problem] = _problems(text)

    assert _where(problem) == (17, ("posts", "closing", "at"))
    assert "after the end of the chat (duration 1h)" in problem.message


def test_every_problem_is_reported_in_file_order() -> None:
    text = (
        GOOD.replace("Europe/London", "Europe/Londn")
        .replace("  questions:", "  questions:\n    - {at: 1m, txt: typo}")
        .replace("platforms:", "platforms:\n  mastodn: {}")
    )

    problems = _problems(text)

    assert [_where(p) for p in problems] == [
        (5, ("chat", "timezone")),
        (8, ("platforms", "mastodn")),
        # Once, as a misspelling: not again as a missing `text`.
        (14, ("posts", "questions", 0, "txt")),
    ]
    assert problems[2].hint == "did you mean 'text'?"


def test_a_duplicate_key_is_reported_with_the_rest() -> None:
    text = GOOD.replace("  title: Patient", "  id: again\n  title: Patient").replace(
        "Europe/London", "Mars/Olympus"
    )

    problems = _problems(text)

    assert [(p.line, p.message) for p in problems][:2] == [
        (3, "the key 'id' is given twice (first on line 2)"),
        (6, "'Mars/Olympus' is not a known time zone"),
    ]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("off", "off"),  # YAML 1.1 would read a boolean False
        ("NO", "NO"),  # ... and Norway's code too
        ("yes", "yes"),
        ("On", "On"),
        ("2026-12-02", "2026-12-02"),  # no date objects either
    ],
)
def test_yaml_1_1_words_stay_text(written: str, read: str) -> None:
    config = parse_config(GOOD.replace("Who acts on it?", written), filename="chat.yaml")
    assert config.posts.questions[1].text == read


def test_mode_off_stays_the_word_off() -> None:
    config = parse_config(GOOD + "boost:\n  mode: off\n", filename="chat.yaml")
    assert config.boost.mode == "off"


def test_true_and_false_are_still_booleans() -> None:
    config = parse_config(chat_text(posts={"thread": False}), filename="chat.yaml")
    assert config.posts.thread is False


def test_merge_keys_work() -> None:
    text = GOOD.replace(
        '  closing: {at: 55m, text: "Thank you!"}',
        '  closing:\n    <<: {at: 55m}\n    text: "Thank you!"',
    )
    config = parse_config(text, filename="chat.yaml")
    assert config.posts.closing is not None
    assert config.posts.closing.text == "Thank you!"


def test_anchors_and_aliases_within_reason_work() -> None:
    text = GOOD.replace(
        "    - at: 5m\n", '    - <<: &same {text: "Same?"}\n      at: 5m\n'
    ).replace("    - at: 13m\n      text: Who acts on it?", "    - <<: *same\n      at: 13m")
    config = parse_config(
        text.replace("      text: How do you gather patient experience data?\n", ""),
        filename="chat.yaml",
    )
    assert [q.text for q in config.posts.questions] == ["Same?", "Same?"]


def test_an_alias_bomb_is_refused_at_the_alias_that_passes_the_budget() -> None:
    """Issue 12 item 7: aliases are counted as composed, not expanded to find out."""
    levels = ['  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for name, prev in zip("bcdefghij", "abcdefghi", strict=True):
        levels.append(f"  {name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    text = GOOD + "bomb:\n" + "\n".join(levels) + "\n"

    [problem] = _problems(text)

    # a stands for 10 values, b 91, c 820, d 7381: the second *d, on e's line, passes 10 000.
    assert problem.line == GOOD.count("\n") + 6
    assert problem.message == (
        "the alias *d makes the file more than 10000 values long once aliases are expanded"
    )


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    """Issue 12 item 7: a self-containing value would recurse for ever when read."""
    [problem] = _problems(GOOD + "loop: &loop [1, *loop]\n")

    assert problem.line == GOOD.count("\n") + 1
    assert problem.message == "the alias *loop is inside the value it names"


def test_deep_nesting_is_refused_with_its_line() -> None:
    """Issue 12 item 7: 5000 levels raised a bare RecursionError."""
    deep = "".join(f"{'  ' * i}k{i}:\n" for i in range(60)) + f"{'  ' * 60}v: 1\n"

    [problem] = _problems(GOOD + "extras:\n" + "  " + deep.replace("\n", "\n  ").rstrip() + "\n")

    assert problem.message == "the YAML nests deeper than 50 levels"
    assert problem.line == GOOD.count("\n") + 50


def test_an_unquoted_hashtag_is_a_comment() -> None:
    [problem] = _problems(GOOD.replace('"#HEXIchat"', "#HEXIchat"))

    assert _where(problem) == (4, ("chat", "hashtag"))
    assert "in YAML an unquoted # starts a comment" in problem.message
    assert problem.hint == 'put the value in quotes: hashtag: "#HEXIchat"'


def test_a_syntax_error_has_its_line() -> None:
    [problem] = _problems(GOOD.replace("      text: Who acts on it?", "      text: Q2: who?"))

    assert _where(problem) == (16, ())
    assert problem.message.startswith("the YAML cannot be read")


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n", "~\n"])
def test_an_empty_file_says_so(text: str) -> None:
    [problem] = _problems(text)
    assert problem.message in ("the file is empty", _NOT_SECTIONS)


_NOT_SECTIONS = "the file must hold the sections chat, platforms and posts (key: value)"


def test_a_secret_in_the_file_is_refused_without_being_echoed() -> None:
    secret = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"
    text = GOOD.replace(
        "    instance: https://example.social",
        f"    instance: https://example.social\n    token_env: {secret}\n    password: {secret}",
    )

    with pytest.raises(ConfigError) as info:
        parse_config(text, filename="chat.yaml")

    rendered = info.value.render()
    assert secret not in rendered
    assert "chat.yaml:10: platforms.mastodon.token_env: this looks like a secret itself" in rendered
    assert "chat.yaml:11: platforms.mastodon.password: unknown key 'password'" in rendered
