"""The hosts' console (issue 14): the commands it writes for the owning worker and the
health it shows."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.core.health import PlatformHealth
from bot.core.steering import CommandState, HostCommand


class HostCommands(Protocol):
    """The commands the console writes and the owning worker carries out."""

    def add(self, command: HostCommand) -> HostCommand:
        """Store a new, pending command; returns it with its id."""
        ...

    def commands(self, occurrence: str) -> list[HostCommand]:
        """The occurrence's commands, oldest first."""
        ...

    def finish(
        self,
        command_id: int,
        state: CommandState,
        *,
        now: datetime,
        reason: str | None = None,
        url: str | None = None,
    ) -> bool:
        """Settle a pending command; False if it was settled already (by another worker)."""
        ...


class HealthStore(Protocol):
    """The worker's health per occurrence and platform, for the console to show."""

    def save_health(self, health: PlatformHealth) -> None: ...

    def health(self, occurrence: str) -> list[PlatformHealth]: ...
