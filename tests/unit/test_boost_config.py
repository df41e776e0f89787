"""The `boost:` section of a chat file: defaults, and every mistake named with a hint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.core.configfile import parse_config
from bot.core.problems import ConfigError
from tests.support.config_text import chat_config, chat_text


def problems(**sections: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        chat_config(**sections)
    return [p.render("chat.yaml") for p in caught.value.problems]


def test_defaults_suit_a_chat_of_forty() -> None:
    boost = chat_config().boost
    assert boost.mode == "auto"
    assert (boost.max_per_question, boost.max_per_author) == (3, 2)
    assert boost.min_interval == timedelta(seconds=60)
    assert boost.tick == timedelta(seconds=45)
    assert boost.always == []
    assert boost.prefer.answers == 3
    assert boost.avoid.repeated_text == -5
    assert boost.block.words == []


def test_the_issue_example_parses_with_mode_off_unquoted() -> None:
    text = chat_text(chat={"hosts": ["@host@example.social"]}) + (
        "boost:\n"
        "  mode: off\n"
        "  max_per_question: 5\n"
        "  max_per_author: 2     # per occurrence\n"
        "  min_interval: 45s\n"
        '  always: ["@guest@example.social"]\n'
        "  prefer: {answers: 3, first_time: 2, replies_received: 1, favourites: 1}\n"
        "  avoid: {links_only: -3, many_hashtags: -2, repeated_text: -5}\n"
        "  block: {accounts: [], domains: [Spam.Example], words: [crypto]}\n"
    )
    boost = parse_config(text, filename="chat.yaml").boost
    assert boost.mode == "off"
    assert boost.max_per_question == 5
    assert boost.min_interval == timedelta(seconds=45)
    assert boost.always == ["@guest@example.social"]
    assert boost.block.domains == ["spam.example"]  # servers compare in lower case


@pytest.mark.parametrize(
    ("boost", "expected"),
    [
        ({"mode": "manual"}, "hint: write one of: 'auto', 'approve' or 'off'"),
        ({"max_per_question": -1}, "boost.max_per_question: -1 is too small"),
        ({"max_per_author": -2}, "boost.max_per_author: -2 is too small"),
        ({"min_interval": "45 seconds"}, "did you mean 45s?"),
        ({"tick": "0s"}, "tick must be at least 1s"),
        ({"always": ["guest@example.social"]}, "'guest@example.social' is not an account"),
        ({"block": {"accounts": ["https://x.example/@a"]}}, "is not an account handle"),
        ({"block": {"domains": ["https://spam.example/"]}}, "write only the server name"),
        ({"block": {"domains": ["@a@spam.example"]}}, "hint: write only the server name"),
        ({"block": {"words": ["  "]}}, "a blocked word cannot be empty"),
        ({"prefer": {"favourites": -1}}, "a preference adds points: -1 is negative"),
        ({"avoid": {"links_only": 3}}, "hint: write -3"),
        ({"block": {"acounts": []}}, "did you mean 'accounts'?"),
    ],
)
def test_each_mistake_is_named_where_it_is(boost: dict[str, Any], expected: str) -> None:
    found = problems(boost=boost)
    assert len(found) == 1, found
    assert found[0].startswith("chat.yaml:")
    assert expected in found[0]


def test_approve_mode_needs_a_host_to_ask() -> None:
    found = problems(boost={"mode": "approve"})
    assert len(found) == 1
    assert "boost.mode: mode approve sends the candidates to the hosts" in found[0]
    config = chat_config(chat={"hosts": ["@host@example.social"]}, boost={"mode": "approve"})
    assert config.boost.mode == "approve"


def test_an_account_cannot_be_both_always_boosted_and_blocked() -> None:
    found = problems(
        boost={
            "always": ["@guest@example.social"],
            "block": {"accounts": ["@Guest@example.social"]},
        }
    )
    assert len(found) == 1
    assert "boost.always[1]: @guest@example.social is both in always and in block" in found[0]
