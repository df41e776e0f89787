"""The real clock (tests inject their own), and waiting on any clock until a moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from bot.ports.clock import Clock


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def wait_until(clock: Clock, stop: threading.Event, moment: datetime) -> bool:
    """Wait until ``moment`` on ``clock``; False if ``stop`` came first. Waits a second at
    most at a time: an injected clock may run faster than the wall's."""
    while not stop.is_set():
        remaining = (moment - clock.now()).total_seconds()
        if remaining <= 0:
            return True
        stop.wait(min(remaining, 1.0))
    return False
