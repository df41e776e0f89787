"""The boost section of the chat file: which answers the bot boosts, and whom it never does."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from bot.core.config_fields import ConfigModel, Duration, Handle

_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]")


def _domain(value: str) -> str:
    lowered = value.strip().lower()
    if not _DOMAIN.fullmatch(lowered):
        bare = re.sub(r"^(https?://)?@?([^/@]*@)?", "", lowered).split("/")[0]
        hint = (
            f"write only the server name: {bare}"
            if bare and _DOMAIN.fullmatch(bare)
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


# Weights: a preference adds, an avoidance subtracts; a sign the other way is a slip.
Bonus = Annotated[float, AfterValidator(_bonus)]
Penalty = Annotated[float, AfterValidator(_penalty)]


class BoostPrefer(ConfigModel):
    answers: Bonus = Field(default=3, description="The post answers a question (A3, or a reply).")
    first_time: Bonus = Field(
        default=2, description="The author has no posts in earlier occurrences of the chat."
    )
    replies_received: Bonus = Field(default=1, description="Per reply the post received.")
    favourites: Bonus = Field(default=1, description="Per favourite the post received.")


class BoostAvoid(ConfigModel):
    links_only: Penalty = Field(default=-3, description="Nothing but links, tags and mentions.")
    many_hashtags: Penalty = Field(default=-2, description="More than 3 hashtags.")
    repeated_text: Penalty = Field(default=-5, description="The same text posted more than once.")


class BoostBlock(ConfigModel):
    accounts: list[Handle] = Field(default_factory=list, description="Never boosted.")
    domains: list[Annotated[str, AfterValidator(_domain)]] = Field(
        default_factory=list, description="Servers whose accounts are never boosted."
    )
    words: list[Annotated[str, AfterValidator(_word)]] = Field(
        default_factory=list, description="A post with one of these (any case) is never boosted."
    )


class Boost(ConfigModel):
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
