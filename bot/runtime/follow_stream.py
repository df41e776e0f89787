"""The follower's stream session: connecting (and reconnecting, with backoff), the stream's
own thread, and the events it hands over through the queue."""

from __future__ import annotations

import queue
import threading
from datetime import datetime, timedelta
from typing import Any

from bot.ports.errors import NoStreaming, PermanentError, PlatformError, TransientError
from bot.ports.following import BadEvent, DeleteEvent, EventStream, PostEvent
from bot.runtime.follow_filing import Filing
from bot.runtime.follow_state import Message, Stream

# Stream reconnects: jittered exponential backoff, reset once a connection has held a while.
RECONNECT_BASE = timedelta(seconds=1)
RECONNECT_CAP = timedelta(seconds=60)
STABLE_CONNECTION = timedelta(seconds=30)
# A server that refuses streaming is asked again this much later; it is polled meanwhile.
STREAM_REFUSED_RETRY = timedelta(minutes=5)
# The cursor follows the stream this far behind: a post the server numbered earlier but
# streamed a moment later is still read again after a reconnect.
CURSOR_OVERLAP = timedelta(seconds=5)


class StreamSession(Filing):
    """Follows the hashtag stream while it is up."""

    def connect(self, now: datetime) -> None:
        try:
            handle = self.source.open_stream(self.follower.tag)
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
        self.stream = Stream(handle, thread, generation, now)
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

    def disconnect(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.handle.close()
            stream.thread.join(timeout=2)

    def drain(self, timeout: float) -> None:
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

    def _handle(self, message: Message) -> None:
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
            self.file(item, "stream")
        elif isinstance(event, DeleteEvent):
            self.delete(event.id, reason="deleted by its author")
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
