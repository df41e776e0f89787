"""X's weighted length (twitter-text v3) and the per-platform checks `validate` runs."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import yaml

from bot.core.configfile import parse_config
from bot.core.problems import ConfigError
from bot.core.text import length_for, x_length, x_urls


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("plain text", 10),
        ("漢字", 4),  # CJK counts 2
        ("日本語のテキスト", 16),
        ("한국어", 6),
        ("😀", 2),  # an emoji counts 2
        ("👩‍👩‍👧", 2),  # a family is one emoji, joined by zero-width joiners
        ("👍🏽", 2),  # with a skin tone
        ("https://example.org", 23),  # a URL counts 23, whatever its length
        ("https://example.org/" + "a" * 200, 23),
        ("see example.org now", 4 + 23 + 4),  # X links bare domains too
        ("café", 4),  # Latin with accents counts 1
    ],
)
def test_x_length_weighs_as_x_does(text: str, length: int) -> None:
    assert x_length(text) == length
    assert length_for("x", text) == length


def test_the_same_text_is_measured_per_platform() -> None:
    text = "漢字" * 100 + " https://example.org/" + "a" * 100

    assert length_for("x", text) == 400 + 1 + 23
    assert length_for("mastodon", text) == 200 + 1 + 23


def test_x_finds_urls_with_and_without_scheme() -> None:
    assert x_urls("Notes: https://example.org/a. And example.net!") == [
        "https://example.org/a",
        "example.net",
    ]
    assert x_urls("No link here, just a #tag and @someone") == []


def chat_file(intro: str, platforms: Mapping[str, object]) -> str:
    return yaml.safe_dump(
        {
            "chat": {
                "id": "hexichat",
                "title": "T",
                "hashtag": "#hexichat",
                "timezone": "UTC",
                "start": "2026-12-02 20:00",
            },
            "platforms": platforms,
            "posts": {"intro": {"text": intro}, "questions": [{"at": "5m", "text": "Q?"}]},
        },
        allow_unicode=True,
    )


def test_validate_checks_each_platform_with_its_own_rules() -> None:
    intro = "漢字" * 70  # 140 characters: 280 weighted on X, plus " #hexichat"
    both = {"mastodon": {"instance": "https://example.social"}, "x": {}}

    with pytest.raises(ConfigError) as refused:
        parse_config(chat_file(intro, both), filename="chat.yaml")

    [problem] = refused.value.problems
    assert problem.loc == ("posts", "intro", "text")
    assert "290 characters on x, over its limit of 280" in problem.message
    assert "CJK characters and emoji count 2" in (problem.hint or "")
    # The same text is fine on Mastodon alone.
    parse_config(chat_file(intro, {"mastodon": both["mastodon"]}), filename="chat.yaml")
