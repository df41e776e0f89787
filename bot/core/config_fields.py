"""The field types of the chat file: durations, local times, names, addresses, handles.

Each type validates one value and explains a mistake with a hint; the sections that use them
live in ``bot.core.config`` (the chat, its posts), ``bot.core.config_platforms`` and
``bot.core.config_boost``.
"""

from __future__ import annotations

import difflib
import itertools
import re
from datetime import datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from bot.core.durations import (
    DURATION_HINT,
    format_duration,
    parse_duration,
    suggest_duration,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _duration(value: object) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        suggestion = suggest_duration(value)
        hint = f"did you mean {suggestion}? ({DURATION_HINT})" if suggestion else DURATION_HINT
        raise PydanticCustomError("duration", str(exc), {"hint": hint}) from None


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    # A bare number has no unit, so an editor flags it as the bot would: the one number
    # allowed is 0 (a pattern binds strings only, the bounds numbers only).
    WithJsonSchema(
        {
            "type": ["string", "number"],
            "pattern": r"^(\d+(\.\d+)?[smhd])+$",
            "minimum": 0,
            "maximum": 0,
        }
    ),
]


def _local_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
            try:
                return datetime.strptime(value.strip(), fmt)
            except ValueError:
                continue
    raise PydanticCustomError(
        "local_datetime",
        "'{value}' is not a local date and time",
        {
            "value": value,
            "hint": "write the date and the 24-hour local time, like 2026-12-02 20:00 "
            "(seconds allowed: 20:00:30); the zone is chat.timezone",
        },
    )


