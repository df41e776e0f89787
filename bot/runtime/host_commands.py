"""Carries out the hosts' commands from the console, in the worker that owns the occurrence.

The console only writes a row; this task reads the pending ones, checks each against the
moment (a question gone out cannot be edited any more), acts, and settles the row once (a
conditional update). It holds the task's loop, the steering of the agenda (pause, end,
edits...) and the hosts' own posts; the boosts (boost, un-boost, skip) are carried out by
``host_boosts``. Whatever acts on a platform goes through the ledger under a stable key: a
host's post under ``<occurrence>/host-<id>/<platform>``, through the publisher, which recovers
a post left claimed by a crash instead of posting it again.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.durations import format_duration
from bot.core.steering import (
    ENDED_EARLY,
    PAUSE_LIMIT_BY,
    STEERING_KINDS,
    HostCommand,
    refusal,
)
from bot.core.text import with_hashtag
from bot.ports.clock import Clock
from bot.ports.console import HostCommands
from bot.ports.operations import Ownership
from bot.ports.posting import Ledger, PostingPlatform
from bot.runtime.host_boosts import HostBoosts
from bot.runtime.host_settle import CommandSettler
from bot.runtime.publisher import PostPublisher
from bot.runtime.retry import ShutdownRequested
from bot.runtime.steering import Steering

# How often the store is asked for new commands: well within the second a host waits.
POLL = timedelta(milliseconds=250)
# A pause the hosts never resume ends the chat after this long (``posts.max_pause``).
MAX_PAUSE = timedelta(hours=3)
# The posts a host's post may reply to, to land in the chat's thread.
_THREAD_KINDS = ("intro", "question", "closing")


class HostCommandTask:
    """Runs beside an occurrence's posts until its agenda (as steered) is over and
    ``linger`` has passed."""

    def __init__(
        self,
        *,
        hashtag: str,
        thread: bool,
        commands: HostCommands,
        steering: Steering,
        publisher: PostPublisher,
        boosts: HostBoosts,
        platforms: Mapping[str, PostingPlatform],
        ledger: Ledger,
        clock: Clock,
        stop_event: threading.Event,
        log: Any,
        linger: timedelta,
        ownership: Ownership | None = None,
        poll: timedelta = POLL,
        max_pause: timedelta = MAX_PAUSE,
    ) -> None:
        self._hashtag = hashtag
        self._thread = thread
        self._commands = commands
        self._steering = steering
        self._publisher = publisher
        self._boosts = boosts
        self._platforms = platforms
        self._ledger = ledger
        self._clock = clock
        self._stop = stop_event
        self._log = log
        self._linger = linger
        self._ownership = ownership
        self._poll = poll
        self._max_pause = max_pause
        self._settle = CommandSettler(commands, clock)

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        log = self._log.bind(occurrence=occurrence.id)
        while not self._stop.is_set():
            try:
                self.tick(occurrence)
            except ShutdownRequested:
                break
            except Exception:
                # A bug must not end the hosts' control for the rest of the chat.
                log.exception("console.command_error")
            if self._clock.now() >= self._end(occurrence):
                break
            self._stop.wait(self._poll.total_seconds())

    def _end(self, occurrence: Occurrence) -> datetime:
        _, steered = self._steering.current()
        if steered.paused:
            return datetime.max.replace(tzinfo=occurrence.end.tzinfo)
        return max([occurrence.end, *(p.at for p in steered.posts)]) + self._linger

    def tick(self, occurrence: Occurrence) -> None:
        commands = self._commands.commands(occurrence.id)
        ended = self._bound_pause(occurrence, commands)
        for command in [*commands, *([ended] if ended else [])]:
            if command.state != "pending":
                continue
            now = self._clock.now()
            if self._ownership is not None and not self._ownership.owns(occurrence.id, now=now):
                return  # the owner carries it out
            log = self._log.bind(
                occurrence=occurrence.id, command=command.id, kind=command.kind, by=command.by
            )
            if command.kind in STEERING_KINDS:
                self._steer(command, now, log)
            elif command.kind == "boost":
                self._boosts.boost(command, occurrence, log)
            elif command.kind == "skip":
                self._boosts.skip(command, log)
            elif command.kind == "unboost":
                self._boosts.unboost(command, log)
            elif command.kind == "host_post":
                self._host_post(command, log)

    # -- the agenda ------------------------------------------------------------------------

    def _bound_pause(
        self, occurrence: Occurrence, commands: Sequence[HostCommand]
    ) -> HostCommand | None:
        """A pause held past ``max_pause`` (the hosts left, or forgot) ends the chat as their
        "end" would: the bot asks for it as one more command, on the page with the reason, so
        the run and its wrap-up do not wait forever. The command asked for, if it was now."""
        _, steered = self._steering.current()
        now = self._clock.now()
        if steered.paused_since is None or now - steered.paused_since < self._max_pause:
            return None
        if any(c.kind == "end" and c.state == "pending" for c in commands):
            return None  # asked already: it is carried out next
        if self._ownership is not None and not self._ownership.owns(occurrence.id, now=now):
            return None
        by = f"{PAUSE_LIMIT_BY} ({format_duration(self._max_pause)})"
        command = self._commands.add(HostCommand(0, occurrence.id, "end", by, now))
        self._log.warning(
            "console.pause_expired",
            occurrence=occurrence.id,
            command=command.id,
            paused_since=steered.paused_since.isoformat(),
            max_pause=format_duration(self._max_pause),
        )
        return command

    def _steer(self, command: HostCommand, now: datetime, log: Any) -> None:
        _, steered = self._steering.current()
        reason = refusal(command, steered, now=now)
        if reason is None and command.kind == "edit":
            reason = self._edit_refusal(command, steered.posts + steered.held)
        if reason is not None:
            self._settle.refuse(command, reason, log)
            return
        if self._commands.finish(command.id, "done", now=now):
            self._steering.applied(replace(command, state="done", done_at=now))
            log.info("console.command_done", minutes=command.minutes, slot=command.slot)
        if command.kind == "end":
            # Also after a crash right after the row was settled: marking is idempotent.
            self._close_dropped(command, log)

    def _close_dropped(self, command: HostCommand, log: Any) -> None:
        """The questions an early end left out are final in the ledger: no worker posts
        them, whatever its scheduler still holds."""
        _, steered = self._steering.current()
        for post in steered.dropped:
            entry = self._ledger.get(post.key)
            if entry is None or entry.state == "failed":
                self._ledger.mark(
                    post.key,
                    "missed",
                    error=ENDED_EARLY,
                    now=self._clock.now(),
                    occurrence=post.occurrence,
                    platform=post.platform,
                    planned_at=post.at,
                )
                log.info("post.dropped", key=post.key, reason=ENDED_EARLY)

    def _edit_refusal(self, command: HostCommand, posts: Sequence[PlannedPost]) -> str | None:
        # Its time may not have come, yet it may be under way (brought forward by `next`).
        for post in posts:
            if post.slot == command.slot and self._ledger.get(post.key) is not None:
                return f"{command.slot} has gone out already"
        return None

    # -- the hosts' own posts --------------------------------------------------------------

    def _host_post(self, command: HostCommand, log: Any) -> None:
        names = [command.platform] if command.platform else list(self._platforms)
        _, steered = self._steering.current()
        urls = []
        for name in names:
            if name not in self._platforms:
                self._settle.refuse(command, f"the chat does not post on {name}", log)
                return
            post = self._host_planned(command, name, steered.posts)
            outcome = self._publisher.publish(post)
            if outcome in ("taken", "interrupted"):
                return  # another worker has it, or we are stopping: it stays pending
            entry = self._ledger.get(post.key)
            if outcome == "missed":
                self._settle.refuse(
                    command, "it came too late: the worker was away past the grace", log
                )
                return
            if entry is None or entry.state != "done":
                reason = entry.error if entry is not None else None
                self._settle.finish(command, "failed", log, reason=reason or "not posted")
                return
            urls.append(entry.url or "")
        self._settle.finish(command, "done", log, url=urls[0] if urls else None)

    def _host_planned(
        self, command: HostCommand, platform: str, posts: Sequence[PlannedPost]
    ) -> PlannedPost:
        now = self._clock.now()
        # Into the chat's thread: under the latest of its posts that went out (the
        # publisher takes the first of these that the ledger holds as done).
        thread = sorted(
            (
                p
                for p in posts
                if p.platform == platform and p.kind in _THREAD_KINDS and p.at <= now
            ),
            key=lambda p: p.at,
            reverse=True,
        )
        return PlannedPost(
            key=f"{command.occurrence}/host-{command.id}/{platform}",
            occurrence=command.occurrence,
            slot=f"host-{command.id}",
            kind="host",
            number=None,
            platform=platform,
            # Its moment is when the host asked: a worker back from far longer than the
            # grace refuses it rather than post it out of its context.
            at=command.created_at,
            text=with_hashtag(command.text or "", self._hashtag),
            replies_to=tuple(p.key for p in thread) if self._thread else (),
        )
