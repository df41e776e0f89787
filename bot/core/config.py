"""The chat file as typed, validated models.

These key names are a contract with hosts: renaming one breaks their files. Field-level rules
live here; rules that span several fields (timing, lengths) live in ``bot.core.checks``.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.core.durations import format_duration, parse_duration

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _duration(value: object) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "duration", str(exc), {"hint": "examples: 45s, 5m, 1h30m, 1d"}
        ) from None


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": ["string", "number"], "pattern": r"^(\d+(\.\d+)?[smhd])+$"}),
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
        {"value": value, "hint": "write it like 2026-12-02 20:00 (seconds allowed: 20:00:30)"},
    )


LocalDateTime = Annotated[
    datetime,
    BeforeValidator(_local_datetime),
    PlainSerializer(lambda d: d.strftime("%Y-%m-%d %H:%M:%S"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$"}),
]

_WEEKLY = re.compile(r"^\s*([a-z]+)\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$", re.IGNORECASE)


def parse_weekly(value: str) -> tuple[int, time]:
    """``wednesday 20:00`` as (weekday index, local time); raises ValueError otherwise."""
    match = _WEEKLY.match(value)
    if not match or match.group(1).lower() not in WEEKDAYS:
        raise ValueError(value)
    hour, minute, second = int(match.group(2)), int(match.group(3)), int(match.group(4) or 0)
    return WEEKDAYS.index(match.group(1).lower()), time(hour, minute, second)


def _weekly(value: str) -> str:
    try:
        parse_weekly(value)
    except ValueError:
        raise PydanticCustomError(
            "weekly",
            "'{value}' is not a weekly slot",
            {"value": value, "hint": "write a weekday and a local time, like: wednesday 20:00"},
        ) from None
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
        hint = f"did you mean {close[0]}?" if close else "use an IANA name such as Europe/London"
        raise PydanticCustomError(
            "timezone", "'{value}' is not a known time zone", {"value": value, "hint": hint}
        ) from None
    return value


_HASHTAG = re.compile(r"^#\w+$")


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
    if not _HASHTAG.match(value) or value[1:].isdigit():
        raise PydanticCustomError(
            "hashtag",
            "the hashtag '{value}' may hold only letters, digits and _ (no spaces or punctuation)",
            {"value": value, "hint": f'join the words: "#{_tag_chars(value)}"'},
        )
    return value


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise PydanticCustomError(
            "env_name",
            "'{value}' is not an environment variable name",
            {
                "value": value,
                "hint": "name the variable that holds the token (e.g. MASTODON_ACCESS_TOKEN); "
                "never put the token itself in the file",
            },
        )
    return value


def _instance_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+(:\d+)?/?$", value):
        raise PydanticCustomError(
            "instance",
            "'{value}' is not a server address",
            {
                "value": value,
                "hint": "write the address of the server, like https://example.social",
            },
        )
    return value.rstrip("/")


class _Model(BaseModel):
    # A typo in a key must be an error, never silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChatSection(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")] = Field(
        description="Slug used in ledger keys and file names: lower-case letters, digits, -."
    )
    title: str = Field(min_length=1)
    hashtag: Annotated[str, AfterValidator(_hashtag)]
    timezone: Annotated[str, AfterValidator(_timezone)]
    start: LocalDateTime | None = Field(
        default=None, description="Local date and time of a single occurrence."
    )
    every: Annotated[str, AfterValidator(_weekly)] | None = Field(
        default=None, description="A weekly series instead of start, e.g. 'wednesday 20:00'."
    )
    duration: Duration = timedelta(hours=1)
    hosts: list[str] = Field(default_factory=list, description="Host accounts, @user@server.")

    @model_validator(mode="after")
    def _start_or_every(self) -> ChatSection:
        if (self.start is None) == (self.every is None):
            raise PydanticCustomError(
                "schedule",
                "give exactly one of start and every"
                + (" (both are set)" if self.start else " (neither is set)"),
                {"hint": "start: 2026-12-02 20:00 for one chat, or every: wednesday 20:00"},
            )
        if self.duration <= timedelta(0):
            raise PydanticCustomError("duration", "duration must be longer than 0s", {})
        return self

    @property
    def tag(self) -> str:
        """The hashtag without its #, as the platforms' APIs want it."""
        return self.hashtag[1:]


class MastodonSettings(_Model):
    instance: Annotated[str, AfterValidator(_instance_url)]
    # The name of a variable, not a secret: the token itself only comes from the environment.
    token_env: Annotated[str, AfterValidator(_env_name)] = "MASTODON_ACCESS_TOKEN"  # noqa: S105
    max_characters: int = Field(
        default=500,
        ge=1,
        description="The instance's post limit; `run` reads the real one from the server.",
    )
    visibility: Literal["public", "unlisted"] = "public"
    request_timeout: Duration = timedelta(seconds=10)


class Platforms(_Model):
    mastodon: MastodonSettings | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Platforms:
        if not self.names():
            raise PydanticCustomError(
                "platforms",
                "no platform is configured",
                {"hint": "add one, e.g. mastodon: {instance: https://your.server}"},
            )
        return self

    def names(self) -> list[str]:
        return [name for name in type(self).model_fields if getattr(self, name) is not None]


class Reminder(_Model):
    before: Duration
    text: str = Field(min_length=1)


class Intro(_Model):
    at: Duration = timedelta(0)
    text: str = Field(min_length=1)


class TimedPost(_Model):
    at: Duration
    text: str = Field(min_length=1)


class Posts(_Model):
    thread: bool = Field(
        default=True, description="Each question replies to the post before it: one thread."
    )
    grace: Duration = Field(
        default=timedelta(minutes=5),
        description="A post whose time passed less than this ago (after a restart) goes out late.",
    )
    question_prefix: str = Field(default="Q{n}:", description="Put before each question's text.")
    reminders: list[Reminder] = Field(default_factory=list)
    intro: Intro
    questions: list[TimedPost] = Field(min_length=1)
    closing: TimedPost | None = None


class ChatConfig(_Model):
    chat: ChatSection
    platforms: Platforms
    posts: Posts
