"""The composition root: the one place that wires adapters, the store and the runner, and
runs the chats (``run_chat``, ``run_chats``) or reports on them from the store. What it
builds from lives beside it: the environment in ``bot.settings``, the chat files in
``bot.chat_files``, the platforms and their live checks in ``bot.connect``.

Platform libraries and the database are imported only when a command needs them, so that
`validate` and `plan` start fast.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.agenda import Occurrence, Plan
from bot.core.config import ChatConfig
from bot.core.planning import LINGER, archived_occurrence, next_plan
from bot.ports.clock import Clock
from bot.ports.console import HealthStore
from bot.ports.following import Archive
from bot.ports.posting import Ledger, PostingPlatform
from bot.runtime.logs import get_logger
from bot.runtime.ownership import OwnershipKeeper
from bot.settings import Settings
from bot.wiring import (
    aftercare_for,
    curators_for,
    followers_for,
    host_commands_for,
    wrapups_for,
    x_budgets,
)

if TYPE_CHECKING:
    from bot.exports import ExportContext
    from bot.series_exports import SeriesContext

# After SIGTERM, how long the chats get to finish a post in flight: a container is killed
# 10 s after SIGTERM, and the leases and the heartbeat still have to be handed back.
SHUTDOWN_BUDGET = 8.0


class StoreUnavailable(Exception):
    """The database cannot be opened or brought to the latest schema; says why in a line."""


def open_store(url: str) -> Any:
    """The store, migrated to the latest schema."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.adapters.schema_version import UnknownSchema
    from bot.adapters.store_sql import SqlStore

    try:
        return SqlStore.from_url(url)
    except (SQLAlchemyError, UnknownSchema) as exc:
        raise StoreUnavailable(error_line(exc)) from exc


def run_chat(
    config: ChatConfig,
    *,
    platforms: Mapping[str, PostingPlatform],
    store: Ledger,
    clock: Clock,
    stop_event: threading.Event,
    rehearsal: Plan | None = None,
    ownership: OwnershipKeeper | None = None,
    archive: Archive | None = None,
    companions: Sequence[Any] = (),
    speed: float = 1.0,
) -> None:
    """Run the next occurrence (a rehearsal's, if given), or the whole series, until it ends
    or a stop is asked. With ``ownership``, only the occurrences this worker owns. With an
    ``archive``, the chat is captured on every platform that can follow a hashtag (and
    curated and wrapped up). ``companions`` run alongside each occurrence too (a rehearsal's
    crowd); ``speed``: a rehearsal's time compression, for the hosts' shifts."""
    from bot.runtime.publisher import PostPublisher
    from bot.runtime.runner import OccurrenceRunner, run_series

    log = get_logger(chat=config.chat.id)
    # Set when the process stops, or (with ownership) when this worker loses the occurrence.
    acting = stop_event if ownership is None else threading.Event()
    publisher = PostPublisher(
        ledger=store,
        platforms=platforms,
        clock=clock,
        grace=config.posts.grace,
        stop_event=acting,
        log=log,
        ownership=None if ownership is None else ownership.ownership,
    )
    steering: Any = None
    commands: Any = None
    chat_companions: list[Any] = []
    if archive is not None:  # the companions all read or write the archive
        steering, commands = host_commands_for(
            config,
            platforms,
            publisher=publisher,
            archive=archive,
            store=store,
            clock=clock,
            stop_event=acting,
            ownership=None if ownership is None else ownership.ownership,
            speed=speed,
        )
        chat_companions = [
            *followers_for(
                config,
                platforms,
                archive=archive,
                ledger=store,
                clock=clock,
                stop_event=acting,
                end_delay=steering.delay,
                health=open_health(store),
            ),
            *curators_for(
                config,
                platforms,
                archive=archive,
                store=store,
                clock=clock,
                stop_event=acting,
                agenda_now=lambda: steering.current()[1].posts,
            ),
            *wrapups_for(
                config,
                platforms,
                publisher=publisher,
                archive=archive,
                store=store,
                clock=clock,
                stop_event=acting,
                delay=steering.delay,
            ),
            *aftercare_for(
                config, platforms, archive=archive, store=store, clock=clock, stop_event=acting
            ),
        ]
    runner = OccurrenceRunner(
        publisher=publisher,
        clock=clock,
        stop_event=acting,
        log=log,
        companions=[*chat_companions, *companions, *([commands] if commands else [])],
        preparations=x_budgets(config, platforms, store=store),
        steering=steering,
    )
    run_series(
        next_plan=(lambda _now: rehearsal) if rehearsal else (lambda now: next_plan(config, now)),
        runner=runner,
        clock=clock,
        stop_event=stop_event,
        linger=timedelta(0) if rehearsal else LINGER,
        once=rehearsal is not None or config.chat.every is None,
        ownership=ownership,
        acting=None if ownership is None else acting,
        grace=config.posts.grace,
    )


def open_health(store: Any) -> HealthStore:
    """The worker's health per platform, in the store's database (for the hosts' console)."""
    from bot.adapters.health_sql import HealthSql

    return HealthSql(store.engine)


def open_archive(store: Any) -> Archive:
    """The archive, in the store's database."""
    from bot.adapters.archive_sql import SqlArchive

    return SqlArchive(store.engine)


