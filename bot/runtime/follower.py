"""Following one occurrence on one platform: every public post of the chat, once, into the
archive, whatever happens to the connection or the process.

Three ways in, because each misses something the others catch:

- the hashtag stream, live. After every (re)connect the hashtag timeline is read from the
  stored cursor, which closes the gap the disconnection left; while the stream is down or
  refused, the timeline is polled instead, no faster than the server's limits allow;
- the replies to the bot's own posts (intro, questions), read from their context now and
  then: answers without the hashtag reach no stream;
- a settling pass when the window closes: the whole tag timeline of the chat and the
  replies once more, and every archived post that neither shows is looked up, so an edit
  or a deletion made while the bot was down is not missed.

All archive writes happen on the follower's own thread; the stream's thread only reads and
converts, and hands events over through a queue. Ids are opaque: the cursor is only ever an
id the server handed out, passed back to it.
"""

from __future__ import annotations

import queue
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.answers import NO_ANSWER, Answer, AnswerKey, AskedQuestion, answer_for
from bot.core.config import Follow
from bot.core.model import ArchivedPost
from bot.ports.clock import Clock
from bot.ports.console import HealthStore
from bot.ports.errors import NoStreaming, PermanentError, PlatformError, TransientError
from bot.ports.following import (
    Archive,
    BadEvent,
    DeleteEvent,
    EventStream,
    Fetched,
    HashtagSource,
    PostEvent,
    Skipped,
)
from bot.ports.posting import Ledger
from bot.runtime.clock import wait_until
from bot.runtime.health import HealthRecorder
from bot.runtime.retry import ShutdownRequested, call_with_retry

# Stream reconnects: jittered exponential backoff, reset once a connection has held a while.
RECONNECT_BASE = timedelta(seconds=1)
RECONNECT_CAP = timedelta(seconds=60)
STABLE_CONNECTION = timedelta(seconds=30)
# A server that refuses streaming is asked again this much later; it is polled meanwhile.
STREAM_REFUSED_RETRY = timedelta(minutes=5)
# Backoff for failed timeline and replies reads.
READ_RETRY_BASE = timedelta(seconds=2)
READ_RETRY_CAP = timedelta(seconds=60)
# The cursor follows the stream this far behind: a post the server numbered earlier but
# streamed a moment later is still read again after a reconnect.
CURSOR_OVERLAP = timedelta(seconds=5)
# Pages read in one go when catching up (40 posts each); the rest waits for the next round.
MAX_PAGES_PER_READ = 50
# The settling pass walks the tag timeline down to the window's start, at most this far.
MAX_SETTLE_PAGES = 500
# Reply chains longer than this are not followed up (a loop or an attack).
MAX_CHAIN = 64
# The longest wait on the queue, so timers and the stop flag are looked at often.
MAX_IDLE_SECONDS = 0.5
# The settling pass starts this long (at most) before the wrap-up reads the archive.
SETTLE_AHEAD = timedelta(minutes=1)
# A process restarted after the window closed still settles, if not too late.
SETTLE_LATE_LIMIT = timedelta(hours=6)
# The ledger's questions are read again at least this often.
KEY_MAX_AGE = timedelta(seconds=1)
# Kinds of the bot's posts whose replies belong to the chat.
_REPLIED_KINDS = ("intro", "question", "closing")

Via = Literal["stream", "timeline", "replies", "settle"]


@dataclass(frozen=True)
class FollowWindow:
    start: datetime
    end: datetime


def says_gone(looked_up: Fetched | None) -> bool:
    """Whether a lookup's answer takes a post out of the archive. Only the server's word
    does: gone (404, 410: None) or no longer public; never an answer of unexpected shape."""
    return looked_up is None or (isinstance(looked_up, Skipped) and looked_up.hidden)


