"""The follower's rules, against a scripted platform that records what it is asked: bad
stream events and hostile statuses are skipped with a log line while capture goes on, a
lost stream is reconnected and the gap read from the cursor, a refused stream means
polling, and the window bounds it all."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from structlog.testing import capture_logs

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.commands_sql import HostCommandsSql
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import Occurrence, PlannedPost, PostKind
from bot.core.config import Follow
from bot.core.model import ArchivedPost
from bot.core.steering import HostCommand
from bot.ports.errors import NoStreaming, PermanentError, TransientError
from bot.ports.following import (
    BadEvent,
    DeleteEvent,
    Fetched,
    PostEvent,
    Skipped,
    StreamEvent,
    TagPage,
)
from bot.runtime.follow_window import follow_window
from bot.runtime.follower import Follower
from bot.runtime.logs import get_logger
from bot.runtime.steering import Steering
from tests.support.posts import person, post

ALICE = person("alice")
SPEED = 4


def fresh(post_id: str, text: str = "") -> Fetched:
    """A post created now, as the platform would hand it over."""
    return replace(
        post(post_id, ALICE, 0, text or f"A1 post {post_id}"),
        occurrence="",
        created_at=datetime.now(UTC),
    )


class ScriptedStream:
    def __init__(self, events: list[StreamEvent], *, then_lose: bool) -> None:
        self.script = events
        self._then_lose = then_lose
        self._closed = threading.Event()

    def events(self) -> Iterator[StreamEvent]:
        for event in self.script:
            time.sleep(0.02)
            yield event
        if self._then_lose:
            raise TransientError("stream lost: the test cut it")
        self._closed.wait(30)

    def close(self) -> None:
        self._closed.set()


class ScriptedSource:
    """Streams and timeline pages given in advance; every request recorded."""

    name = "mastodon"

    def __init__(self, streams: list[ScriptedStream | Exception], pages: list[TagPage]) -> None:
        self.streams = streams
        self.pages = pages
        self.timeline_calls: list[tuple[str | None, str | None]] = []
        self.stream_calls = 0
        # What the server still holds, for the settling pass's look-ups.
        scripted = [e for s in streams if isinstance(s, ScriptedStream) for e in s.script]
        self.alive = {
            item.id: item
            for item in [*(i for page in pages for i in page.items)]
            + [e.item for e in scripted if isinstance(e, PostEvent)]
            if isinstance(item, ArchivedPost)
        }
        for event in scripted:
            if isinstance(event, DeleteEvent):
                self.alive.pop(event.id, None)

    def tag_page(
        self, tag: str, *, newer_than: str | None = None, older_than: str | None = None
    ) -> TagPage:
        self.timeline_calls.append((newer_than, older_than))
        if self.pages:
            return self.pages.pop(0)
        return TagPage([], newer=newer_than, older=None, full=False)

    def replies(self, post_id: str) -> list[Fetched]:
        return []

    def fetch(self, post_id: str) -> Fetched | None:
        return self.alive.get(post_id)

    def open_stream(self, tag: str) -> ScriptedStream:
        self.stream_calls += 1
        if not self.streams:
            return ScriptedStream([], then_lose=False)
        stream = self.streams.pop(0)
        if isinstance(stream, Exception):
            raise stream
        return stream


class FastClock:
    """Real time, ``speed`` times faster: intervals and backoffs pass quickly."""

    def __init__(self, speed: float) -> None:
        self._origin = datetime.now(UTC)
        self._started = time.monotonic()
        self._speed = speed

    def now(self) -> datetime:
        return self._origin + timedelta(seconds=(time.monotonic() - self._started) * self._speed)


def follow(
    source: ScriptedSource, *, seconds: float, poll: float = 3, speed: float = SPEED
) -> tuple[SqlArchive, list[dict[str, Any]], str]:
    store = SqlStore.from_url("sqlite://")
    archive = SqlArchive(store.engine)
    # The follower waits at most 0.5 s of real time between looks at its timers.
    clock = FastClock(speed)
    now = clock.now()
    occurrence = Occurrence("unit", "2026-12-02", now, now + timedelta(seconds=seconds))
    follower = Follower(
        source=source,
        archive=archive,
        ledger=store,
        clock=clock,
        stop_event=threading.Event(),
        tag="UnitChat",
        settings=Follow(margin=timedelta(seconds=1), poll_interval=timedelta(seconds=poll)),
        after_end=timedelta(0),
        log=get_logger(),
    )
    with capture_logs() as logs:
        follower.run(occurrence, [])
    # The event dicts structlog builds: plain dicts, whatever capture_logs declares.
    return archive, cast("list[dict[str, Any]]", logs), occurrence.id


def events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [line for line in logs if line["event"] == name]


def test_bad_events_and_hostile_statuses_are_logged_and_skipped_while_capture_goes_on() -> None:
    first_page = TagPage([fresh("1")], newer="1", older=None, full=False)
    stream = ScriptedStream(
        [
            BadEvent("an update event that is not JSON"),
            PostEvent(
                Skipped("2", "too large (90000 characters of content)", expected=False), False
            ),
            PostEvent(Skipped(None, "malformed: no usable id", expected=False), False),
            PostEvent(Skipped("3", "not public (unlisted)"), False),
            PostEvent(fresh("4", "A1 still captured"), False),
            DeleteEvent("1"),
        ],
        then_lose=False,
    )
    source = ScriptedSource([stream], [first_page])
    archive, logs, occurrence = follow(source, seconds=1.5)

    assert [p.text for p in archive.posts(occurrence)] == ["A1 still captured"]
    skipped = [(line["reason"], line["log_level"]) for line in events(logs, "capture.skipped")]
    assert skipped == [
        ("an update event that is not JSON", "warning"),
        ("too large (90000 characters of content)", "warning"),
        ("malformed: no usable id", "warning"),
        ("not public (unlisted)", "debug"),
    ]
    assert [line["id"] for line in events(logs, "capture.deleted")] == ["1"]
    again = fresh("1")
    assert isinstance(again, ArchivedPost)
    assert archive.save(again, now=datetime.now(UTC)) == "deleted"


def test_a_lost_stream_is_reconnected_and_the_gap_read_from_the_cursor() -> None:
    pages = [
        TagPage([fresh("10")], newer="10", older=None, full=False),  # the first read: newest
        TagPage([fresh("12"), fresh("11")], newer="12", older=None, full=False),  # the gap
    ]
    first = ScriptedStream([PostEvent(fresh("11"), False)], then_lose=True)
    source = ScriptedSource([first], pages)
    archive, logs, occurrence = follow(source, seconds=3)

    assert sorted(p.id for p in archive.posts(occurrence)) == ["10", "11", "12"]
    reconnects = events(logs, "follow.reconnect")
    assert [line["reason"] for line in reconnects] == ["stream lost: the test cut it"]
    assert 0.5 <= reconnects[0]["seconds"] <= 1.0  # the first backoff, with its jitter
    # With no cursor it read the newest page; after the reconnect, from the cursor up.
    assert source.timeline_calls[:2] == [(None, None), ("10", None)]
    assert archive.cursor(f"{occurrence}/mastodon/tag") == "12"


def test_a_refused_stream_means_polling_at_the_interval() -> None:
    refused = PermanentError("streaming refused: HTTP 404 Not Found")
    source = ScriptedSource([refused], [TagPage([fresh("20")], newer="20", older=None, full=False)])
    archive, logs, occurrence = follow(source, seconds=7.5, poll=3, speed=2)

    assert [p.id for p in archive.posts(occurrence)] == ["20"]
    assert [line["reason"] for line in events(logs, "follow.polling")] == [refused.reason]
    assert source.stream_calls == 1  # asked again only minutes later
    # At once, then from the cursor every 3 s of the 7.5 s; then the settling pass.
    assert source.timeline_calls == [(None, None), ("20", None), ("20", None), (None, None)]


def test_a_server_without_any_stream_is_polled_for_the_whole_window_not_asked_again() -> None:
    """Issue 11: the kind is decided once per run; a refusal is asked again minutes later,
    a server with no stream at all never."""
    none = NoStreaming("streaming refused: HTTP 404; WebSocket streaming refused: HTTP 404")
    source = ScriptedSource([none], [TagPage([fresh("30")], newer="30", older=None, full=False)])
    archive, logs, occurrence = follow(source, seconds=12 * 60, poll=60, speed=400)

    assert [p.id for p in archive.posts(occurrence)] == ["30"]
    assert source.stream_calls == 1  # a PermanentError would be asked again at 5 and 10 min
    assert [line["reason"] for line in events(logs, "follow.polling")] == [none.reason]


def test_the_window_opens_before_the_intro_and_closes_after_the_wrapup_delay() -> None:
    start = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
    occurrence = Occurrence("hexichat", "2026-12-02", start, start + timedelta(hours=1))
    slots: list[tuple[str, PostKind, timedelta]] = [
        ("reminder-1h", "reminder", timedelta(hours=-1)),
        ("intro", "intro", timedelta(minutes=2)),
        ("closing", "closing", timedelta(minutes=65)),
    ]
    agenda = [
        PlannedPost(
            key=f"hexichat/2026-12-02/{slot}/mastodon",
            occurrence=occurrence.id,
            slot=slot,
            kind=kind,
            number=None,
            platform="mastodon",
            at=start + offset,
            text="t",
        )
        for slot, kind, offset in slots
    ]
    window = follow_window(
        occurrence, agenda, margin=timedelta(minutes=10), after=timedelta(minutes=15)
    )
    assert window.start == start - timedelta(minutes=8)  # the reminder is not the chat
    # A closing after the end counts; the settling pass gets a minute before the wrap-up.
    assert window.end == start + timedelta(minutes=79)


class LateSource(ScriptedSource):
    """Polling only; the hashtag shows one post, made once the chat's planned end has passed."""

    def __init__(self, clock: FastClock, after: datetime) -> None:
        super().__init__([PermanentError("streaming refused: HTTP 404 Not Found")], [])
        self._clock = clock
        self._after = after

    def tag_page(
        self, tag: str, *, newer_than: str | None = None, older_than: str | None = None
    ) -> TagPage:
        self.timeline_calls.append((newer_than, older_than))
        now = self._clock.now()
        if now <= self._after or newer_than == "late":
            return TagPage([], newer=newer_than, older=None, full=False)
        made = fresh("late", "A3 made after the planned end")
        assert isinstance(made, ArchivedPost)
        late = replace(made, created_at=now)
        self.alive["late"] = late
        return TagPage([late], newer="late", older=None, full=False)


