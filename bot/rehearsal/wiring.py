"""A rehearsal's wiring: the chat on compressed time, against in-memory servers and a
simulated crowd, with nothing sent anywhere. `tweetchat rehearse` runs it through the same
``bootstrap.run_chat`` as a real chat; only the platforms, the clock and the timings differ.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from bot.core.agenda import Occurrence, Plan
from bot.core.config import ChatConfig
from bot.ports.clock import Clock
from bot.ports.posting import PostingPlatform
from bot.runtime.logs import get_logger

if TYPE_CHECKING:
    from bot.rehearsal.crowd import CrowdPlan

# How long after its start a rehearsal's intro goes out (see ``rehearsal_origin``).
REHEARSAL_LEAD = timedelta(seconds=1)
# A rehearsal's curation tick at most, in chat time: the tick of a chat file spares a real
# server's rate limits, which an in-memory one does not have.
REHEARSAL_TICK = timedelta(seconds=15)


def rehearsal_origin(now: datetime) -> datetime:
    """When a rehearsal's intro goes out: a moment ahead (at high speeds the first posts are a
    fraction of a second apart, and setting up must not swallow those gaps), on a whole
    second, so that the transcript's times, written to the second, are the same from one
    rehearsal of a seed to the next once counted from the start."""
    ahead = now + REHEARSAL_LEAD
    whole = ahead.replace(microsecond=0)
    return whole if whole == ahead else whole + timedelta(seconds=1)


def rehearsal_config(config: ChatConfig, *, speed: float, folder: Path) -> ChatConfig:
    """The chat file as a rehearsal plays it: capture, curation and wrap-up on the agenda's
    compressed time, the transcript written to ``folder``. The capture opens at the intro:
    the reminders, replayed just before it, stay out of the archive as they do in a run
    (where they come hours ahead). Curation looks often (``REHEARSAL_TICK``): the boosts
    then go out when the rules allow, wherever the ticks happen to fall, so that a seed
    gives the same ones every time (if the machine keeps up with the speed)."""
    follow, boost, wrapup = config.follow, config.boost, config.wrapup
    # model_copy does not validate: the limits meant for real servers (a tick of at least
    # 1s, a poll every 3s or more) do not hold for an in-memory one.
    return config.model_copy(
        update={
            "follow": follow.model_copy(
                update={
                    "margin": timedelta(0),
                    "poll_interval": follow.poll_interval / speed,
                    "replies_interval": follow.replies_interval / speed,
                }
            ),
            "boost": boost.model_copy(
                update={
                    "tick": min(boost.tick, REHEARSAL_TICK) / speed,
                    "min_interval": boost.min_interval / speed,
                }
            ),
            "wrapup": wrapup.model_copy(update={"after": wrapup.after / speed, "folder": folder}),
        }
    )


@dataclass(frozen=True)
class Rehearsal:
    """A rehearsal's world: the bot's accounts on in-memory servers, and the crowd."""

    platforms: dict[str, PostingPlatform]
    crowd: CrowdPlan
    companions: list[Any]  # the crowd playing its plan


def rehearsal_world(
    config: ChatConfig,
    plan: Plan,
    *,
    speed: float,
    crowd: int,
    seed: int,
    clock: Clock,
    stop_event: threading.Event,
    stream: TextIO | None = None,
) -> Rehearsal:
    """A server per platform of the chat, in memory, with the bot's account and a crowd of
    ``crowd`` people (``seed`` decides who they are and what they do); the bot's posts,
    boosts and direct messages are printed on ``stream``."""
    from urllib.parse import urlsplit

    from bot.core.checks import platform_limits
    from bot.rehearsal.crowd_plan import plan_crowd
    from bot.rehearsal.crowd_player import CrowdPlayer
    from bot.rehearsal.platform import RehearsalPlatform, Show
    from bot.rehearsal.world import RehearsalServer

    occurrence, agenda = plan
    people = plan_crowd(config, seed=seed, size=crowd)
    show = Show(clock=clock, zone=ZoneInfo(config.chat.timezone), stream=stream)
    limits = platform_limits(config)
    mastodon = config.platforms.mastodon
    homes = {"mastodon": urlsplit(mastodon.instance).hostname if mastodon else None}
    planned = {post.key: post.at for post in agenda}
    servers, bots, platforms = [], {}, {}
    for name in config.platforms.names():
        server = RehearsalServer(
            platform=name, home=homes.get(name) or "x.com", epoch=occurrence.start
        )
        bot = server.account(
            config.chat.id.replace("-", "_"), display_name=config.chat.title, bot=True
        )
        servers.append(server)
        bots[name] = bot
        platforms[name] = RehearsalPlatform(
            server=server,
            account=bot,
            clock=clock,
            show=show,
            max_characters=limits.get(name, 500),
            planned=planned,
        )
    player = CrowdPlayer(
        plan=people,
        servers=servers,
        bots=bots,
        speed=speed,
        clock=clock,
        stop_event=stop_event,
        log=get_logger(chat=config.chat.id),
    )
    # Every account before anything happens: account ids in the plan's order, every time.
    for server in servers:
        for person in people.people:
            player.account(server, person)
    return Rehearsal(dict(platforms), people, [player])


@dataclass(frozen=True)
class Staged:
    """A rehearsal ready to play: the chat as rehearsed, its plan and world, and its times."""

    config: ChatConfig  # as ``rehearsal_config`` makes it
    plan: Plan
    world: Rehearsal
    speed: float
    started: float  # a time.time(): the transcript files are written after it
    origin: datetime  # when the intro goes out
    ends: datetime  # the wrap-up when the chat captures, else the occurrence's end

    @property
    def capturing(self) -> bool:
        return self.config.follow.enabled


def stage_rehearsal(
    config: ChatConfig,
    *,
    speed: float,
    crowd: int,
    seed: int,
    folder: Path,
    clock: Clock,
    stop_event: threading.Event,
) -> Staged:
    """The rehearsal of the chat's next occurrence, starting now (``rehearsal_origin``), its
    transcript written to ``folder``; see ``rehearsal_world`` for ``crowd`` and ``seed``."""
    import time

    from bot.core.planning import rehearsal_plan
    from bot.core.wrapup import wrapup_time

    started = time.time()
    origin = rehearsal_origin(clock.now())
    plan = rehearsal_plan(config, origin=origin, speed=speed)
    rehearsed = rehearsal_config(config, speed=speed, folder=folder)
    world = rehearsal_world(
        rehearsed, plan, speed=speed, crowd=crowd, seed=seed, clock=clock, stop_event=stop_event
    )
    occurrence = plan[0]
    ends = wrapup_time(rehearsed, occurrence) if rehearsed.follow.enabled else occurrence.end
    return Staged(rehearsed, plan, world, speed, started, origin, ends)


def play_rehearsal(
    staged: Staged, store: Any, *, clock: Clock, stop_event: threading.Event
) -> tuple[int, dict[str, int]]:
    """Play the rehearsal through ``bootstrap.run_chat`` until it ends or ``stop_event`` is
    set (CompanionFailed if the crowd fails); then what curation decided
    (``rehearsal_boosts``)."""
    from bot import bootstrap

    bootstrap.run_chat(
        staged.config,
        platforms=staged.world.platforms,
        store=store,
        clock=clock,
        stop_event=stop_event,
        rehearsal=staged.plan,
        archive=bootstrap.open_archive(store),
        companions=staged.world.companions if staged.capturing else (),
        speed=staged.speed,
    )
    return rehearsal_boosts(store, staged.plan[0])


def rehearsal_transcript(
    config: ChatConfig, occurrence: Occurrence, *, since: float
) -> list[Path] | None:
    """The transcript files the rehearsal wrote to ``wrapup.folder`` (an earlier
    rehearsal's do not count: they were written before ``since``, a ``time.time()``), or
    None if any is missing."""
    from bot.exports import FORMATS, transcript_basename

    name = transcript_basename(config.chat.id, occurrence.date)
    files = [config.wrapup.folder / f"{name}.{fmt}" for fmt in FORMATS]
    if all(f.exists() and f.stat().st_mtime >= since for f in files):
        return files
    return None


def rehearsal_boosts(store: Any, occurrence: Occurrence) -> tuple[int, dict[str, int]]:
    """What curation decided in a rehearsal: the posts boosted, and how many posts of others
    each hard rule kept from being boosted, most first."""
    from collections import Counter

    from bot.adapters.store_curation import CurationSql

    decisions = CurationSql(store.engine).decisions(occurrence.id)
    rejected = Counter(
        d.rule for d in decisions if d.state == "rejected" and d.rule not in (None, "own")
    )
    boosted = sum(1 for d in decisions if d.state == "boosted")
    return boosted, {str(rule): n for rule, n in rejected.most_common()}
