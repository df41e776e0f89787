"""The running occurrence's agenda as the hosts steer it, shared between the runner, which
keeps the scheduler's jobs in step, and the task that carries the hosts' commands out."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.steering import HostCommand, Steered, steer
from bot.ports.console import HostCommands


class Steering:
    def __init__(self, commands: HostCommands, *, speed: float = 1.0) -> None:
        self._commands = commands
        self._speed = speed  # a rehearsal's: its shifts are in the chat's minutes
        self._lock = threading.Lock()
        self._agenda: tuple[PlannedPost, ...] = ()
        self._done: list[HostCommand] = []
        self._steered = Steered((), (), None)
        # Bumped at every change: the runner compares it on each tick, without a query.
        self.version = 0

    def begin(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> tuple[int, Steered]:
        """The occurrence's agenda with the commands done so far (before a restart too)."""
        done = [c for c in self._commands.commands(occurrence.id) if c.state == "done"]
        with self._lock:
            self._agenda = tuple(agenda)
            self._done = done
            return self._update()

    def current(self) -> tuple[int, Steered]:
        with self._lock:
            return self.version, self._steered

    def delay(self) -> timedelta | None:
        """How much later than planned the agenda now ends (earlier: negative, e.g. after an
        early end); None while it is paused."""
        with self._lock:
            steered, agenda = self._steered, self._agenda
        if steered.paused:
            return None
        if not agenda or not steered.posts:
            return timedelta(0)
        return max(p.at for p in steered.posts) - max(p.at for p in agenda)

    def applied(self, command: HostCommand) -> None:
        """A steering command was done (and stored as done)."""
        with self._lock:
            self._done.append(command)
            self._update()

    def _update(self) -> tuple[int, Steered]:
        self._steered = steer(self._agenda, self._done, speed=self._speed)
        self.version += 1
        return self.version, self._steered