def test_a_shift_keeps_the_capture_open_until_the_steered_end() -> None:
    store = SqlStore.from_url("sqlite://")
    archive = SqlArchive(store.engine)
    clock = FastClock(SPEED)
    now = clock.now()
    occurrence = Occurrence("unit", "2026-12-02", now, now + timedelta(seconds=2))
    closing = PlannedPost(
        key="unit/2026-12-02/closing/mastodon",
        occurrence=occurrence.id,
        slot="closing",
        kind="closing",
        number=None,
        platform="mastodon",
        at=occurrence.end,
        text="thanks",
    )
    steering = Steering(HostCommandsSql(store.engine))
    steering.begin(occurrence, [closing])
    # The hosts moved the rest of the chat 8 seconds later (in the chat's clock).
    shift = HostCommand(1, occurrence.id, "shift", "Ana", now, "done", minutes=8 / 60)
    steering.applied(replace(shift, done_at=now))
    source = LateSource(clock, after=occurrence.end + timedelta(seconds=0.5))
    follower = Follower(
        source=source,
        archive=archive,
        ledger=store,
        clock=clock,
        stop_event=threading.Event(),
        tag="UnitChat",
        settings=Follow(margin=timedelta(seconds=1), poll_interval=timedelta(seconds=3)),
        after_end=timedelta(0),
        log=get_logger(),
        end_delay=steering.delay,
    )
    with capture_logs() as logs:
        follower.run(occurrence, [closing])

    assert [p.text for p in archive.posts(occurrence.id)] == ["A3 made after the planned end"]
    (end,) = events(cast("list[dict[str, Any]]", logs), "follow.end")
    assert clock.now() >= occurrence.end + timedelta(seconds=8)
    assert end["new"] == 1
