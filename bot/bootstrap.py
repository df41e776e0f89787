"""The composition root: the one place that reads the environment and wires adapters.

Platform libraries are imported only here and only when a command needs them, so that
`validate` and `plan` start fast.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from bot.core.agenda import (
    Occurrence,
    Plan,
)
from bot.core.checks import check
from bot.core.config import ChatConfig
from bot.core.configfile import parse_config
from bot.core.durations import DURATION_HINT, parse_duration
from bot.core.planning import LINGER, archived_occurrence, next_plan
from bot.core.problems import ConfigError, ConfigErrors, Problem
from bot.ports.clock import Clock
from bot.ports.console import HealthStore
from bot.ports.errors import PlatformError
from bot.ports.following import Archive
from bot.ports.posting import Ledger, PostingPlatform
from bot.runtime.logs import get_logger, register_secret
from bot.runtime.ownership import DEFAULT_LEASE_TTL, OwnershipKeeper
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

DEFAULT_DATABASE_URL = "sqlite:///tweetchat.sqlite3"
# After SIGTERM, how long the chats get to finish a post in flight: a container is killed
# 10 s after SIGTERM, and the leases and the heartbeat still have to be handed back.
SHUTDOWN_BUDGET = 8.0


@dataclass(frozen=True)
class Settings:
    """Process settings: from the environment, never from the chat file."""

    database_url: str
    log_format: str | None  # "json", "console", or None to choose by terminal
    log_level: str
    lease_ttl: timedelta = DEFAULT_LEASE_TTL
    # Unique among the workers sharing a database; host:pid unless TWEETCHAT_WORKER_ID says.
    worker_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        fmt = env.get("TWEETCHAT_LOG_FORMAT")
        return cls(
            database_url=_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            log_format=fmt if fmt in ("json", "console") else None,
            log_level=env.get("TWEETCHAT_LOG_LEVEL", "INFO"),
            lease_ttl=_lease_ttl(env.get("TWEETCHAT_LEASE_TTL")),
            worker_id=env.get("TWEETCHAT_WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}",
        )

    @property
    def json_logs(self) -> bool | None:
        """JSON log lines, or console ones; None: by terminal (see ``logs.configure``)."""
        return None if self.log_format is None else self.log_format == "json"


def _database_url(url: str) -> str:
    from bot.adapters.database_url import url_problem

    problem = url_problem(url)
    if problem is not None:
        reason, hint = problem
        raise ConfigError("environment", [Problem(("DATABASE_URL",), reason, hint)])
    return url


def _lease_ttl(value: str | None) -> timedelta:
    if not value:
        return DEFAULT_LEASE_TTL
    try:
        ttl = parse_duration(value)
    except ValueError as exc:
        ttl, reason = timedelta(0), str(exc)
    else:
        reason = "a lease must last longer than 0s"
    if ttl <= timedelta(0):
        raise ConfigError(
            "environment",
            [Problem(("TWEETCHAT_LEASE_TTL",), reason, f"{DURATION_HINT}; the default is 10s")],
        )
    return ttl


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


def load_chats(path: Path) -> list[ChatConfig]:
    """One chat file, or every chat file (``*.yaml``, ``*.yml``) of a folder."""
    if not path.is_dir():
        return [load_config(path)]
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if not files:
        raise ConfigError(
            str(path),
            [Problem((), "the folder holds no chat file", "put one *.yaml file per chat in it")],
        )
    chats: list[ChatConfig] = []
    errors: list[ConfigError] = []
    first_file: dict[str, Path] = {}
    for file in files:
        try:
            chat = load_config(file)
        except ConfigError as exc:
            errors.append(exc)
            continue
        first = first_file.setdefault(chat.chat.id, file)
        if first != file:
            problem = Problem(
                ("chat", "id"),
                f"the chat id {chat.chat.id!r} is taken by {first.name}",
                "give each chat its own id: it names the chat's posts in the ledger",
            )
            errors.append(ConfigError(str(file), [problem]))
            continue
        chats.append(chat)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)
    return chats


def connect_platforms(
    config: ChatConfig, *, env: Mapping[str, str] | None = None, keep_sessions: bool = True
) -> dict[str, PostingPlatform]:
    """The real platforms of the chat; every missing token is reported at once.
    ``keep_sessions``: a platform's login may be saved in the store (not for `doctor`)."""
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

            platforms["mastodon"] = MastodonPlatform(
                mastodon, token=token, log=get_logger(chat=config.chat.id)
            )
    if config.platforms.x is not None:
        x = _connect_x(config, env, problems)
        if x is not None:
            platforms["x"] = x
    if config.platforms.bluesky is not None:
        bluesky = _connect_bluesky(config, env, problems, keep_sessions=keep_sessions)
        if bluesky is not None:
            platforms["bluesky"] = bluesky
    if problems:
        raise ConfigError("environment", problems)
    return platforms


# The X app's four OAuth 1.0a user-context credentials: the setting naming each variable.
_X_CREDENTIALS = ("api_key_env", "api_secret_env", "access_token_env", "access_secret_env")


