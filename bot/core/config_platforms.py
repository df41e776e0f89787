"""The platforms section of the chat file: where the bot posts, and the names of the
variables that hold its credentials (never the secrets themselves)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from bot.core.config_fields import ConfigModel, Duration, EnvName, InstanceUrl

_HOST = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def _streaming_host(value: str) -> str:
    if not _HOST.fullmatch(value.lower()):
        raise PydanticCustomError(
            "streaming_host",
            "'{value}' is not a host name",
            {"value": value, "hint": "write the host alone, like streaming.example.social"},
        )
    return value.lower()


class MastodonSettings(ConfigModel):
    instance: InstanceUrl
    # The name of a variable, not a secret: the token itself only comes from the environment.
    token_env: EnvName = "MASTODON_ACCESS_TOKEN"  # noqa: S105
    max_characters: int = Field(
        default=500,
        ge=1,
        description="The instance's post limit; `run` reads the real one from the server.",
    )
    visibility: Literal["public", "unlisted"] = "public"
    request_timeout: Duration = timedelta(seconds=10)
    streaming_hosts: list[Annotated[str, AfterValidator(_streaming_host)]] = Field(
        default_factory=list,
        description="Hosts besides the instance's own (and its subdomains) that may "
        "receive the token when the server names them as its streaming address.",
    )


X_API = "https://api.x.com"
_API_BASE = re.compile(r"https?://[\w.-]+(:[0-9]+)?(/\S*)?")


def _api_base(value: str) -> str:
    if not _API_BASE.fullmatch(value):
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


# Dollars, exact: sums of 0.005 must not drift the way floats do.
Usd = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=6)]


class XBudget(ConfigModel):
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


class XPrices(ConfigModel):
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


class XRepost(ConfigModel):
    """X's automation rules forbid bulk reposting: these caps are below Mastodon's boosts."""

    max_per_question: int = Field(default=1, ge=0, description="Reposts per question window.")
    max_per_author: int = Field(default=1, ge=0, description="Reposts per author per occurrence.")
    min_interval: Duration = Field(
        default=timedelta(minutes=3), description="At least this long between two reposts."
    )


class XSettings(ConfigModel):
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


BLUESKY_SERVICE = "https://bsky.social"
# A Bluesky handle is a domain name (RFC 1035 labels, at least two; no @ in front).
_BLUESKY_HANDLE = re.compile(
    r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
)


def _bluesky_handle(value: str) -> str:
    handle = value.strip().removeprefix("@").lower()
    if not _BLUESKY_HANDLE.match(handle):
        raise PydanticCustomError(
            "bluesky_handle",
            "'{value}' is not a Bluesky handle",
            {
                "value": value,
                "hint": "write the account's handle as a domain name, like "
                "hexichat.bsky.social (no @, no https://)",
            },
        )
    return handle


# Answers read later than this would miss their question's boosts.
MAX_INDEX_DELAY = timedelta(minutes=5)


class BlueskySettings(ConfigModel):
    service: InstanceUrl = Field(
        default=BLUESKY_SERVICE,
        description="The account's PDS or the entryway that knows it (bsky.social for most).",
    )
    handle: Annotated[str, AfterValidator(_bluesky_handle)]
    # The name of a variable, not a secret: an app password from Settings > App passwords.
    app_password_env: EnvName = "BLUESKY_APP_PASSWORD"  # noqa: S105
    request_timeout: Duration = timedelta(seconds=10)
    index_delay: Duration = Field(
        default=timedelta(seconds=10),
        description="How far behind the present the hashtag and the replies are read: the "
        "AppView and its search index a post a little after it is made, and each post is read "
        "once, when everything around it is indexed.",
    )

    @model_validator(mode="after")
    def _index_delay_bounded(self) -> BlueskySettings:
        if self.index_delay > MAX_INDEX_DELAY:
            raise PydanticCustomError(
                "index_delay",
                "index_delay may be at most 5m: answers would reach the archive that late",
                {"field": "index_delay", "hint": "10s suits bsky.social"},
            )
        return self


class Platforms(ConfigModel):
    mastodon: MastodonSettings | None = None
    x: XSettings | None = None
    bluesky: BlueskySettings | None = None

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
