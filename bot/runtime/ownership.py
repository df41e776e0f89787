"""Ownership at run time: wait to own an occurrence, keep leases and the heartbeat fresh,
and tell a chat to stop acting the moment its lease is lost or the process is stopping.

Every worker tries to own every occurrence it runs; the one that gets the lease acts, the
others stand by and poll. The ledger, not the lease, is what makes a post happen once: the
lease only keeps two workers from doing the same work, and lets one take over from another.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from bot.ports.clock import Clock
from bot.ports.operations import Heartbeat, Ownership

# A dead worker's lease lapses at most TTL after its last renewal, and a standby polls every
# TTL/4: another worker takes over within 12.5 s with the default, inside the 15 s promised.
DEFAULT_LEASE_TTL = timedelta(seconds=10)
# How often the keeper passes a stop request on to the chats (as often as the runner looks).
_TICK_SECONDS = 0.2


class OwnershipKeeper:
    def __init__(
        self,
        *,
        ownership: Ownership,
        heartbeat: Heartbeat,
        clock: Clock,
        stop_event: threading.Event,
        ttl: timedelta,
        log: Any,
    ) -> None:
        self.ownership = ownership
        self._heartbeat = heartbeat
        self._clock = clock
        self._stop = stop_event
        self._ttl = ttl
        # Four renewals per lease: three may fail before the hold lapses.
        self.interval = ttl / 4
        self._log = log.bind(worker=ownership.worker_id)
        # occurrence -> (the chat's "stop acting" event, when the lease was last renewed)
        self._held: dict[str, tuple[threading.Event, datetime]] = {}
        self._lock = threading.Lock()
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.renew()
        self._thread = threading.Thread(target=self._loop, name="ownership", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop renewing, hand every held occurrence back, and take the heartbeat away."""
        self._quit.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            held = list(self._held)
        for occurrence in held:
            self.let_go(occurrence)
        try:
            self._heartbeat.forget()
        except Exception as exc:  # the row ages out; health reports it stale
            self._log.warning("heartbeat.forget_failed", reason=str(exc))

    def _loop(self) -> None:
        interval = self.interval.total_seconds()
        waited = 0.0
        while not self._quit.wait(_TICK_SECONDS):
            if self._stop.is_set():
                self._stop_acting()
            waited += _TICK_SECONDS
            if waited >= interval:
                waited = 0.0
                self.renew()

    def _stop_acting(self) -> None:
        with self._lock:
            for acting, _renewed in self._held.values():
                acting.set()

    def renew(self) -> None:
        """One round: the heartbeat, then every held lease. A lease that another worker has
        taken, or that could not be renewed in time, is lost: its chat stops acting."""
        now = self._clock.now()
        try:
            self._heartbeat.beat(now=now)
        except Exception as exc:  # a database outage must not stop the keeper
            self._log.warning("heartbeat.failed", reason=str(exc))
        with self._lock:
            occurrences = list(self._held)
        for occurrence in occurrences:
            # Under the lock, so a lease is never renewed after its chat has let it go.
            with self._lock:
                if occurrence not in self._held:
                    continue
                acting, renewed_at = self._held[occurrence]
                try:
                    kept = self.ownership.acquire(occurrence, now=now)
                    reason = "another worker took the occurrence over"
                except Exception as exc:  # any failure to renew counts alike
                    # Out of reach: keep acting only while the lease surely outlives the
                    # next renewal; past that, another worker may already be in charge.
                    kept = now + self.interval < renewed_at + self._ttl
                    reason = f"the lease could not be renewed: {exc}"
                    self._log.warning(
                        "ownership.renew_failed", occurrence=occurrence, reason=reason
                    )
                    if kept:
                        continue
                if kept:
                    self._held[occurrence] = (acting, now)
                    continue
                del self._held[occurrence]
                acting.set()
            self._log.error("ownership.lost", occurrence=occurrence, reason=reason)

    def wait_to_own(self, occurrence: str, *, until: datetime, acting: threading.Event) -> bool:
        """Block until this worker owns ``occurrence`` (True), or the process stops or
        ``until`` passes (False). Once owned, ``acting`` is cleared, and set again when the
        lease is lost or the process stops: the chat must then stop acting."""
        standing_by = False
        while not self._stop.is_set():
            now = self._clock.now()
            if now >= until:
                return False
            with self._lock:
                try:
                    owned = self.ownership.acquire(occurrence, now=now)
                except Exception as exc:  # retried at the next poll
                    self._log.warning(
                        "ownership.unavailable", occurrence=occurrence, reason=str(exc)
                    )
                    owned = False
                if owned:
                    acting.clear()
                    self._held[occurrence] = (acting, now)
            if owned:
                if self._stop.is_set():
                    acting.set()
                self._log.info("ownership.acquired", occurrence=occurrence)
                return True
            if not standing_by:
                self._log.info(
                    "ownership.standby", occurrence=occurrence, reason="another worker owns it"
                )
                standing_by = True
            self._stop.wait(self.interval.total_seconds())
        return False

    def let_go(self, occurrence: str) -> None:
        """Hand the occurrence back so that another worker may take it over at once."""
        with self._lock:
            if self._held.pop(occurrence, None) is None:
                return  # lost already: it is not ours to release
            try:
                self.ownership.release(occurrence)
            except Exception as exc:  # the lease lapses by itself
                self._log.warning(
                    "ownership.release_failed", occurrence=occurrence, reason=str(exc)
                )
                return
        self._log.info("ownership.released", occurrence=occurrence)
