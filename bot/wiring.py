"""The companions of a chat's agenda, wired per platform: followers that capture, curators
that boost, the wrap-up, and X's budget. Called by ``bot.bootstrap``, the composition root.

Platform libraries are imported only when a chat uses that platform.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.config import ChatConfig
from bot.core.planning import LINGER
from bot.ports.clock import Clock
from bot.ports.console import HealthStore
from bot.ports.curation import CuratingPlatform
from bot.ports.following import Archive, HashtagSource
from bot.ports.posting import Ledger, PostingPlatform
from bot.runtime.logs import get_logger

# Where the bot writes to no one privately (every Bluesky post is public, and it sends no
# direct messages there): approve mode offers each question's candidates in the hosts'
# console, and a host's boost there is the approval.
APPROVE_IN_CONSOLE = frozenset({"bluesky"})


def followers_for(
    config: ChatConfig,
    platforms: Mapping[str, PostingPlatform],
    *,
    archive: Archive,
    ledger: Ledger,
    clock: Clock,
    stop_event: threading.Event,
    end_delay: Callable[[], timedelta | None] | None = None,
    health: HealthStore | None = None,
) -> list[Any]:
    """A follower per platform that can follow a hashtag (none when capture is off); its
    window's end moves by ``end_delay`` (the hosts' shifts and pauses) if given; it notes
    its ``health`` (stream or polling, waits, errors) for the hosts' console."""
    if not config.follow.enabled:
        return []
    from bot.runtime.follower import Follower

    followers: list[Any] = [
        Follower(
            source=platform,
            archive=archive,
            ledger=ledger,
            clock=clock,
            stop_event=stop_event,
            tag=config.chat.tag,
            settings=config.follow,
            after_end=config.wrapup.after,
            log=get_logger(chat=config.chat.id),
            end_delay=end_delay,
            health=health,
        )
        for platform in platforms.values()
        if isinstance(platform, HashtagSource)
    ]
    return followers + _x_followers(
        config,
        platforms,
        archive=archive,
        ledger=ledger,
        clock=clock,
        stop_event=stop_event,
        end_delay=end_delay,
        health=health,
    )


def _x_followers(
    config: ChatConfig,
    platforms: Mapping[str, PostingPlatform],
    *,
    archive: Archive,
    ledger: Ledger,
    clock: Clock,
    stop_event: threading.Event,
    end_delay: Callable[[], timedelta | None] | None,
    health: HealthStore | None,
) -> list[Any]:
    """X is searched, paying for each post read, within the occurrence's budget."""
    settings = config.platforms.x
    if settings is None:
        return []  # without X, its adapter (and tweepy) need not be loaded
    from bot.runtime.x_follower import XFollower

    return [
        XFollower(
            source=platform,
            archive=archive,
            ledger=ledger,
            meter=platform.meter,
            clock=clock,
            stop_event=stop_event,
            tag=config.chat.tag,
            follow=config.follow,
            settings=settings,
            after_end=config.wrapup.after,
            log=get_logger(chat=config.chat.id),
            end_delay=end_delay,
            health=health,
        )
        for platform in _metered_x(config, platforms)
    ]


def _metered_x(config: ChatConfig, platforms: Mapping[str, PostingPlatform]) -> list[Any]:
    """The X platforms whose reads and posts are paid through a spending meter."""
    if config.platforms.x is None:
        return []  # without X, its adapter (and tweepy) need not be loaded
    from bot.adapters.x import XPlatform
    from bot.runtime.spending import SpendingMeter

    return [
        p
        for p in platforms.values()
        if isinstance(p, XPlatform) and isinstance(p.meter, SpendingMeter)
    ]


def curators_for(
    config: ChatConfig,
    platforms: Mapping[str, PostingPlatform],
    *,
    archive: Archive,
    store: Any,
    clock: Clock,
    stop_event: threading.Event,
    agenda_now: Callable[[], Sequence[PlannedPost]] | None = None,
) -> list[Any]:
    """A curator per platform that can boost: it boosts by the chat's rules (or, with
    ``boost.mode: off``, only scores) and honours "stop" whatever the mode; its question
    windows follow ``agenda_now`` (the agenda as the hosts steer it) if given. None when
    capture is off: there is nothing to curate, and the run must not outlast the chat."""
    if not config.follow.enabled:
        return []
    log = get_logger(chat=config.chat.id)
    curating: list[tuple[ChatConfig, CuratingPlatform]] = [
        (config, platform)
        for platform in platforms.values()
        if isinstance(platform, CuratingPlatform)
    ]
    curating += _x_curating(config, platforms, archive=archive, clock=clock, log=log)
    if config.boost.mode == "approve":
        for _, platform in curating:
            if platform.name in APPROVE_IN_CONSOLE:
                log.info(
                    "boost.approve_in_console",
                    platform=platform.name,
                    reason="the bot sends no direct messages there: the hosts approve each "
                    "question's candidates in the console (tweetchat console)",
                )
    return [
        _curator(
            rules,
            platform,
            archive=archive,
            store=store,
            clock=clock,
            stop_event=stop_event,
            agenda_now=agenda_now,
        )
        for rules, platform in curating
    ]


