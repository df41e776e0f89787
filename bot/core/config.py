"""The chat file as typed, validated models.

These key names are a contract with hosts: renaming one breaks their files. Field-level rules
live in ``bot.core.config_fields``; rules that span several fields (timing, lengths) live in
``bot.core.checks``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import PydanticCustomError

from bot.core.config_boost import Boost
from bot.core.config_fields import (
    ChatId,
    ConfigModel,
    Duration,
    Handle,
    Hashtag,
    LocalDateTime,
    Timezone,
    Weekly,
)
from bot.core.config_platforms import Platforms
from bot.core.durations import format_duration


class ChatSection(ConfigModel):
    id: ChatId = Field(
        description="Slug used in ledger keys and file names: lower-case letters, digits, -."
    )
    title: str = Field(min_length=1)
    hashtag: Hashtag
    timezone: Timezone
    start: LocalDateTime | None = Field(
        default=None, description="Local date and time of a single occurrence."
    )
    every: Weekly | None = Field(
        default=None, description="A weekly series instead of start, e.g. 'wednesday 20:00'."
    )
    duration: Duration = timedelta(hours=1)
    hosts: list[Handle] = Field(
        default_factory=list,
        description="Host accounts: @user@server (Mastodon), @user (X), @name.domain (Bluesky).",
    )

    @model_validator(mode="after")
    def _start_or_every(self) -> ChatSection:
        # ctx "field" places the message on that key's line (see bot.core.configfile).
        if self.start is not None and self.every is not None:
            raise PydanticCustomError(
                "schedule",
                "give either start or every, not both",
                {
                    "field": "every",
                    "hint": "keep start for one chat, or every for a weekly series",
                },
            )
        if self.start is None and self.every is None:
            raise PydanticCustomError(
                "schedule",
                "the chat has no time: give start or every",
                {"hint": "start: 2026-12-02 20:00 for one chat, or every: wednesday 20:00"},
            )
        if self.duration <= timedelta(0):
            raise PydanticCustomError(
                "duration",
                "the chat must last longer than 0s",
                {"field": "duration", "hint": "e.g. duration: 1h"},
            )
        return self

    @property
    def tag(self) -> str:
        """The hashtag without its #, as the platforms' APIs want it."""
        return self.hashtag[1:]


class Reminder(ConfigModel):
    before: Duration
    text: str = Field(min_length=1)


class Intro(ConfigModel):
    at: Duration = timedelta(0)
    text: str = Field(min_length=1)


class TimedPost(ConfigModel):
    at: Duration
    text: str = Field(min_length=1)


class Posts(ConfigModel):
    thread: bool = Field(
        default=True, description="Each question replies to the post before it: one thread."
    )
    grace: Duration = Field(
        default=timedelta(minutes=5),
        description="A post whose time passed less than this ago (after a restart) goes out late.",
    )
    max_pause: Duration = Field(
        default=timedelta(hours=3),
        description="A pause from the hosts' console held longer than this ends the chat, "
        "as the console's 'end' would (the closing, then the wrap-up).",
    )
    question_prefix: str = Field(default="Q{n}:", description="Put before each question's text.")
    reminders: list[Reminder] = Field(default_factory=list)
    intro: Intro
    questions: list[TimedPost] = Field(min_length=1)
    closing: TimedPost | None = None

    @model_validator(mode="after")
    def _pause_limit(self) -> Posts:
        if self.max_pause < timedelta(minutes=1):
            raise PydanticCustomError(
                "max_pause",
                "a pause limit under 1m would end the chat as soon as a host pauses it",
                {"field": "max_pause", "hint": "e.g. max_pause: 3h (the default)"},
            )
        return self


def _transcript_url(value: str) -> str:
    hint = "write an address like https://example.org/chats/{date}.html ({date} is optional)"
    if not re.fullmatch(r"https?://\S+", value):
        raise PydanticCustomError(
            "transcript_url", "'{value}' is not a web address", {"value": value, "hint": hint}
        )
    try:
        value.format(date="2026-12-02")
    except (KeyError, IndexError, ValueError):
        raise PydanticCustomError(
            "transcript_url",
            "'{value}' may only use the placeholder {date}",
            {"value": value, "hint": hint},
        ) from None
    return value


class Wrapup(ConfigModel):
    after: Duration = Field(
        default=timedelta(minutes=15), description="How long after the end the thread goes out."
    )
    mention: bool = Field(
        default=False,
        description="Name the top answers' authors with an @-mention; off: links only.",
    )
    transcript_url: Annotated[str, AfterValidator(_transcript_url)] | None = Field(
        default=None,
        description="Where the transcript is published; {date} becomes the occurrence date.",
    )
    folder: Path = Field(
        default=Path("out"), description="Where the transcript files are written at wrap-up."
    )
    noindex: Literal["withhold", "omit"] = Field(
        default="withhold",
        description="The posts of people who opted out of search engines (Mastodon's "
        "noindex): withhold shows them without name or link, omit leaves them out of the "
        "files. The numbers count them either way.",
    )
    listen: Duration = Field(
        default=timedelta(days=7),
        description='How long after the wrap-up a "stop", a "forget me" or a deleted post '
        "still changes the transcript files (read by any running worker, and at every start).",
    )


class Follow(ConfigModel):
    """Capturing the chat into the archive: from the intro (less a margin) until the
    wrap-up goes out."""

    enabled: bool = Field(default=True, description="Capture the chat's posts.")
    margin: Duration = Field(
        default=timedelta(minutes=10), description="Start following this long before the intro."
    )
    poll_interval: Duration = Field(
        default=timedelta(seconds=6),
        description="How often the hashtag is read while its live stream is down. Mastodon "
        "allows 300 such reads per 15 minutes: at least 3s.",
    )
    replies_interval: Duration = Field(
        default=timedelta(seconds=30),
        description="How often the replies to the bot's posts are read (replies without the "
        "hashtag reach no stream).",
    )

    @model_validator(mode="after")
    def _within_rate_limits(self) -> Follow:
        if self.poll_interval < timedelta(seconds=3):
            raise PydanticCustomError(
                "poll_interval",
                "poll_interval must be at least 3s (Mastodon allows 300 timeline reads per "
                "15 minutes)",
                {"field": "poll_interval", "hint": "6s suits a busy chat"},
            )
        if self.replies_interval < timedelta(seconds=5):
            raise PydanticCustomError(
                "replies_interval",
                "replies_interval must be at least 5s",
                {"field": "replies_interval", "hint": "30s suits a real server"},
            )
        return self


class ChatConfig(ConfigModel):
    chat: ChatSection
    platforms: Platforms
    posts: Posts
    wrapup: Wrapup = Field(default_factory=Wrapup)
    boost: Boost = Field(default_factory=Boost)
    follow: Follow = Field(default_factory=Follow)


class _ChatJsonSchema(GenerateJsonSchema):
    def encode_default(self, dft: Any) -> Any:
        # Defaults as a host writes them (1h, not pydantic's ISO-8601 PT1H).
        if isinstance(dft, timedelta):
            return format_duration(dft)
        return super().encode_default(dft)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the chat file, for editors (`tweetchat schema`)."""
    schema = ChatConfig.model_json_schema(mode="validation", schema_generator=_ChatJsonSchema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "tweetchat chat file",
    }
