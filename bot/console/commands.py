"""A host's command as the page or the API sends it, checked before it is stored: every
mistake is answered with what is wrong, so nothing half-understood reaches the worker."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.checks import platform_limits
from bot.core.config import ChatConfig
from bot.core.steering import (
    COMMAND_KINDS,
    MAX_HOST_TEXT,
    MAX_SHIFT_MINUTES,
    CommandKind,
    HostCommand,
)
from bot.core.text import length_for, with_hashtag


class BadCommand(ValueError):
    """The command cannot be understood; the message says which field and why."""


def parse_command(
    fields: Mapping[str, Any],
    *,
    config: ChatConfig,
    occurrence: str,
    by: str,
    now: datetime,
) -> HostCommand:
    kind = _text(fields, "kind", required=True)
    if kind not in COMMAND_KINDS:
        raise BadCommand(f"kind: must be one of {', '.join(COMMAND_KINDS)}")
    command = HostCommand(id=0, occurrence=occurrence, kind=_kind(kind), by=by, created_at=now)
    platforms = config.platforms.names()
    platform = _text(fields, "platform", required=kind in ("boost", "unboost", "skip"))
    if platform is not None and platform not in platforms:
        raise BadCommand(f"platform: the chat is on {', '.join(platforms)}, not {platform!r}")
    if kind in ("boost", "unboost", "skip"):
        post_id = _text(fields, "post_id", required=True)
        return _with(command, platform=platform, post_id=post_id)
    if kind == "host_post":
        text = _text(fields, "text", required=True) or ""
        _fits(config, text, [platform] if platform else platforms)
        return _with(command, platform=platform, text=text)
    if kind == "shift":
        return _with(command, minutes=_minutes(fields))
    if kind == "edit":
        slot = _text(fields, "slot", required=True) or ""
        questions = [f"q{n}" for n in range(1, len(config.posts.questions) + 1)]
        if slot not in questions:
            raise BadCommand(f"slot: the questions are {', '.join(questions)}, not {slot!r}")
        text = _text(fields, "text", required=True) or ""
        _fits(config, text, platforms)
        return _with(command, slot=slot, text=with_hashtag(text, config.chat.hashtag))
    return command


def _kind(kind: str) -> CommandKind:
    for known in COMMAND_KINDS:
        if known == kind:
            return known
    raise BadCommand(f"kind: unknown {kind!r}")


def _with(command: HostCommand, **changes: Any) -> HostCommand:
    from dataclasses import replace

    return replace(command, **changes)


def _text(fields: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        if required:
            raise BadCommand(f"{name}: missing")
        return None
    if not isinstance(value, str):
        raise BadCommand(f"{name}: must be text")
    value = value.strip()
    if len(value) > MAX_HOST_TEXT:
        raise BadCommand(f"{name}: longer than {MAX_HOST_TEXT} characters")
    if required and not value:
        raise BadCommand(f"{name}: empty")
    return value or None


def _minutes(fields: Mapping[str, Any]) -> float:
    value = fields.get("minutes")
    try:
        minutes = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        minutes = math.nan
    if not math.isfinite(minutes) or minutes == 0 or abs(minutes) > MAX_SHIFT_MINUTES:
        raise BadCommand(
            f"minutes: a number of minutes other than 0, at most {MAX_SHIFT_MINUTES:g} "
            "either way (negative: earlier)"
        )
    return minutes


def _fits(config: ChatConfig, text: str, platforms: list[str]) -> None:
    limits = platform_limits(config)
    full = with_hashtag(text, config.chat.hashtag)
    for name in platforms:
        limit = limits.get(name, 500)
        length = length_for(name, full)
        if length > limit:
            raise BadCommand(f"text: {length} characters with the hashtag, over {name}'s {limit}")