def _connect_x(
    config: ChatConfig, env: Mapping[str, str], problems: list[Problem]
) -> PostingPlatform | None:
    settings = config.platforms.x
    assert settings is not None
    values = {}
    for field in _X_CREDENTIALS:
        name = getattr(settings, field)
        value = env.get(name, "").strip()
        if not value:
            problems.append(
                Problem(
                    ("platforms", "x", field),
                    f"the environment variable {name} is not set",
                    f"export {name}=<from the X app's Keys and tokens (OAuth 1.0a, read and "
                    "write)>; the four X variables are X_API_KEY, X_API_SECRET, "
                    "X_ACCESS_TOKEN and X_ACCESS_SECRET unless platforms.x names others",
                )
            )
        else:
            register_secret(value)
            values[field] = value
    if len(values) < len(_X_CREDENTIALS):
        return None
    from bot.adapters.x import Credentials, XPlatform
    from bot.runtime.clock import SystemClock
    from bot.runtime.spending import SpendingMeter

    clock = SystemClock()
    log = get_logger(chat=config.chat.id)
    return XPlatform(
        settings,
        credentials=Credentials(
            api_key=values["api_key_env"],
            api_secret=values["api_secret_env"],
            access_token=values["access_token_env"],
            access_secret=values["access_secret_env"],
        ),
        meter=SpendingMeter(platform="x", settings=settings, clock=clock, log=log),
        clock=clock,
        log=log,
    )


def _connect_bluesky(
    config: ChatConfig, env: Mapping[str, str], problems: list[Problem], *, keep_sessions: bool
) -> PostingPlatform | None:
    settings = config.platforms.bluesky
    assert settings is not None
    password = env.get(settings.app_password_env, "").strip()
    if not password:
        problems.append(
            Problem(
                ("platforms", "bluesky", "app_password_env"),
                f"the environment variable {settings.app_password_env} is not set",
                f"export {settings.app_password_env}=<an app password of {settings.handle}> "
                "(Bluesky: Settings > Privacy and security > App passwords)",
            )
        )
        return None
    register_secret(password)
    from bot.adapters.bluesky import BlueskyPlatform
    from bot.adapters.bluesky_session import BlueskySession
    from bot.adapters.store_bluesky import BlueskySessionsSql
    from bot.runtime.clock import SystemClock

    clock = SystemClock()
    sessions = BlueskySessionsSql(Settings.from_env(env).database_url, writable=keep_sessions)
    session = BlueskySession(settings, password=password, sessions=sessions, clock=clock)
    return BlueskyPlatform(settings, session=session, clock=clock)


def console_platforms(
    config: ChatConfig, *, clock: Clock, stream: TextIO | None = None
) -> dict[str, PostingPlatform]:
    from bot.adapters.console import ConsolePlatform
    from bot.core.checks import platform_limits

    limits = platform_limits(config)
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
    """Before posting anything: every token the servers refuse, and lengths against the
    limits the servers announce. A server that cannot be reached now is not an error: the
    posts retry it in their time.

    The limit is all this asks, not the doctor's whole inspection (``account_facts``),
    which would open and close a stream and read more than a start uses; asking a
    Mastodon server its limit reads the account first, which is what refuses a bad token.
    """
    from bot.ports.errors import TokenRefused

    limits = {}
    refused = []
    for name, platform in platforms.items():
        try:
            limits[name] = platform.max_characters()
        except TokenRefused as exc:
            refused.append(_refused_token(config, name, exc.reason))
        except PlatformError as exc:
            # Not the token (a missing endpoint, an unreachable server): the limits come
            # from the chat file, and the posts find out in their time.
            get_logger(platform=name).warning("limits.unknown", reason=exc.reason)
    if refused:
        raise ConfigError("environment", refused)
    problems = check(config, limits=limits)
    if problems:
        raise ConfigError(path, problems)


def _refused_token(config: ChatConfig, platform: str, reason: str) -> Problem:
    mastodon = config.platforms.mastodon
    held_in = (
        mastodon.token_env if platform == "mastodon" and mastodon else f"{platform}'s variables"
    )
    return Problem(
        ("platforms", platform),
        f"the server refused the token in {held_in} ({reason})",
        "create a new access token for the bot account (scopes read and write) and export it",
    )


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
    steering, commands = (
        host_commands_for(
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
        if archive is not None
        else (None, None)
    )
    followers = (
        followers_for(
            config,
            platforms,
            archive=archive,
            ledger=store,
            clock=clock,
            stop_event=acting,
            end_delay=None if steering is None else steering.delay,
            health=open_health(store),
        )
        if archive is not None
        else []
    )
    curators = (
        curators_for(
            config,
            platforms,
            archive=archive,
            store=store,
            clock=clock,
            stop_event=acting,
            agenda_now=None if steering is None else lambda: steering.current()[1].posts,
        )
        if archive is not None
        else []
    )
    wrapups = (
        wrapups_for(
            config,
            platforms,
            publisher=publisher,
            archive=archive,
            store=store,
            clock=clock,
            stop_event=acting,
            delay=None if steering is None else steering.delay,
        )
        if archive is not None
        else []
    )
    aftercare = (
        aftercare_for(
            config, platforms, archive=archive, store=store, clock=clock, stop_event=acting
        )
        if archive is not None
        else []
    )
    runner = OccurrenceRunner(
        publisher=publisher,
        clock=clock,
        stop_event=acting,
        log=log,
        companions=[
            *followers,
            *curators,
            *wrapups,
            *aftercare,
            *companions,
            *([commands] if commands else []),
        ],
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