def _curator(
    config: ChatConfig,
    platform: CuratingPlatform,
    *,
    archive: Archive,
    store: Any,
    clock: Clock,
    stop_event: threading.Event,
    agenda_now: Callable[[], Sequence[PlannedPost]] | None = None,
) -> Any:
    """A curator, which rewrites the transcripts already written on a "stop" or "forget me";
    its question windows follow ``agenda_now`` (the agenda as the hosts steer it) if given.
    Its approval rounds go to the hosts' console where the bot writes to no one privately."""
    from bot.adapters.store_curation import CurationSql
    from bot.runtime.curator import Curator
    from bot.runtime.curator_console import ConsoleApprovalCurator
    from bot.runtime.transcript_files import TranscriptFiles

    curation = CurationSql(store.engine)
    kind = ConsoleApprovalCurator if platform.name in APPROVE_IN_CONSOLE else Curator
    return kind(
        config=config,
        platform=platform,
        archive=archive,
        history=curation,
        store=curation,
        ledger=store,
        clock=clock,
        stop_event=stop_event,
        log=get_logger(chat=config.chat.id),
        files=TranscriptFiles(
            config, archive=archive, ledger=store, curation=curation, history=curation
        ),
        agenda_now=agenda_now,
    )


def aftercare_for(
    config: ChatConfig,
    platforms: Mapping[str, PostingPlatform],
    *,
    archive: Archive,
    store: Any,
    clock: Clock,
    stop_event: threading.Event,
) -> list[Any]:
    """Per platform that can both curate and look a post up again (Mastodon; on X every read
    is billed): "stop", "forget me" and deletions reach the transcripts after the wrap-up.
    None when capture is off or ``wrapup.listen`` is 0."""
    if not config.follow.enabled or not config.wrapup.listen:
        return []
    from bot.adapters.store_curation import CurationSql
    from bot.runtime.aftercare import Aftercare

    curation = CurationSql(store.engine)
    return [
        Aftercare(
            config=config,
            curator=_curator(
                config, platform, archive=archive, store=store, clock=clock, stop_event=stop_event
            ),
            source=platform,
            archive=archive,
            history=curation,
            clock=clock,
            stop_event=stop_event,
            log=get_logger(chat=config.chat.id),
        )
        for platform in platforms.values()
        if isinstance(platform, CuratingPlatform) and isinstance(platform, HashtagSource)
    ]


def wrapups_for(
    config: ChatConfig,
    platforms: Mapping[str, PostingPlatform],
    *,
    publisher: Any,
    archive: Archive,
    store: Any,
    clock: Clock,
    stop_event: threading.Event,
    delay: Callable[[], timedelta | None] | None = None,
) -> list[Any]:
    """The wrap-up of each occurrence, once its capture is over (later by ``delay``, as
    the hosts moved the agenda). None when capture is off: with nothing archived there is
    nothing to wrap up."""
    if not config.follow.enabled:
        return []
    from bot.adapters.store_curation import CurationSql
    from bot.runtime.wrapup import WrapupTask

    curation = CurationSql(store.engine)
    return [
        WrapupTask(
            config=config,
            publisher=publisher,
            platforms=platforms,
            archive=archive,
            ledger=store,
            curation=curation,
            history=curation,
            clock=clock,
            stop_event=stop_event,
            log=get_logger(chat=config.chat.id),
            delay=delay,
        )
    ]


def _x_curating(
    config: ChatConfig,
    platforms: Mapping[str, PostingPlatform],
    *,
    archive: Archive,
    clock: Clock,
    log: Any,
) -> list[tuple[ChatConfig, CuratingPlatform]]:
    """X reposts by the same rules under its own, lower caps (its automation rules forbid
    bulk reposting), from what the follower captured (re-reading would be billed)."""
    settings = config.platforms.x
    curating = _x_curation(config, platforms, archive=archive, clock=clock)
    if settings is None or curating is None:
        return []
    mode = config.boost.mode
    if mode == "approve":
        mode = "off"
        log.warning(
            "boost.approve_unavailable",
            platform="x",
            reason="approve mode sends the hosts a direct message, which the bot does not "
            "do on X: posts are scored there, not reposted",
        )
    rules = config.boost.model_copy(
        update={
            "mode": mode,
            "max_per_question": settings.repost.max_per_question,
            "max_per_author": settings.repost.max_per_author,
            "min_interval": settings.repost.min_interval,
        }
    )
    return [(config.model_copy(update={"boost": rules}), curating)]