def follow_window(
    occurrence: Occurrence, agenda: Sequence[PlannedPost], *, margin: timedelta, after: timedelta
) -> FollowWindow:
    """From the intro, less ``margin``, to the end of the chat (or its closing) plus
    ``after`` (the wrap-up delay), less a little: the archive is settled by the time the
    wrap-up reads it."""
    intro = [p.at for p in agenda if p.kind == "intro"]
    last = [p.at for p in agenda if p.kind in _REPLIED_KINDS]
    start = min(intro, default=occurrence.start) - margin
    settling = min(after / 4, SETTLE_AHEAD)
    return FollowWindow(start=start, end=max([occurrence.end, *last]) + after - settling)


# The end of a window while the hosts hold the agenda: not known until they resume it.
OPEN_END = datetime.max.replace(tzinfo=UTC)
# How the hosts' console moved the end of the agenda (None while paused): see Steering.delay.
EndDelay = Callable[[], timedelta | None]


def steered_end(end: datetime, delay: EndDelay | None) -> datetime:
    """A window's end, moved as much as the hosts moved the end of the agenda: a post made
    after the planned end but before the steered one belongs to the chat too."""
    moved = delay() if delay is not None else timedelta(0)
    return OPEN_END if moved is None else end + moved


def ledger_answer_key(
    ledger: Ledger, occurrence: Occurrence, agenda: Sequence[PlannedPost], platform: str
) -> tuple[AnswerKey, list[str]]:
    """The questions as the ledger knows them on one platform (which post asked each, and
    when), and the ids of the bot's posts whose replies belong to the chat."""
    done = {e.key: e for e in ledger.entries(occurrence.id) if e.state == "done" and e.remote_id}
    questions = []
    others: set[str] = set()
    replied: list[str] = []
    closes_at = occurrence.end
    opens_at = open_until = None
    for post in agenda:
        if post.platform != platform:
            continue
        entry = done.get(post.key)
        at = (entry.published_at if entry else None) or post.at
        remote_id = entry.remote_id if entry else None
        if post.kind == "question" and post.number is not None:
            questions.append(AskedQuestion(post.number, at, remote_id))
        elif remote_id:
            others.add(remote_id)
        if post.kind == "closing":
            closes_at = at
            open_until = None if entry else occurrence.end
        if post.kind == "intro" and remote_id:
            opens_at = at
        if remote_id and post.kind in _REPLIED_KINDS:
            replied.append(remote_id)
    key = AnswerKey(
        tuple(questions),
        closes_at=closes_at,
        other_posts=frozenset(others),
        opens_at=opens_at,
        open_until=open_until,
    )
    return key, replied


