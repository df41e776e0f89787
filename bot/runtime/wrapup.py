"""After a chat: its transcript and its wrap-up thread, from what the store holds.

The store gives the archived posts (deleted ones are gone from it), the ledger the ids of the
bot's question posts, curation the opt-outs and the boosts, the archive's history the people
seen before. The wrap-up goes out through the publisher, so its keys make it exactly-once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.agenda import Occurrence, PlannedPost, build_agenda, occurrence_at, occurrence_date
from bot.core.config import ChatConfig
from bot.core.config_fields import parse_weekly
from bot.core.stats import compute_series_stats, compute_stats
from bot.core.transcript import (
    Transcript,
    build_transcript,
    closing_refs,
    post_ref,
    questions_from_agenda,
)
from bot.core.wrapup import wrapup_thread, wrapup_time
from bot.ports.clock import Clock
from bot.ports.curation import CurationStore
from bot.ports.errors import PlatformError
from bot.ports.following import Archive, ArchiveHistory
from bot.ports.posting import Ledger, PostingPlatform
from bot.runtime.clock import wait_until
from bot.runtime.publisher import Outcome, PostPublisher

if TYPE_CHECKING:
    # The exports are loaded when a wrap-up comes, not by every worker as it starts.
    from bot.exports import ExportContext
    from bot.series_exports import SeriesContext


def occurrence_on(config: ChatConfig, day: date) -> Occurrence:
    """The chat's occurrence on a local date, at the chat's local time."""
    if config.chat.start is not None:
        at = config.chat.start.time()
    else:
        assert config.chat.every is not None  # the config model enforces exactly one
        _, at = parse_weekly(config.chat.every)
    return occurrence_at(config, datetime.combine(day, at))


# A series' files are written at wrap-up once there is a series: a one-off chat has none.
SERIES_MINIMUM = 2

_FOLDER_LOCKS: dict[Path, threading.Lock] = {}
_FOLDER_LOCKS_LOCK = threading.Lock()


def folder_lock(folder: Path) -> threading.Lock:
    """The lock of one transcript folder in this process. Whoever writes transcripts holds
    it from reading the archive to the last file written: a wrap-up that read the archive
    just before a "forget me" must not write over the files rewritten without the person."""
    with _FOLDER_LOCKS_LOCK:
        return _FOLDER_LOCKS.setdefault(folder.resolve(), threading.Lock())


def occurrence_of(config: ChatConfig, occurrence_id: str) -> Occurrence:
    """The occurrence an id (chat/date) names."""
    return occurrence_on(config, date.fromisoformat(occurrence_date(occurrence_id)))


def gather(
    config: ChatConfig,
    occurrence: Occurrence,
    *,
    archive: Archive,
    ledger: Ledger,
    curation: CurationStore,
    history: ArchiveHistory,
) -> ExportContext:
    """Everything the transcript and the wrap-up say about one occurrence.

    A rehearsal's is reported as the chat will be: its compressed times are put back in chat
    time here, the one place every file, number and chart of the report comes from."""
    transcript = _transcript(
        config, occurrence, archive=archive, ledger=ledger, opted_out=set(curation.optouts())
    )
    occurrence = occurrence.as_planned()
    # Occurrence ids are chat/ISO-date, so "before" in text order is before in time.
    earlier = history.returning_authors(config.chat.id, before=occurrence.id)
    boosted = {
        (d.platform, d.post_id) for d in curation.decisions(occurrence.id) if d.state == "boosted"
    }
    stats = compute_stats(transcript, earlier_authors=earlier)
    from bot.exports import export_context

    return export_context(config, occurrence, transcript, stats, boosted=boosted)


def gather_series(
    config: ChatConfig,
    *,
    through: str | None = None,
    archive: Archive,
    ledger: Ledger,
    curation: CurationStore,
    history: ArchiveHistory,
    minimum: int = 1,
) -> SeriesContext | None:
    """The numbers of the chat's series: every occurrence with anything archived, oldest
    first, up to the occurrence ``through`` (an id; default: the latest). Occurrences are read
    one at a time. None when there are fewer than ``minimum``: nothing is read then."""
    ids = [i for i in history.occurrences(config.chat.id) if through is None or i <= through]
    if len(ids) < minimum:
        return None
    opted_out = set(curation.optouts())
    transcripts = (
        _transcript(
            config, occurrence_of(config, i), archive=archive, ledger=ledger, opted_out=opted_out
        )
        for i in ids
    )
    from bot.series_exports import series_context

    return series_context(config, compute_series_stats(transcripts))


def _transcript(
    config: ChatConfig,
    occurrence: Occurrence,
    *,
    archive: Archive,
    ledger: Ledger,
    opted_out: Set[str],
) -> Transcript:
    published = {
        entry.key: entry.remote_id
        for entry in ledger.entries(occurrence.id)
        if entry.state == "done" and entry.remote_id
    }
    posts = archive.posts(occurrence.id)
    replay = occurrence.replay
    if replay is not None:
        posts = [
            replace(
                p,
                created_at=replay.chat_time(p.created_at),
                edited_at=p.edited_at and replay.chat_time(p.edited_at),
            )
            for p in posts
        ]
    questions = questions_from_agenda(
        build_agenda(config, occurrence),
        published,
        hashtag=config.chat.hashtag,
        archived={post_ref(p): p for p in posts if p.is_own},
    )
    return build_transcript(
        occurrence.id,
        posts,
        questions,
        opted_out=frozenset(opted_out),
        closing=closing_refs(published),
    )


def publish_thread(publisher: PostPublisher, thread: Sequence[PlannedPost]) -> list[Outcome]:
    """Post the thread in order; a part that fails ends it (the next would reply to a hole)."""
    outcomes: list[Outcome] = []
    for post in thread:
        outcome = publisher.publish(post)
        outcomes.append(outcome)
        if outcome in ("failed", "interrupted", "missed"):
            break
    return outcomes


def live_limits(platforms: Mapping[str, PostingPlatform], log: Any) -> dict[str, int]:
    """Each platform's post length limit as its server says; the chat file's otherwise."""
    limits = {}
    for name, platform in platforms.items():
        try:
            limits[name] = platform.max_characters()
        except PlatformError as exc:
            log.warning("limits.unknown", platform=name, reason=exc.reason)
    return limits


Results = list[tuple[PlannedPost, Outcome | None]]


class WrapupFailed(Exception):
    """A step of the wrap-up failed; the message says which and why, in one line."""


def unposted(results: Results) -> list[str]:
    """The keys of the thread's parts that failed, came too late to post, or were not tried
    after one failed (a stop is not a failure: the thread goes out at the next start)."""
    if any(outcome == "interrupted" for _, outcome in results):
        return []
    return [post.key for post, outcome in results if outcome in ("failed", "missed", None)]


def all_out(results: Results) -> bool:
    """Whether every part of the thread is out: posted now, recovered, or out before (a
    stop counts as not out: `tweetchat wrapup` then fails)."""
    return all(outcome in ("published", "recovered", "skipped") for _, outcome in results)


def post_wrapup(
    config: ChatConfig,
    occurrence: Occurrence,
    report: ExportContext,
    *,
    publisher: PostPublisher,
    platforms: Mapping[str, PostingPlatform],
    log: Any,
    due: datetime | None = None,
    series: SeriesContext | None = None,
) -> tuple[Results, list[Path]]:
    """Write the transcript files to the chat's ``wrapup.folder``, with the ``series``'
    files if given, then post the wrap-up thread on every platform: the thread links the
    transcript, so it goes out only once the files are there (WrapupFailed if they cannot
    be written). Returns each part with its outcome (None: not attempted, an earlier part
    failed) and the files.

    ``due``: when the thread counts as due; by default its planned time, end + after. Its
    keys are the planned ones whatever ``due`` is: a thread that went out is never repeated.
    """
    from bot.exports import write_exports
    from bot.series_exports import write_series_exports

    folder = config.wrapup.folder
    try:
        files = write_exports(report, folder)
        if series is not None:
            files += write_series_exports(series, folder)
    except OSError as exc:
        # The atomic writer names the file it could not write; other errors the folder.
        reason = f"cannot write {exc.filename or folder}: {exc.strerror or exc}"
        log.error("wrapup.failed", occurrence=occurrence.id, step="files", reason=reason)
        raise WrapupFailed(reason + "; the wrap-up thread was not posted") from exc
    thread = wrapup_thread(config, occurrence, report.stats, limits=live_limits(platforms, log))
    if due is not None:
        thread = [replace(post, at=due) for post in thread]
    results: Results = []
    for platform in platforms:
        parts = [post for post in thread if post.platform == platform]
        outcomes: list[Outcome | None] = list(publish_thread(publisher, parts))
        results += zip(parts, outcomes + [None] * (len(parts) - len(outcomes)), strict=True)
    log.info(
        "wrapup.done",
        occurrence=occurrence.id,
        outcomes=[outcome for _, outcome in results],
        files=[str(f) for f in files],
    )
    return results, files


class WrapupTask:
    """A companion of the occurrence: once the capture is over, the wrap-up thread goes out
    (through the ledger: once, also across restarts) and the transcript files are written."""

    def __init__(
        self,
        *,
        config: ChatConfig,
        publisher: PostPublisher,
        platforms: Mapping[str, PostingPlatform],
        archive: Archive,
        ledger: Ledger,
        curation: CurationStore,
        history: ArchiveHistory,
        clock: Clock,
        stop_event: threading.Event,
        log: Any,
        delay: Callable[[], timedelta | None] | None = None,
    ) -> None:
        self._config = config
        # How much later the hosts' console made the agenda end (None: paused, not known).
        self._delay = delay
        self._publisher = publisher
        self._platforms = platforms
        self._archive = archive
        self._ledger = ledger
        self._curation = curation
        self._history = history
        self._clock = clock
        self._stop = stop_event
        self._log = log

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        due = self._wait(wrapup_time(self._config, occurrence))
        if due is None:
            return
        with folder_lock(self._config.wrapup.folder):
            self._wrap_up(occurrence, due)

    def _wrap_up(self, occurrence: Occurrence, due: datetime) -> None:
        report = gather(
            self._config,
            occurrence,
            archive=self._archive,
            ledger=self._ledger,
            curation=self._curation,
            history=self._history,
        )
        series = gather_series(
            self._config,
            through=occurrence.id,
            minimum=SERIES_MINIMUM,
            archive=self._archive,
            ledger=self._ledger,
            curation=self._curation,
            history=self._history,
        )
        log = self._log.bind(occurrence=occurrence.id)
        results, _files = post_wrapup(
            self._config,
            occurrence,
            report,
            publisher=self._publisher,
            platforms=self._platforms,
            log=log,
            series=series,
            due=due,
        )
        failed = unposted(results)
        if failed:
            reason = f"the wrap-up thread did not go out: {', '.join(failed)} not posted"
            log.error("wrapup.failed", step="thread", reason=reason)
            raise WrapupFailed(reason)

    def _wait(self, planned: datetime) -> datetime | None:
        """Wait until the wrap-up is due: its planned time, later by as much as the hosts
        moved the end of the agenda (a shift, a pause); None if stopped first."""
        while not self._stop.is_set():
            delay = self._delay() if self._delay is not None else timedelta(0)
            if delay is None:  # paused: the end is not known yet
                self._stop.wait(1.0)
                continue
            due = planned + delay
            now = self._clock.now()
            if now >= due:
                return due
            wait_until(self._clock, self._stop, min(due, now + timedelta(seconds=1)))
        return None
