"""The composition root: the one place that reads the environment and wires adapters.

Platform libraries are imported only here and only when a command needs them, so that
`validate` and `plan` start fast.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.core.agenda import Occurrence, Plan, build_agenda, compress, next_occurrence
from bot.core.checks import check
from bot.core.config import ChatConfig
from bot.core.configfile import parse_config
from bot.core.problems import ConfigError, Problem
from bot.ports import Clock, Ledger, PlatformError, PostingPlatform
from bot.runtime.logs import get_logger, register_secret

DEFAULT_DATABASE_URL = "sqlite:///tweetchat.sqlite3"
# A chat still counts as current this long after its end (a restart resumes it).
LINGER = timedelta(minutes=1)


@dataclass(frozen=True)
class Settings:
    """Process settings: from the environment, never from the chat file."""

    database_url: str
    log_format: str | None  # "json", "console", or None to choose by terminal
    log_level: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        fmt = env.get("TWEETCHAT_LOG_FORMAT")
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            log_format=fmt if fmt in ("json", "console") else None,
            log_level=env.get("TWEETCHAT_LOG_LEVEL", "INFO"),
        )


def load_config(path: Path) -> ChatConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            str(path), [Problem((), f"cannot read the file: {exc.strerror}", "check the path")]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), [Problem((), "the file is not UTF-8 text")]) from None
    return parse_config(text, filename=str(path))


def connect_platforms(
    config: ChatConfig, *, env: Mapping[str, str] | None = None
) -> dict[str, PostingPlatform]:
    """The real platforms of the chat; every missing token is reported at once."""
    env = os.environ if env is None else env
    problems = []
    platforms: dict[str, PostingPlatform] = {}
    mastodon = config.platforms.mastodon
    if mastodon is not None:
        token = env.get(mastodon.token_env, "").strip()
        if not token:
            problems.append(
                Problem(
                    ("platforms", "mastodon", "token_env"),
                    f"the environment variable {mastodon.token_env} is not set",
                    f"export {mastodon.token_env}=<the bot account's access token> "
                    "(scopes read and write)",
                )
            )
        else:
            register_secret(token)
            from bot.adapters.mastodon import MastodonPlatform

            platforms["mastodon"] = MastodonPlatform(mastodon, token=token)
    if problems:
        raise ConfigError("environment", problems)
    return platforms


def console_platforms(
    config: ChatConfig, *, clock: Clock, stream: TextIO | None = None
) -> dict[str, PostingPlatform]:
    from bot.adapters.console import ConsolePlatform

    limits = {
        "mastodon": config.platforms.mastodon.max_characters if config.platforms.mastodon else 500
    }
    return {
        name: ConsolePlatform(
            name=name,
            clock=clock,
            zone=ZoneInfo(config.chat.timezone),
            max_characters=limits.get(name, 500),
            stream=stream,
        )
        for name in config.platforms.names()
    }


def check_live_limits(
    config: ChatConfig, platforms: Mapping[str, PostingPlatform], path: str
) -> None:
    """Re-check lengths against the limits the servers announce, before posting anything."""
    limits = {}
    for name, platform in platforms.items():
        try:
            limits[name] = platform.max_characters()
        except PlatformError as exc:
            get_logger(platform=name).warning("limits.unknown", reason=exc.reason)
    problems = check(config, limits=limits)
    if problems:
        raise ConfigError(path, problems)


def open_store(url: str) -> Any:
    from bot.adapters.store_sql import SqlStore

    return SqlStore.from_url(url)


def next_plan(config: ChatConfig, now: datetime) -> Plan:
    occurrence = next_occurrence(config, now, linger=LINGER)
    return occurrence, build_agenda(config, occurrence)


def rehearsal_plan(config: ChatConfig, *, origin: datetime, speed: float) -> Plan:
    """The next occurrence replayed from ``origin``, ``speed`` times faster."""
    occurrence, agenda = next_plan(config, origin)
    agenda = compress(agenda, origin=origin, speed=speed)
    start = min(p.at for p in agenda if p.kind == "intro")
    rehearsed = Occurrence(
        chat_id=occurrence.chat_id,
        date=occurrence.date,
        start=start,
        end=start + config.chat.duration / speed,
    )
    return rehearsed, agenda


def run_chat(
    config: ChatConfig,
    *,
    platforms: Mapping[str, PostingPlatform],
    store: Ledger,
    clock: Clock,
    stop_event: threading.Event,
    rehearsal: Plan | None = None,
) -> None:
    """Run the next occurrence (a rehearsal's, if given), or the whole series, until it ends
    or a stop is asked."""
    from bot.runtime.publisher import PostPublisher
    from bot.runtime.runner import OccurrenceRunner, run_series

    log = get_logger(chat=config.chat.id)
    publisher = PostPublisher(
        ledger=store,
        platforms=platforms,
        clock=clock,
        grace=config.posts.grace,
        stop_event=stop_event,
        log=log,
    )
    runner = OccurrenceRunner(publisher=publisher, clock=clock, stop_event=stop_event, log=log)
    run_series(
        next_plan=(lambda _now: rehearsal) if rehearsal else (lambda now: next_plan(config, now)),
        runner=runner,
        clock=clock,
        stop_event=stop_event,
        linger=timedelta(0) if rehearsal else LINGER,
        once=rehearsal is not None or config.chat.every is None,
    )


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
