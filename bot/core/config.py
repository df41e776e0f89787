"""The chat file as typed, validated models.

These key names are a contract with hosts: renaming one breaks their files. Field-level rules
live here; rules that span several fields (timing, lengths) live in ``bot.core.checks``.
"""

from __future__ import annotations

import difflib
import itertools
import re
import typing
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema
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

_WEEKLY = re.compile(r"^\s*([a-z]+)\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$", re.IGNORECASE)


def _weekday(word: str) -> int | None:
    """Monday is 0; accepts ``wednesday``, ``Wednesdays`` and ``wed``."""
    word = word.lower()
    for index, name in enumerate(WEEKDAYS):
        if word in (name, name + "s", name[:3]):
            return index
    return None


def parse_weekly(value: str) -> tuple[int, time]:
    """``wednesday 20:00`` as (weekday index, local time); raises ValueError otherwise."""
    match = _WEEKLY.match(value)
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
    if not _HASHTAG.match(value):
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


_CHAT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _chat_id(value: str) -> str:
    if not _CHAT_ID.match(value):
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


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
    found: dict[str, str] = {}
    models: list[type[BaseModel]] = [ChatConfig]
    while models:
        model = models.pop()
        for name, field in model.model_fields.items():
            if name.endswith("_env") and isinstance(field.default, str):
                found[name] = field.default
            models += [
                arg
                for arg in (field.annotation, *typing.get_args(field.annotation))
                if isinstance(arg, type) and issubclass(arg, BaseModel)
            ]
    return found


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
    if not _ENV_NAME.match(value):
        # Not echoed either: a secret that escaped the test above may still be in it.
        raise PydanticCustomError(
            "env_name",
            "this is not an environment variable name (letters, digits and _ only)",
            {"hint": from_environment_hint(field)},
        )
    return value


_INSTANCE = re.compile(r"^https?://[^\s/:@]+(:\d+)?/?$")


def _instance_url(value: str) -> str:
    if not _INSTANCE.match(value):
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
        if host and re.match(r"^[\w.-]+\.[a-z]{2,}$", host, re.IGNORECASE):
            return f"did you mean https://{host}?"
        return example
    match = re.match(r"^(https?://[^\s/:@]+(:\d+)?)/", value)
    if match:
        return f"write only the server's address, without a path: {match.group(1)}"
    return example


_HANDLE = re.compile(r"^@\w+(@[\w.-]+\.\w+)?$")


def _handle(value: str) -> str:
    if not _HANDLE.match(value):
        raise PydanticCustomError(
            "handle",
            "'{value}' is not an account handle",
            {"value": value, "hint": 'write it like "@hexi_host@example.social", quoted'},
        )
    return value


class _Model(BaseModel):
    # A typo in a key must be an error, never silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChatSection(_Model):
    id: Annotated[
        str,
        AfterValidator(_chat_id),
        WithJsonSchema({"type": "string", "pattern": _CHAT_ID.pattern}),
    ] = Field(description="Slug used in ledger keys and file names: lower-case letters, digits, -.")
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
    hosts: list[Annotated[str, AfterValidator(_handle)]] = Field(
        default_factory=list, description="Host accounts, @user@server."
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


X_API = "https://api.x.com"
_API_BASE = re.compile(r"^https?://[^\s/:@]+(:\d+)?(/\S*)?$")


def _api_base(value: str) -> str:
    if not _API_BASE.match(value):
        raise PydanticCustomError(
            "api_base",
            "'{value}' is not a web address",
            {
                "value": value,
                "hint": f"leave it out to use X itself ({X_API}), or give the address of a "
                "proxy or stand-in, like http://127.0.0.1:8080",
            },
        )
    return value.rstrip("/")


EnvName = Annotated[str, AfterValidator(_env_name)]
# Dollars, exact: sums of 0.005 must not drift the way floats do.
Usd = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=6)]


class XBudget(_Model):
    """What one occurrence may cost on X, at most; reaching a cap stops reading, not posting."""

    max_usd: Usd | None = Field(
        default=Decimal("5.00"),
        description="Dollars per occurrence; the agenda's own posts are reserved first. "
        "null: no dollar cap.",
    )
    max_reads: int | None = Field(default=None, ge=0, description="Posts read per occurrence.")
    max_posts: int | None = Field(
        default=None, ge=0, description="Posts created per occurrence (agenda and wrap-up)."
    )


class XPrices(_Model):
    """X's pay-per-use prices in dollars; change them when X does."""

    post_read: Usd = Field(default=Decimal("0.005"), description="Per post returned by a read.")
    user_read: Usd = Field(
        default=Decimal("0.010"), description="Per author returned with the posts read."
    )
    post_created: Usd = Field(default=Decimal("0.015"), description="Per post created.")
    post_with_url: Usd = Field(
        default=Decimal("0.20"), description="Per post created that contains a URL."
    )
    repost: Usd = Field(default=Decimal("0.015"), description="Per repost.")


class XRepost(_Model):
    """X's automation rules forbid bulk reposting: these caps are below Mastodon's boosts."""

    max_per_question: int = Field(default=1, ge=0, description="Reposts per question window.")
    max_per_author: int = Field(default=1, ge=0, description="Reposts per author per occurrence.")
    min_interval: Duration = Field(
        default=timedelta(minutes=3), description="At least this long between two reposts."
    )