class Follower:
    """Captures one platform's posts of each occurrence it is given (see ``run``)."""

    def __init__(
        self,
        *,
        source: HashtagSource,
        archive: Archive,
        ledger: Ledger,
        clock: Clock,
        stop_event: threading.Event,
        tag: str,
        settings: Follow,
        after_end: timedelta,
        log: Any,
        end_delay: EndDelay | None = None,
        health: HealthStore | None = None,
    ) -> None:
        self._source = source
        self._archive = archive
        self._ledger = ledger
        self._clock = clock
        self._stop = stop_event
        self._tag = tag
        self._settings = settings
        self._after_end = after_end
        self._end_delay = end_delay
        self._health = health  # for the hosts' console: stream or polling, waits, errors
        self._log = log.bind(platform=source.name)

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        """Wait for the window, follow until it closes, settle. Returns early on stop."""
        window = self.window(occurrence, agenda)
        capture = _Capture(self, occurrence, agenda, window)
        if not wait_until(self._clock, self._stop, window.start):
            return
        if self._clock.now() < self.window(occurrence, agenda).end:
            capture.follow()
        if self._stop.is_set():
            return
        if self._clock.now() - self.window(occurrence, agenda).end < SETTLE_LATE_LIMIT:
            capture.settle_once()

    def window(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> FollowWindow:
        """The capture window as the agenda stands now (the hosts may move its end)."""
        window = follow_window(
            occurrence, agenda, margin=self._settings.margin, after=self._after_end
        )
        return replace(window, end=steered_end(window.end, self._end_delay))


@dataclass
class _Schedule:
    """When something may next be tried, and how many failures in a row it has had."""

    due: datetime
    failures: int = 0

    def failed(self, now: datetime, base: timedelta, cap: timedelta) -> timedelta:
        delay = min(cap, base * (1 << min(self.failures, 16))) * random.uniform(0.5, 1.0)
        self.failures += 1
        self.due = now + delay
        return delay

    def succeeded(self, due: datetime) -> None:
        self.failures = 0
        self.due = due


@dataclass
class _Counts:
    new: int = 0
    edited: int = 0
    deleted: int = 0
    skipped: int = 0
    bad_events: int = 0
    reconnects: int = 0
    timeline_reads: int = 0
    replies_reads: int = 0


@dataclass
class _Stream:
    handle: EventStream
    thread: threading.Thread
    generation: int
    connected_at: datetime


# Messages from the stream's thread: ("event", generation, event) or ("lost", generation, why).
_Message = tuple[str, int, Any]


@dataclass
class _Capture:
    """The state of following one occurrence."""

    follower: Follower
    occurrence: Occurrence
    agenda: Sequence[PlannedPost]
    window: FollowWindow
    # Post id -> the id it replies to, of replies only (see ``_remember_parent``).
    parents: dict[str, str] = field(default_factory=dict)
    counts: _Counts = field(default_factory=_Counts)

    def __post_init__(self) -> None:
        f = self.follower
        self.source = f._source
        self.archive = f._archive
        self.clock = f._clock
        self.stop = f._stop
        self.settings = f._settings
        self.log = f._log.bind(occurrence=self.occurrence.id)
        self.platform = self.source.name
        self.cursor_name = f"{self.occurrence.id}/{self.platform}/tag"
        self.settled_name = f"{self.occurrence.id}/{self.platform}/settled"
        self.inbox: queue.Queue[_Message] = queue.Queue()
        self.health = HealthRecorder(
            f._health, self.clock, occurrence=self.occurrence.id, platform=self.platform
        )
        self.stream: _Stream | None = None
        self.generation = 0
        now = self.clock.now()
        self.stream_schedule = _Schedule(now)
        self.timeline_schedule = _Schedule(now)
        self.replies_schedule = _Schedule(now)
        self.backfill_due = True
        self.blocked_until = now  # the server's rate limit: no reads before this
        self.recent: deque[tuple[datetime, str]] = deque()
        self._key: AnswerKey | None = None
        self._key_at = now - timedelta(days=1)
        self._own_ids: list[str] = []

    # -- the loop -------------------------------------------------------------------------

    def follow(self) -> None:
        self.log.info(
            "follow.start",
            tag=self.follower._tag,
            window_start=self.window.start.isoformat(),
            window_end=self.window.end.isoformat(),
        )
        try:
            while not self.stop.is_set():
                now = self.clock.now()
                self.window = self.follower.window(self.occurrence, self.agenda)
                if now >= self.window.end:
                    break
                self._step(now)
                self.health.flush()
                self._drain(self._idle_seconds())
        finally:
            self._disconnect()
            c = self.counts
            self.log.info(
                "follow.end",
                stopped=self.stop.is_set(),
                new=c.new,
                edited=c.edited,
                deleted=c.deleted,
                skipped=c.skipped,
                bad_events=c.bad_events,
                reconnects=c.reconnects,
                timeline_reads=c.timeline_reads,
                replies_reads=c.replies_reads,
            )

    def _step(self, now: datetime) -> None:
        if self.stream is None and now >= self.stream_schedule.due:
            self._connect(now)
        reads_allowed = now >= self.blocked_until
        if (
            reads_allowed
            and (self.backfill_due or self.stream is None)
            and now >= self.timeline_schedule.due
        ):
            self._guarded("timeline", self.timeline_schedule, self._read_timeline)
        if reads_allowed and now >= self.replies_schedule.due:
            self._guarded("replies", self.replies_schedule, self._read_all_replies)

    def _idle_seconds(self) -> float:
        now = self.clock.now()
        dues = [self.replies_schedule.due, self.window.end]
        if self.stream is None:
            dues += [self.stream_schedule.due, self.timeline_schedule.due]
        elif self.backfill_due:
            dues.append(self.timeline_schedule.due)
        wait = (max(min(dues), self.blocked_until) - now).total_seconds()
        return min(max(wait, 0.0), MAX_IDLE_SECONDS)

    def _guarded(self, activity: str, schedule: _Schedule, read: Callable[[], object]) -> None:
        """Run one read; a failure is logged with its reason and the read is tried again
        later (the server's reset time for a rate limit), never stopping the follower."""
        now = self.clock.now()
        try:
            read()
        except TransientError as exc:
            if exc.retry_after is not None:
                wait = timedelta(seconds=max(exc.retry_after, 0.0))
                self.blocked_until = now + wait
                schedule.due = self.blocked_until
                self.health.rate_limited(self.blocked_until, exc.reason)
                self.log.warning(
                    "ratelimit.wait",
                    seconds=round(wait.total_seconds(), 2),
                    reason=exc.reason,
                    activity=activity,
                )
            else:
                delay = schedule.failed(now, READ_RETRY_BASE, READ_RETRY_CAP)
                self.health.error(exc.reason)
                self.log.warning(
                    "retry.wait",
                    seconds=round(delay.total_seconds(), 2),
                    reason=exc.reason,
                    activity=activity,
                )
        except PermanentError as exc:
            delay = schedule.failed(now, READ_RETRY_CAP, READ_RETRY_CAP)
            self.health.error(exc.reason)
            self.log.error(
                "follow.refused",
                seconds=round(delay.total_seconds(), 2),
                reason=exc.reason,
                activity=activity,
            )
        except Exception:
            # A bug must not end the capture: log it whole and try again later.
            delay = schedule.failed(now, READ_RETRY_CAP, READ_RETRY_CAP)
            self.health.error(f"the bot failed reading the {activity} (see its log)")
            self.log.exception(
                "follow.error", activity=activity, seconds=round(delay.total_seconds(), 2)
            )

    # -- the stream -----------------------------------------------------------------------

    def _connect(self, now: datetime) -> None:
        try:
            handle = self.source.open_stream(self.follower._tag)
        except TransientError as exc:
            if exc.retry_after is not None:
                wait = timedelta(seconds=max(exc.retry_after, 0.0))
                self.stream_schedule.due = now + wait
                self.health.rate_limited(now + wait, exc.reason)
                self.log.warning(
                    "ratelimit.wait",
                    seconds=round(wait.total_seconds(), 2),
                    reason=exc.reason,
                    activity="stream",
                )
            else:
                self._schedule_reconnect(now, exc.reason)
            return
        except NoStreaming as exc:
            # Nothing to ask again: poll until the window closes.
            self.stream_schedule.due = self.window.end
            self.health.mode("polling", exc.reason)
            self.log.warning(
                "follow.polling",
                reason=exc.reason,
                poll_every_s=self.settings.poll_interval.total_seconds(),
            )
            return
        except PermanentError as exc:
            self.stream_schedule.due = now + STREAM_REFUSED_RETRY
            self.health.mode("polling", exc.reason)
            self.log.warning(
                "follow.polling",
                reason=exc.reason,
                poll_every_s=self.settings.poll_interval.total_seconds(),
                stream_retry_s=STREAM_REFUSED_RETRY.total_seconds(),
            )
            return
        self.generation += 1
        generation = self.generation
        thread = threading.Thread(
            target=self._pump,
            args=(handle, generation),
            name=f"stream-{self.platform}",
            daemon=True,
        )
        self.stream = _Stream(handle, thread, generation, now)
        thread.start()
        # Whatever was posted while the stream was down: read it now.
        self.backfill_due = True
        self.timeline_schedule.due = now
        self.recent.clear()
        self.health.mode("stream")
        self.log.info("follow.connected", generation=generation)

    def _pump(self, handle: EventStream, generation: int) -> None:
        """The stream's thread: read, convert, hand over. Nothing else."""
        try:
            for event in handle.events():
                self.inbox.put(("event", generation, event))
        except PlatformError as exc:
            self.inbox.put(("lost", generation, exc.reason))
        except Exception as exc:
            self.inbox.put(("lost", generation, f"{type(exc).__name__}: {exc}"))
        else:
            self.inbox.put(("lost", generation, "closed"))

    def _schedule_reconnect(self, now: datetime, reason: str) -> None:
        delay = self.stream_schedule.failed(now, RECONNECT_BASE, RECONNECT_CAP)
        self.counts.reconnects += 1
        # The timeline is polled until the stream is back.
        self.health.mode("polling", reason)
        self.log.warning(
            "follow.reconnect",
            reason=reason,
            seconds=round(delay.total_seconds(), 2),
            attempt=self.stream_schedule.failures,
        )

    def _lost(self, generation: int, reason: str) -> None:
        stream = self.stream
        if stream is None or stream.generation != generation:
            return  # an old connection's last word
        self.stream = None
        stream.handle.close()
        now = self.clock.now()
        if now - stream.connected_at >= STABLE_CONNECTION:
            self.stream_schedule.failures = 0
        self._schedule_reconnect(now, reason)
        # Poll while it is down, unless a reconnect (and its backfill) comes first.
        self.timeline_schedule.due = max(
            self.timeline_schedule.due, now + self.settings.poll_interval
        )

    def _disconnect(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.handle.close()
            stream.thread.join(timeout=2)

    def _drain(self, timeout: float) -> None:
        try:
            message = self.inbox.get(timeout=timeout) if timeout > 0 else self.inbox.get_nowait()
        except queue.Empty:
            return
        # Then whatever else is waiting, in a bounded batch so timers keep their turn.
        for _ in range(1000):
            self._handle(message)
            try:
                message = self.inbox.get_nowait()
            except queue.Empty:
                return
        self._handle(message)

    def _handle(self, message: _Message) -> None:
        kind, generation, payload = message
        if kind == "lost":
            self._lost(generation, str(payload))
            return
        try:
            self._on_event(payload)
        except Exception:
            self.log.exception("follow.error", activity="stream event")

    def _on_event(self, event: Any) -> None:
        if isinstance(event, PostEvent):
            item = event.item
            if item.id is not None:
                self._advance_cursor(item.id)
            self._file(item, "stream")
        elif isinstance(event, DeleteEvent):
            self._delete(event.id, reason="deleted by its author")
        elif isinstance(event, BadEvent):
            self.counts.bad_events += 1
            self.log.warning("capture.skipped", reason=event.reason, via="stream")

    def _advance_cursor(self, post_id: str) -> None:
        """Move the cursor to the id streamed ``CURSOR_OVERLAP`` ago, once the gap of the
        last reconnect is closed (before that the cursor must stay behind the gap)."""
        now = self.clock.now()
        self.recent.append((now, post_id))
        if self.backfill_due:
            return
        settled = None
        while self.recent and now - self.recent[0][0] >= CURSOR_OVERLAP:
            settled = self.recent.popleft()[1]
        if settled is not None:
            self.archive.set_cursor(self.cursor_name, settled, now=now)

    # -- reading --------------------------------------------------------------------------

    def _read_timeline(self) -> None:
        """Everything above the cursor, oldest first; with no cursor yet, everything since
        the window opened."""
        self.counts.timeline_reads += 1
        cursor = self.archive.cursor(self.cursor_name)
        caught_up = True
        if cursor is None:
            newest = self._walk_down(via="timeline", limit=MAX_PAGES_PER_READ)
            if newest is not None:
                self.archive.set_cursor(self.cursor_name, newest, now=self.clock.now())
        else:
            for _ in range(MAX_PAGES_PER_READ):
                if self.stop.is_set():
                    return
                page = self.source.tag_page(self.follower._tag, newer_than=cursor)
                self._file_all(reversed(page.items), "timeline")
                caught_up = not page.full or page.newer in (None, cursor)
                if page.newer is not None and page.newer != cursor:
                    cursor = page.newer
                    self.archive.set_cursor(self.cursor_name, cursor, now=self.clock.now())
                if caught_up:
                    break
        now = self.clock.now()
        # Still behind after a long read: go on at once, the gap is not closed yet.
        self.backfill_due = not caught_up
        self.timeline_schedule.succeeded(
            now if not caught_up else now + self.settings.poll_interval
        )

    def _walk_down(self, *, via: Via, limit: int, unseen: set[str] | None = None) -> str | None:
        """The tag timeline from the newest post down to the window's start, filed a page at
        a time (a big chat's whole timeline is never held in memory); returns the newest id
        (the cursor to continue from), if any. Every id read is taken out of ``unseen``."""
        older: str | None = None
        newest: str | None = None
        for _ in range(limit):
            if self.stop.is_set():
                break
            page = self.source.tag_page(self.follower._tag, older_than=older)
            if newest is None:
                newest = page.newer
            # Parents first, so that a reply chain within the page resolves.
            for item in page.items:
                if item.id is not None:
                    self._remember_parent(item.id, item.in_reply_to)
                    if unseen is not None:
                        unseen.discard(item.id)
            self._file_all(reversed(page.items), via)
            reached_start = any(
                isinstance(item, ArchivedPost) and item.created_at < self.window.start
                for item in page.items
            )
            if reached_start or not page.items or page.older is None:
                break
            older = page.older
        return newest

    def _read_all_replies(self) -> set[str]:
        """The replies to each of the bot's posts; returns every id seen."""
        self.counts.replies_reads += 1
        seen: set[str] = set()
        for post_id in self._own_post_ids():
            if self.stop.is_set():
                break
            if post_id in seen:
                continue  # already read as part of an earlier post's thread
            items = self.source.replies(post_id)
            for item in items:
                if item.id is not None:
                    self._remember_parent(item.id, item.in_reply_to)
                    seen.add(item.id)
            self._file_all(items, "replies")
        self.replies_schedule.succeeded(self.clock.now() + self.settings.replies_interval)
        return seen

    # -- filing ---------------------------------------------------------------------------

    def _file_all(self, items: Iterable[Fetched], via: Via) -> None:
        for item in items:
            self._file(item, via)

    def _remember_parent(self, post_id: str, parent: str | None) -> None:
        """Keep a reply's parent, also of a reply that is not archived (a private post in the
        middle of a chain). A post that replies to nothing ends a chain whether it is kept
        here or not: left out, the chat's many top-level answers do not stay in memory."""
        if parent is not None:
            self.parents[post_id] = parent

    def _file(self, item: Fetched, via: Via) -> None:
        if item.id is not None:
            self._remember_parent(item.id, item.in_reply_to)
        if isinstance(item, Skipped):
            self.counts.skipped += 1
            if item.expected:
                self.log.debug("capture.skipped", id=item.id, reason=item.reason, via=via)
            else:
                self.log.warning("capture.skipped", id=item.id, reason=item.reason, via=via)
            return
        if item.created_at < self.window.start:
            return  # an earlier chat's, or unrelated
        now = self.clock.now()
        question, rule = self._answer(item)
        post = replace(item, occurrence=self.occurrence.id, question=question, rule=rule)
        outcome = self.archive.save(post, now=now)
        if outcome == "new":
            self.counts.new += 1
            self.log.info(
                "capture.post",
                id=post.id,
                question=question,
                rule=rule,
                own=post.is_own,
                via=via,
                lag_ms=round((now - post.created_at).total_seconds() * 1000),
            )
        elif outcome == "edited":
            self.counts.edited += 1
            self.log.info("capture.edited", id=post.id, question=question, rule=rule, via=via)

    def _answer(self, post: ArchivedPost) -> Answer:
        if post.is_own:
            return NO_ANSWER
        key = self._answer_key(made_at=post.created_at)
        chain = self._chain(post.in_reply_to, key)
        answer = answer_for(key, text=post.text, created_at=post.created_at, reply_chain=chain)
        if answer[1] != "reply" and post.in_reply_to is not None:
            # A reply chain seen once stays true (in_reply_to never changes): a later copy
            # read without the chain's middle must not undo it.
            stored = self.archive.get(post.platform, post.id)
            if stored is not None and stored.rule == "reply":
                return stored.question, stored.rule
        return answer

    def _chain(self, parent: str | None, key: AnswerKey) -> list[str]:
        own = {q.post_id for q in key.questions} | key.other_posts
        chain: list[str] = []
        while parent is not None and parent not in chain and len(chain) < MAX_CHAIN:
            chain.append(parent)
            if parent in own:
                break
            if parent in self.parents:
                parent = self.parents[parent]
                continue
            stored = self.archive.get(self.platform, parent)
            if stored is None:
                break
            self._remember_parent(parent, stored.in_reply_to)
            parent = stored.in_reply_to
        return chain

    def _delete(self, post_id: str, *, reason: str) -> None:
        known = self.archive.delete(
            self.platform, post_id, occurrence=self.occurrence.id, now=self.clock.now()
        )
        if known:
            self.counts.deleted += 1
            self.log.info("capture.deleted", id=post_id, reason=reason)

    # -- what the ledger says about the bot's posts ------------------------------------------

    def _answer_key(self, *, made_at: datetime | None = None) -> AnswerKey:
        """The ledger's questions, read again each second, and for a post made since the last
        reading (a question may have gone out in between: its window opened then). Streamed
        posts are new, so that is a small read of the ledger for most of them."""
        now = self.clock.now()
        stale = made_at is not None and made_at >= self._key_at
        if self._key is None or stale or now - self._key_at >= KEY_MAX_AGE:
            self._key, self._own_ids = self._read_ledger()
            self._key_at = now
        return self._key

    def _own_post_ids(self) -> list[str]:
        self._answer_key()
        return self._own_ids

    def _read_ledger(self) -> tuple[AnswerKey, list[str]]:
        return ledger_answer_key(self.follower._ledger, self.occurrence, self.agenda, self.platform)

    # -- settling -------------------------------------------------------------------------

    def settle_once(self) -> None:
        """The final pass, once per occurrence (a restart after it does not repeat it)."""
        if self.archive.cursor(self.settled_name) is not None:
            return
        log = self.log.bind(activity="settle")

        def retried(action: Callable[[], Any]) -> Any:
            return call_with_retry(action, stop_event=self.stop, log=log, attempts=8)

        try:
            # What the archive holds that neither the timeline nor the replies show any more.
            # Read before them: whatever is archived from here on was just seen on the server.
            unseen = self.archive.ids(self.occurrence.id, self.platform)
            retried(lambda: self._walk_down(via="settle", limit=MAX_SETTLE_PAGES, unseen=unseen))
            unseen -= retried(self._read_all_replies)
            checked = gone = 0
            for post_id in unseen:
                checked += 1
                now_item = retried(partial(self.source.fetch, post_id))
                if says_gone(now_item):
                    gone += 1
                    self._delete(post_id, reason="gone from the server")
                elif isinstance(now_item, Skipped):
                    log.warning("follow.kept", id=post_id, reason=now_item.reason)
                else:
                    self._file(now_item, "settle")
                    if now_item.id != post_id:
                        # The lookup answered with another id: the same post, renamed (an
                        # edit on some servers). The new copy replaces the old one.
                        self._delete(post_id, reason=f"the server now calls it {now_item.id}")
        except (ShutdownRequested, PlatformError) as exc:
            reason = exc.reason if isinstance(exc, PlatformError) else "shutdown"
            log.warning("follow.unsettled", reason=reason)
            return
        self.archive.set_cursor(self.settled_name, "done", now=self.clock.now())
        log.info("follow.settled", looked_up=checked, gone=gone)