LocalDateTime = Annotated[
    datetime,
    BeforeValidator(_local_datetime),
    PlainSerializer(lambda d: d.strftime("%Y-%m-%d %H:%M:%S"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$"}),
]

_WEEKLY = re.compile(r"\s*([a-z]+)\s+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\s*", re.IGNORECASE)


def _weekday(word: str) -> int | None:
    """Monday is 0; accepts ``wednesday``, ``Wednesdays`` and ``wed``."""
    word = word.lower()
    for index, name in enumerate(WEEKDAYS):
        if word in (name, name + "s", name[:3]):
            return index
    return None


def parse_weekly(value: str) -> tuple[int, time]:
    """``wednesday 20:00`` as (weekday index, local time); raises ValueError otherwise."""
    match = _WEEKLY.fullmatch(value)
    weekday = _weekday(match.group(1)) if match else None
    if match is None or weekday is None:
        raise ValueError(f"{value!r} is not a weekly slot")
    hour, minute, second = int(match.group(2)), int(match.group(3)), int(match.group(4) or 0)
    try:
        return weekday, time(hour, minute, second)
    except ValueError:
        raise ValueError(f"{value!r} is not a weekly slot") from None


def _weekly(value: str) -> str:
    try:
        parse_weekly(value)
    except ValueError:
        raise PydanticCustomError(
            "weekly",
            "'{value}' is not a weekly slot",
            {"value": value, "hint": _weekly_hint(value)},
        ) from None
    return value


def _weekly_hint(value: str) -> str:
    example = "write a weekday and a 24-hour local time, like: wednesday 20:00"
    words = value.split()
    if not words:
        return example
    day = _weekday(words[0])
    if day is None:
        close = difflib.get_close_matches(words[0].lower(), WEEKDAYS, n=1, cutoff=0.6)
        if close:
            return f"did you mean {' '.join([close[0], *words[1:]])}?"
        return f"'{words[0]}' is not a weekday; {example}"
    return f"the time must be HH:MM in 24 hours (00:00 to 23:59); {example}"


# Abbreviations hosts write that are not zone names (or are, without summer time).
_ZONE_ALIASES = {
    "BST": "Europe/London",
    "CEST": "Europe/Paris",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "MDT": "America/Denver",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "EDT": "America/New_York",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
    "NZST": "Pacific/Auckland",
}
# Valid zone names with a fixed offset: a host who writes them nearly always means a city.
_FIXED_OFFSET_ZONES = {"EST": "America/New_York", "MST": "America/Denver"}


def _timezone(value: str) -> str:
    if value in _FIXED_OFFSET_ZONES:
        raise PydanticCustomError(
            "timezone",
            "'{value}' is a fixed offset with no summer time",
            {
                "value": value,
                "hint": f"name a city so summer time is followed, e.g. "
                f"{_FIXED_OFFSET_ZONES[value]}",
            },
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "timezone",
            "'{value}' is not a known time zone",
            {"value": value, "hint": _timezone_hint(value)},
        ) from None
    return value


def _timezone_hint(value: str) -> str:
    fallback = "use an IANA name such as Europe/London or America/New_York"
    if value.upper() in _ZONE_ALIASES:
        return f"did you mean {_ZONE_ALIASES[value.upper()]}? (a city follows summer time)"
    zones = sorted(available_timezones())
    # A city alone ("london", "new york") names its zone.
    city = value.strip().replace(" ", "_").lower()
    by_city = [z for z in zones if z.rsplit("/", 1)[-1].lower() == city]
    if by_city:
        return f"did you mean {by_city[0]}?"
    lowered = {z.lower(): z for z in zones}
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1)
    return f"did you mean {lowered[close[0]]}?" if close else fallback


_HASHTAG = re.compile(r"#\w+")


def _tag_chars(value: str) -> str:
    return re.sub(r"\W", "", value)


def _hashtag(value: str) -> str:
    if not value.startswith("#"):
        raise PydanticCustomError(
            "hashtag",
            "the hashtag '{value}' must start with #",
            {
                "value": value,
                "hint": f'write it quoted, with the #: hashtag: "#{_tag_chars(value)}"',
            },
        )
    if not _HASHTAG.fullmatch(value):
        joined = _tag_chars(value)
        raise PydanticCustomError(
            "hashtag",
            "the hashtag '{value}' may hold only letters, digits and _ (no spaces or punctuation)",
            {
                "value": value,
                "hint": f'join the words: "#{joined}"' if joined else 'e.g. "#HEXIchat"',
            },
        )
    if value[1:].isdigit():
        raise PydanticCustomError(
            "hashtag",
            "the hashtag '{value}' is only digits, which the platforms do not link",
            {"value": value, "hint": "add a letter, e.g. #chat2026"},
        )
    return value


_CHAT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def _chat_id(value: str) -> str:
    if not _CHAT_ID.fullmatch(value):
        slug = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:63]
        raise PydanticCustomError(
            "chat_id",
            "'{value}' is not a valid chat id",
            {
                "value": value,
                "hint": "lower-case letters, digits and - only (it names keys and files)"
                + (f", e.g. {slug}" if slug else ", e.g. hexichat"),
            },
        )
    return value


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _char_class(c: str) -> str:
    return "d" if c.isdigit() else "u" if c.isupper() else "l" if c.islower() else "-"


def looks_like_token(value: str) -> bool:
    """Whether a value is a token pasted where a variable's name belongs.

    Names are words (MASTODON_ACCESS_TOKEN, My_Bot_Token_2024): inside a word, case goes
    from upper to lower and digits stay together. Tokens are random, so a letter is followed
    by a digit, a digit by a letter, or a lower-case letter by a capital about half the time.
    """
    classes = [_char_class(c) for c in value]
    letters_and_digits = len([k for k in classes if k != "-"])
    if letters_and_digits < 20:
        return False
    unnatural = {("l", "u"), ("l", "d"), ("u", "d"), ("d", "l"), ("d", "u")}
    switches = sum(pair in unnatural for pair in itertools.pairwise(classes))
    return switches / letters_and_digits > 0.25


