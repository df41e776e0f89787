"""The follower's health facts, written to the store for the hosts' console: a change of
mode or a rate-limit wait at once, errors at most every ``every`` (a burst is one write)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.health import CaptureMode, PlatformHealth
from bot.ports.clock import Clock
from bot.ports.console import HealthStore

# Often enough for a host watching the page; rarely enough that a storm of errors costs
# the store nothing.
EVERY = timedelta(seconds=3)


class HealthRecorder:
    """One occurrence on one platform (without a store: nothing is written). Not
    thread-safe: the capture loop owns it."""

    def __init__(
        self,
        store: HealthStore | None,
        clock: Clock,
        *,
        occurrence: str,
        platform: str,
        every: timedelta = EVERY,
    ) -> None:
        self._store = store
        self._clock = clock
        self._every = every
        self._health = PlatformHealth(occurrence, platform, clock.now())
        self._written: datetime | None = None
        self._dirty = False

    def mode(self, mode: CaptureMode, reason: str | None = None) -> None:
        if mode == self._health.mode and reason == self._health.mode_reason:
            return
        now = self._clock.now()
        self._health = replace(self._health, mode=mode, mode_reason=reason, mode_since=now)
        self._write(now)  # a switch is what a host looks for: at once

    def rate_limited(self, until: datetime, reason: str) -> None:
        h = self._health
        self._health = replace(
            h,
            rate_limited_until=until,
            rate_limit_reason=reason,
            rate_limit_waits=h.rate_limit_waits + 1,
        )
        # At once: a wait blocks the reads until its end, so it cannot come in bursts.
        self._write(self._clock.now())

    def error(self, reason: str) -> None:
        now = self._clock.now()
        h = self._health
        self._health = replace(h, errors=h.errors + 1, last_error=reason, last_error_at=now)
        self._dirty = True
        self.flush()

    def flush(self) -> None:
        """Write what changed, if the last write is old enough (called on each loop too)."""
        now = self._clock.now()
        if self._dirty and (self._written is None or now - self._written >= self._every):
            self._write(now)

    def _write(self, now: datetime) -> None:
        self._health = replace(self._health, updated_at=now)
        if self._store is not None:
            self._store.save_health(self._health)
        self._written = now
        self._dirty = False
