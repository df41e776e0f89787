import copy
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from bot.core.config import ChatConfig, json_schema
from bot.core.config_fields import looks_like_token, parse_weekly
from bot.core.problems import ConfigError
from tests.support.config_text import chat_config


def test_defaults_a_host_may_leave_out() -> None:
    config = chat_config(
        chat={"duration": None},
        posts={"reminders": None, "closing": None, "intro": {"text": "Hi"}},
    )

    assert config.chat.duration == timedelta(hours=1)
    assert config.chat.hosts == []
    assert config.chat.every is None
    assert config.chat.start == datetime(2026, 12, 2, 20, 0)
    mastodon = config.platforms.mastodon
    assert mastodon is not None
    assert mastodon.token_env == "MASTODON_ACCESS_TOKEN"
    assert mastodon.max_characters == 500
    assert mastodon.visibility == "public"
    assert config.posts.thread is True
    assert config.posts.grace == timedelta(minutes=5)
    assert config.posts.question_prefix == "Q{n}:"
    assert config.posts.reminders == []
    assert config.posts.intro.at == timedelta(0)
    assert config.posts.closing is None


def test_start_takes_seconds() -> None:
    config = chat_config(chat={"start": "2026-12-02 20:00:30"})
    assert config.chat.start == datetime(2026, 12, 2, 20, 0, 30)


def test_the_instance_loses_its_trailing_slash() -> None:
    config = chat_config(platforms={"mastodon": {"instance": "https://example.social/"}})
    assert config.platforms.mastodon is not None
    assert config.platforms.mastodon.instance == "https://example.social"


@pytest.mark.parametrize(
    ("written", "weekday", "at"),
    [
        ("wednesday 20:00", 2, time(20, 0)),
        ("Wednesday 8:05", 2, time(8, 5)),
        ("WEDNESDAYS 20:00", 2, time(20, 0)),
        ("wed 20:00:30", 2, time(20, 0, 30)),
        ("monday 00:00", 0, time(0, 0)),
        ("  sunday   23:59 ", 6, time(23, 59)),
    ],
)
def test_parse_weekly(written: str, weekday: int, at: time) -> None:
    assert parse_weekly(written) == (weekday, at)


@pytest.mark.parametrize(
    "written", ["wensday 20:00", "wednesday", "wednesday 25:00", "wednesday 20:61", "20:00", ""]
)
def test_parse_weekly_refuses(written: str) -> None:
    with pytest.raises(ValueError, match="is not a weekly slot"):
        parse_weekly(written)


def test_a_weekly_series_validates() -> None:
    config = chat_config(chat={"start": None, "every": "wednesday 20:00"})
    assert config.chat.every == "wednesday 20:00"
    assert config.chat.start is None


def _errors(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as info:
        ChatConfig.model_validate(data)
    return [(tuple(e["loc"]), e["msg"]) for e in info.value.errors()]


def test_unknown_keys_are_refused_at_every_level() -> None:
    data = chat_config().model_dump(mode="json", exclude_defaults=True)
    data["posts"]["intro"]["txt"] = "typo"
    data["extra"] = 1

    locs = [loc for loc, _ in _errors(data)]

    assert ("posts", "intro", "txt") in locs
    assert ("extra",) in locs


@pytest.mark.parametrize(
    ("hashtag", "message"),
    [
        ("HEXIchat", "must start with #"),
        ("#HEXI chat", "no spaces"),
        ("#HEXI-chat", "no spaces or punctuation"),
        ("#2026", "only digits"),
        ("#", "may hold only letters"),
    ],
)
def test_hashtag_rules(hashtag: str, message: str) -> None:
    data = chat_config().model_dump(mode="json", exclude_defaults=True)
    data["chat"]["hashtag"] = hashtag

    [(loc, text)] = _errors(data)

    assert loc == ("chat", "hashtag")
    assert message in text


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("MASTODON_ACCESS_TOKEN", False),
        ("My_Bot_Token_2024_For_Chats", False),
        ("MY_HEXICHAT_BOT_TOKEN_FOR_MASTODON_SOCIAL", False),
        ("ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0", True),
        ("x7f3k2m9q8w1e4r5t6y0u2i3", True),
        ("abc123", False),  # too short to tell
    ],
)
def test_looks_like_token(value: str, token: bool) -> None:
    assert looks_like_token(value) is token


def test_schema_forbids_unknown_keys_and_names_required_ones() -> None:
    schema = json_schema()
    defs = schema["$defs"]

    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"chat", "platforms", "posts"}
    assert {"id", "title", "hashtag", "timezone"} <= set(defs["ChatSection"]["required"])
    assert set(defs["Posts"]["required"]) == {"intro", "questions"}
    assert all(d["additionalProperties"] is False for d in defs.values() if "properties" in d)


def test_schema_defaults_are_written_as_hosts_write_them() -> None:
    chat = json_schema()["$defs"]["ChatSection"]["properties"]
    assert chat["duration"]["default"] == "1h"


_MASTODON = {"instance": "https://example.social"}


@pytest.mark.parametrize(
    ("sections", "loc"),
    [
        ({"chat": {"id": "hexichat"}}, ("chat", "id")),
        ({"chat": {"hashtag": "#HEXIchat"}}, ("chat", "hashtag")),
        ({"chat": {"hosts": ["@host@example.social"]}}, ("chat", "hosts", 0)),
        ({"platforms": {"mastodon": _MASTODON}}, ("platforms", "mastodon", "instance")),
        (
            {"platforms": {"mastodon": {**_MASTODON, "token_env": "BOT_TOKEN"}}},
            ("platforms", "mastodon", "token_env"),
        ),
        (
            {"platforms": {"mastodon": _MASTODON, "x": {"api_base": "https://api.x.com"}}},
            ("platforms", "x", "api_base"),
        ),
        ({"boost": {"always": ["@guest@example.social"]}}, ("boost", "always", 0)),
        (
            {"wrapup": {"transcript_url": "https://example.org/chats/{date}.html"}},
            ("wrapup", "transcript_url"),
        ),
    ],
)
def test_a_trailing_newline_is_refused(sections: dict[str, Any], loc: tuple[Any, ...]) -> None:
    """Issue 12 item 10: `$` let "hexichat\\n" through, and into ledger keys and URLs."""
    chat_config(**sections)  # as written, the value is fine
    sections = copy.deepcopy(sections)
    *path, last = loc
    section: Any = sections
    for part in path:
        section = section[part]
    section[last] = section[last] + "\n"

    with pytest.raises(ConfigError) as info:
        chat_config(**sections)

    assert [p.loc for p in info.value.problems] == [loc]


def test_a_blocked_domain_is_kept_without_its_surrounding_space() -> None:
    """Issue 12 item 10: a domain is stripped, so no newline reaches the matching."""
    config = chat_config(boost={"block": {"domains": [" Spam.example\n"]}})
    assert config.boost.block.domains == ["spam.example"]