def _env_name(value: str, info: ValidationInfo) -> str:
    field = info.field_name or "token_env"
    if looks_like_token(value):
        # Never echo it: this message goes to terminals and CI logs.
        raise PydanticCustomError(
            "env_name",
            "this looks like a secret itself, not the name of an environment variable",
            {"hint": from_environment_hint(field) + "; if this file was shared, revoke it"},
        )
    if not _ENV_NAME.fullmatch(value):
        # Not echoed either: a secret that escaped the test above may still be in it.
        raise PydanticCustomError(
            "env_name",
            "this is not an environment variable name (letters, digits and _ only)",
            {"hint": from_environment_hint(field)},
        )
    return value


_INSTANCE = re.compile(r"https?://[\w.-]+(:[0-9]+)?/?")


def _instance_url(value: str) -> str:
    if not _INSTANCE.fullmatch(value):
        raise PydanticCustomError(
            "instance",
            "'{value}' is not a server address",
            {"value": value, "hint": _instance_hint(value)},
        )
    return value.rstrip("/")


def _instance_hint(value: str) -> str:
    example = "write only the server's address, like https://example.social"
    if "://" not in value:
        host = value.strip().strip("/").split("/")[0].lstrip("@")
        if "@" in host:
            # @bot@example.social: the account, not the server
            host = host.rsplit("@", 1)[-1]
        if host and re.fullmatch(r"[\w.-]+\.[a-z]{2,}", host, re.IGNORECASE):
            return f"did you mean https://{host}?"
        return example
    match = re.match(r"^(https?://[^\s/:@]+(:\d+)?)/", value)
    if match:
        return f"write only the server's address, without a path: {match.group(1)}"
    return example


# @user@server (Mastodon), @user (X, or Mastodon's own server), @name.domain (Bluesky).
_HANDLE = re.compile(r"@\w+(@[\w.-]+\.\w+)?|@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _handle(value: str) -> str:
    if not _HANDLE.fullmatch(value):
        raise PydanticCustomError(
            "handle",
            "'{value}' is not an account handle",
            {
                "value": value,
                "hint": 'write it like "@hexi_host@example.social" (Mastodon), "@hexi_host" '
                '(X) or "@hexi.bsky.social" (Bluesky), quoted',
            },
        )
    return value


class ConfigModel(BaseModel):
    """The base of every section of the chat file."""

    # A typo in a key must be an error, never silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


ChatId = Annotated[
    str, AfterValidator(_chat_id), WithJsonSchema({"type": "string", "pattern": _CHAT_ID.pattern})
]
Hashtag = Annotated[str, AfterValidator(_hashtag)]
Timezone = Annotated[str, AfterValidator(_timezone)]
Weekly = Annotated[str, AfterValidator(_weekly)]
Handle = Annotated[str, AfterValidator(_handle)]
EnvName = Annotated[str, AfterValidator(_env_name)]
InstanceUrl = Annotated[str, AfterValidator(_instance_url)]


def from_environment_hint(field: str) -> str:
    """How a secret reaches the bot: the file names a variable, the environment holds it.

    ``field`` is a key ending in ``_env`` (``token_env``, ``x.access_token_env``); its
    default variable name makes the example.
    """
    variable = env_defaults().get(field.rsplit(".", 1)[-1], "MASTODON_ACCESS_TOKEN")
    return (
        f"secrets only ever come from the environment: export {variable}=<the secret>, "
        f"and write its name in the file, {field}: {variable}"
    )


def env_defaults() -> dict[str, str]:
    """Every ``*_env`` key of the chat file and the variable it names by default."""
    # Every section derives from ConfigModel, so its subclasses are the whole file's keys
    # (whichever module defines them), without this module importing the sections.
    found: dict[str, str] = {}
    models: list[type[ConfigModel]] = [ConfigModel]
    while models:
        model = models.pop()
        models += model.__subclasses__()
        for name, field in model.model_fields.items():
            if name.endswith("_env") and isinstance(field.default, str):
                found[name] = field.default
    return found
