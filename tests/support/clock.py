"""Time that moves only when a test says so."""

from __future__ import annotations

from datetime import datetime, timedelta


class ManualClock:
    """A Clock for the bot (``now()``) and a clock callable for the fakes (``clock()``)."""

    def __init__(self, now: datetime) -> None:
        self.time = now

    def now(self) -> datetime:
        return self.time

    def __call__(self) -> datetime:
        return self.time

    def advance(self, **delta: float) -> None:
        self.time += timedelta(**delta)
