"""Settles a host's console command: its row closed once (a conditional update), and logged.

The one way the command task and its boosts close a command, so that a command another worker
settled first is neither settled nor logged twice.
"""

from __future__ import annotations

from typing import Any

from bot.core.steering import CommandState, HostCommand
from bot.ports.clock import Clock
from bot.ports.console import HostCommands


class CommandSettler:
    """Closes the hosts' commands in the store, with the reason and URL the console shows."""

    def __init__(self, commands: HostCommands, clock: Clock) -> None:
        self._commands = commands
        self._clock = clock

    def refuse(self, command: HostCommand, reason: str, log: Any) -> None:
        if self._commands.finish(command.id, "refused", now=self._clock.now(), reason=reason):
            log.info("console.command_refused", reason=reason)

    def finish(
        self,
        command: HostCommand,
        state: CommandState,
        log: Any,
        *,
        url: str | None = None,
        reason: str | None = None,
    ) -> None:
        if self._commands.finish(command.id, state, now=self._clock.now(), reason=reason, url=url):
            log.info(f"console.command_{state}", url=url, reason=reason)
