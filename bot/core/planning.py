"""Which occurrence is current, and what it plans: views of the agenda the commands show.

Pure: the clock's reading is passed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.agenda import Occurrence, Plan, Replay, build_agenda, compress, next_occurrence
from bot.core.config import ChatConfig
from bot.core.problems import ConfigError, Problem
from bot.core.wrapup import wrapup_delay

# A chat still counts as current this long after its end (a restart resumes it).
LINGER = timedelta(minutes=1)


def next_plan(config: ChatConfig, now: datetime) -> Plan:
    # While the chat is still being captured and wrapped up, a restart resumes it, not next
    # week's.
    capturing = wrapup_delay(config) if config.follow.enabled else timedelta(0)
    occurrence = next_occurrence(config, now, linger=max(LINGER, capturing))
    return occurrence, build_agenda(config, occurrence)


def rehearsal_plan(config: ChatConfig, *, origin: datetime, speed: float) -> Plan:
    """The next occurrence replayed from ``origin``, ``speed`` times faster."""
    occurrence, planned = next_plan(config, origin)
    agenda = compress(planned, origin=origin, speed=speed)
    start = min(p.at for p in agenda if p.kind == "intro")
    first = min(p.at for p in planned if p.kind != "reminder")  # compress's origin
    rehearsed = Occurrence(
        chat_id=occurrence.chat_id,
        date=occurrence.date,
        start=start,
        end=start + config.chat.duration / speed,
        replay=Replay(origin=origin, planned=first, speed=speed),
    )
    return rehearsed, agenda


def archived_occurrence(config: ChatConfig, *, date: str | None, now: datetime) -> str:
    """The occurrence `tweetchat archive` shows: the given date's, else the one being
    captured now, else the latest that was."""
    if date is not None:
        try:
            day = datetime.strptime(date, "%Y-%m-%d").date()
        except ValueError:
            raise ConfigError(
                "--occurrence",
                [Problem((), f"'{date}' is not a date", "write it like 2026-12-02")],
            ) from None
        return f"{config.chat.id}/{day.isoformat()}"
    occurrence, agenda = next_plan(config, now)
    opens = min([p.at for p in agenda if p.kind == "intro"], default=occurrence.start)
    if config.chat.every is not None and now < opens - config.follow.margin:
        occurrence, _ = next_plan(config, now - timedelta(days=7))
    return occurrence.id


def plan_rows(config: ChatConfig, *, now: datetime) -> list[dict[str, Any]]:
    """The next occurrence's agenda as rows for `tweetchat plan`."""
    from bot.core.checks import platform_limits
    from bot.core.text import length_for

    zone = ZoneInfo(config.chat.timezone)
    limits = platform_limits(config)
    _, agenda = next_plan(config, now)
    return [
        {
            "key": post.key,
            "kind": post.kind,
            "local_time": post.at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M:%S %Z"),
            "utc_time": post.at.strftime("%Y-%m-%d %H:%M:%SZ"),
            "platform": post.platform,
            "length": length_for(post.platform, post.text),
            "limit": limits.get(post.platform),
            "text": post.text,
        }
        for post in agenda
    ]


def x_cost_lines(config: ChatConfig, *, now: datetime) -> list[str]:
    """What the next occurrence will cost on X, and the posts a URL makes dearer, for
    `tweetchat plan`; nothing for a chat without X."""
    settings = config.platforms.x
    if settings is None:
        return []
    from bot.core.budget import cost_lines, wrapup_estimate

    _, agenda = next_plan(config, now)
    later = wrapup_estimate(
        len(config.posts.questions), transcript_url=config.wrapup.transcript_url is not None
    )
    posts = [(post.key, post.text) for post in agenda if post.platform == "x"]
    return cost_lines(settings, posts, later=later)