def _x_curation(
    config: ChatConfig, platforms: Mapping[str, PostingPlatform], *, archive: Archive, clock: Clock
) -> CuratingPlatform | None:
    """X's side of curation (reposts, from the archive), for the curator and the console."""
    if config.platforms.x is None:
        return None  # without X, its adapter (and tweepy) need not be loaded
    from bot.adapters.x import XPlatform
    from bot.runtime.x_curation import XCuration

    x = platforms.get("x")
    if not isinstance(x, XPlatform):
        return None
    return XCuration(
        platform=x,
        archive=archive,
        config=config,
        clock=clock,
        linger=config.wrapup.after + LINGER,
    )


def x_budgets(
    config: ChatConfig, platforms: Mapping[str, PostingPlatform], *, store: Any
) -> list[Callable[[Occurrence, Sequence[PlannedPost]], None]]:
    """Sets the budget of each occurrence on X before anything of it is posted or read:
    the agenda and the wrap-up reserved, what was spent before a restart counted."""
    meters = [p.meter for p in _metered_x(config, platforms)]
    if not meters:
        return []
    from bot.adapters.store_spending import SpendingSql
    from bot.core.budget import wrapup_estimate

    spending = SpendingSql(store.engine)

    def begin(occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        done = [e.key for e in store.entries(occurrence.id) if e.state == "done"]
        for meter in meters:
            wrapped_up = [k for k in done if k.startswith(f"{occurrence.id}/wrapup-")]
            later = wrapup_estimate(
                len(config.posts.questions),
                transcript_url=config.wrapup.transcript_url is not None,
                done=sum(1 for k in wrapped_up if k.endswith(f"/{meter.platform}")),
            )
            planned = {p.key: p.text for p in agenda if p.platform == meter.platform}
            meter.begin(occurrence.id, planned, done=done, later=later, store=spending)

    return [begin]


def host_commands_for(
    config: ChatConfig,
    platforms: Mapping[str, PostingPlatform],
    *,
    publisher: Any,
    archive: Archive,
    store: Any,
    clock: Clock,
    stop_event: threading.Event,
    ownership: Any,
    speed: float = 1.0,
) -> tuple[Any, Any]:
    """The hosts' console's commands (issue 14): the agenda as the hosts steer it, for the
    runner, and the task that carries their commands out. A host's boost is checked by the
    platform's curator as it checks an approval, the post read again from its server (not
    on X, where every read is billed: there X's repost caps hold for the hosts)."""
    from bot.adapters.commands_sql import HostCommandsSql
    from bot.adapters.store_curation import CurationSql
    from bot.runtime.host_boosts import HostBoosts
    from bot.runtime.host_commands import HostCommandTask
    from bot.runtime.steering import Steering

    commands = HostCommandsSql(store.engine)
    steering = Steering(commands, speed=speed)
    x = _x_curation(config, platforms, archive=archive, clock=clock)
    checks = {
        name: _curator(
            config, platform, archive=archive, store=store, clock=clock, stop_event=stop_event
        )
        for name, platform in platforms.items()
        if isinstance(platform, CuratingPlatform)
    }
    boosts = HostBoosts(
        commands=commands,
        platforms=platforms,
        ledger=store,
        curation=CurationSql(store.engine),
        archive=archive,
        clock=clock,
        stop_event=stop_event,
        # On X a host's repost goes through its curation, budget and caps.
        curating={"x": x} if x is not None else None,
        caps={"x": config.platforms.x.repost} if x is not None and config.platforms.x else None,
        checks=checks,
    )
    task = HostCommandTask(
        hashtag=config.chat.hashtag,
        thread=config.posts.thread,
        commands=commands,
        steering=steering,
        publisher=publisher,
        boosts=boosts,
        platforms=platforms,
        ledger=store,
        clock=clock,
        stop_event=stop_event,
        log=get_logger(chat=config.chat.id),
        # Commands are taken for as long as the chat is followed: not past its end otherwise.
        linger=config.wrapup.after if config.follow.enabled else timedelta(0),
        ownership=ownership,
        max_pause=config.posts.max_pause / speed,  # a rehearsal's, in the chat's time
    )
    return steering, task