def occurrence_report(
    config: ChatConfig, store: Any, *, date: str | None, now: datetime
) -> tuple[Occurrence, ExportContext]:
    """An occurrence (``date``, else the current or latest one) and what its transcript and
    wrap-up say, from the store."""
    from bot.adapters.store_curation import CurationSql
    from bot.runtime.wrapup import gather, occurrence_of

    occurrence_id = archived_occurrence(config, date=date, now=now)
    occurrence = occurrence_of(config, occurrence_id)
    curation = CurationSql(store.engine)
    context = gather(
        config,
        occurrence,
        archive=open_archive(store),
        ledger=store,
        curation=curation,
        history=curation,
    )
    return occurrence, context


def series_report(
    config: ChatConfig, store: Any, *, through: str | None, minimum: int = 1
) -> SeriesContext | None:
    """The numbers of the chat's series from the store, up to the occurrence ``through``
    (an id; default: the latest archived); None with fewer than ``minimum`` occurrences."""
    from bot.adapters.store_curation import CurationSql
    from bot.runtime.wrapup import gather_series

    curation = CurationSql(store.engine)
    return gather_series(
        config,
        through=through,
        minimum=minimum,
        archive=open_archive(store),
        ledger=store,
        curation=curation,
        history=curation,
    )


def wrapup_now(
    config: ChatConfig,
    occurrence: Occurrence,
    report: ExportContext,
    *,
    store: Any,
    platforms: Mapping[str, PostingPlatform],
    clock: Clock,
    stop_event: threading.Event,
) -> tuple[list[Any], list[Path]]:
    """Post the wrap-up thread now (`tweetchat wrapup`: asked for by hand, it is not late)
    and write the transcript files; see ``bot.runtime.wrapup.post_wrapup``."""
    from bot.runtime.publisher import PostPublisher
    from bot.runtime.wrapup import SERIES_MINIMUM, post_wrapup

    log = get_logger(chat=config.chat.id)
    publisher = PostPublisher(
        ledger=store,
        platforms=platforms,
        clock=clock,
        grace=config.posts.grace,
        stop_event=stop_event,
        log=log.bind(occurrence=occurrence.id),
    )
    return post_wrapup(
        config,
        occurrence,
        report,
        publisher=publisher,
        platforms=platforms,
        log=log,
        due=clock.now(),
        series=series_report(config, store, through=occurrence.id, minimum=SERIES_MINIMUM),
    )


def run_chats(
    chats: Sequence[tuple[ChatConfig, Mapping[str, PostingPlatform]]],
    *,
    store: Any,
    settings: Settings,
    clock: Clock,
    stop_event: threading.Event,
    failures: list[str] | None = None,
) -> bool:
    """Run every chat, each in its own thread, acting for an occurrence only while this
    worker owns it (other workers on the same database share the chats out). Returns False
    if a chat crashed, and adds to ``failures`` one line per crash saying why."""
    from bot.adapters.leases_sql import SqlHeartbeat, SqlLeases, gone_from_this_host

    log = get_logger(worker=settings.worker_id)
    keeper = OwnershipKeeper(
        ownership=SqlLeases(
            store.engine,
            worker_id=settings.worker_id,
            ttl=settings.lease_ttl,
            holder_gone=gone_from_this_host,
        ),
        heartbeat=SqlHeartbeat(
            store.engine, worker_id=settings.worker_id, host=socket.gethostname(), pid=os.getpid()
        ),
        clock=clock,
        stop_event=stop_event,
        ttl=settings.lease_ttl,
        log=log,
    )
    crashed = threading.Event()
    archive = open_archive(store)

    def run_one(config: ChatConfig, platforms: Mapping[str, PostingPlatform]) -> None:
        try:
            run_chat(
                config,
                platforms=platforms,
                store=store,
                clock=clock,
                stop_event=stop_event,
                ownership=keeper,
                archive=archive,
            )
        except Exception as exc:
            # A chat nobody runs must not hide behind a healthy heartbeat: stop the worker,
            # and let its supervisor (Docker, Heroku) start a fresh one.
            get_logger(chat=config.chat.id).exception("chat.crashed")
            if failures is not None:
                failures.append(f"chat {config.chat.id} stopped: {crash_line(exc)}")
            crashed.set()
            stop_event.set()

    threads = [
        threading.Thread(target=run_one, args=chat, name=f"chat-{chat[0].chat.id}", daemon=True)
        for chat in chats
    ]
    keeper.start()
    log.info("worker.start", chats=[config.chat.id for config, _ in chats])
    try:
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads) and not stop_event.wait(0.2):
            pass
        deadline = time.monotonic() + SHUTDOWN_BUDGET
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in threads if t.is_alive()]
        if stuck:
            log.warning("shutdown.late", chats=stuck, reason="a post in flight stays claimed")
    finally:
        keeper.close()
        log.info("worker.stop")
    return not crashed.is_set()


def crash_line(exc: Exception) -> str:
    """Why a chat stopped, in one line: a companion's own account, or the exception."""
    from bot.runtime.runner import CompanionFailed, one_line

    return str(exc) if isinstance(exc, CompanionFailed) else one_line(exc)


def error_line(exc: Exception) -> str:
    """A database error in one line, for a message or a log."""
    # Driver errors span several lines (SQL, a documentation link); the first one says it.
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