class XSettings(_Model):
    api_base: Annotated[str, AfterValidator(_api_base)] = Field(
        default=X_API, description="Where the X API is served: X itself, a proxy or a stand-in."
    )
    # Names of variables, not secrets: OAuth 1.0a user context, from the app's Keys and tokens.
    api_key_env: EnvName = "X_API_KEY"
    api_secret_env: EnvName = "X_API_SECRET"  # noqa: S105
    access_token_env: EnvName = "X_ACCESS_TOKEN"  # noqa: S105
    access_secret_env: EnvName = "X_ACCESS_SECRET"  # noqa: S105
    request_timeout: Duration = timedelta(seconds=10)
    poll_interval: Duration = Field(
        default=timedelta(seconds=20),
        description="The shortest time between two searches; the budget may space them more.",
    )
    expected_posts: int = Field(
        default=300,
        ge=0,
        description="Posts you expect in the chat: for the cost estimate of `tweetchat plan`.",
    )
    expected_people: int = Field(
        default=40, ge=0, description="People you expect in the chat: X bills authors too."
    )
    budget: XBudget = Field(default_factory=XBudget)
    prices: XPrices = Field(default_factory=XPrices)
    repost: XRepost = Field(default_factory=XRepost)

    @model_validator(mode="after")
    def _poll_within_rate_limit(self) -> XSettings:
        # Two searches per poll (tag, replies) against 300 per 15 minutes leaves room at 5s.
        if self.poll_interval < timedelta(seconds=5):
            raise PydanticCustomError(
                "poll_interval",
                "poll_interval must be at least 5s (X allows 300 searches per 15 minutes)",
                {"field": "poll_interval", "hint": "20s suits a chat of about 40 people"},
            )
        return self


class Platforms(_Model):
    mastodon: MastodonSettings | None = None
    x: XSettings | None = None

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


def _transcript_url(value: str) -> str:
    hint = "write an address like https://example.org/chats/{date}.html ({date} is optional)"
    if not re.match(r"^https?://\S+$", value):
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


class Wrapup(_Model):
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


_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


def _domain(value: str) -> str:
    lowered = value.strip().lower()
    if not _DOMAIN.match(lowered):
        bare = re.sub(r"^(https?://)?@?([^/@]*@)?", "", lowered).split("/")[0]
        hint = (
            f"write only the server name: {bare}"
            if bare and _DOMAIN.match(bare)
            else "write a server name like example.social"
        )
        raise PydanticCustomError(
            "domain", "'{value}' is not a server name", {"value": value, "hint": hint}
        )
    return lowered


def _word(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError(
            "word", "a blocked word cannot be empty", {"hint": "remove the empty entry"}
        )
    return value.strip()


def _bonus(value: float) -> float:
    if value < 0:
        raise PydanticCustomError(
            "bonus",
            "a preference adds points: {value} is negative",
            {"value": f"{value:g}", "hint": f"write {-value:g}, or move the rule under avoid"},
        )
    return value


def _penalty(value: float) -> float:
    if value > 0:
        raise PydanticCustomError(
            "penalty",
            "an avoidance takes points away: {value} is positive",
            {"value": f"{value:g}", "hint": f"write {-value:g}"},
        )
    return value


Handle = Annotated[str, AfterValidator(_handle)]
# Weights: a preference adds, an avoidance subtracts; a sign the other way is a slip.
Bonus = Annotated[float, AfterValidator(_bonus)]
Penalty = Annotated[float, AfterValidator(_penalty)]


class BoostPrefer(_Model):
    answers: Bonus = Field(default=3, description="The post answers a question (A3, or a reply).")
    first_time: Bonus = Field(
        default=2, description="The author has no posts in earlier occurrences of the chat."
    )
    replies_received: Bonus = Field(default=1, description="Per reply the post received.")
    favourites: Bonus = Field(default=1, description="Per favourite the post received.")


class BoostAvoid(_Model):
    links_only: Penalty = Field(default=-3, description="Nothing but links, tags and mentions.")
    many_hashtags: Penalty = Field(default=-2, description="More than 3 hashtags.")
    repeated_text: Penalty = Field(default=-5, description="The same text posted more than once.")


class BoostBlock(_Model):
    accounts: list[Handle] = Field(default_factory=list, description="Never boosted.")
    domains: list[Annotated[str, AfterValidator(_domain)]] = Field(
        default_factory=list, description="Servers whose accounts are never boosted."
    )
    words: list[Annotated[str, AfterValidator(_word)]] = Field(
        default_factory=list, description="A post with one of these (any case) is never boosted."
    )


class Boost(_Model):
    """Which answers the bot boosts; the defaults suit a chat of about 40 people."""

    mode: Literal["auto", "approve", "off"] = Field(
        default="auto",
        description="auto: boost the best; approve: a host picks from a direct message; "
        "off: only score, for the wrap-up.",
    )
    max_per_question: int = Field(default=3, ge=0, description="Boosts per question window.")
    max_per_author: int = Field(default=2, ge=0, description="Boosts per author per occurrence.")
    min_interval: Duration = Field(
        default=timedelta(seconds=60), description="At least this long between two boosts."
    )
    tick: Duration = Field(
        default=timedelta(seconds=45),
        description="How often counts are re-read and a choice made; each tick costs about "
        "one request per 20 candidates, so stay at 30s or more on a real server.",
    )
    always: list[Handle] = Field(
        default_factory=list,
        description="Guests and co-hosts: their posts are boosted outside the caps.",
    )
    prefer: BoostPrefer = Field(default_factory=BoostPrefer)
    avoid: BoostAvoid = Field(default_factory=BoostAvoid)
    block: BoostBlock = Field(default_factory=BoostBlock)

    @model_validator(mode="after")
    def _tick_positive(self) -> Boost:
        if self.tick < timedelta(seconds=1):
            raise PydanticCustomError(
                "tick", "tick must be at least 1s", {"hint": "45s suits a real server"}
            )
        return self


class Follow(_Model):
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


class ChatConfig(_Model):
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
