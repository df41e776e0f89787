"""The follower's health notes cost the store little: a switch of mode or a rate-limit wait
is written at once, a burst of errors at most once every few seconds, and what the store
holds is never behind for longer than that."""

from __future__ import annotations

from datetime import timedelta

from bot.adapters.console_sql import ConsoleReads
from bot.adapters.health_sql import HealthSql
from bot.adapters.store_sql import SqlStore
from bot.core.health import PlatformHealth
from bot.runtime.health import EVERY, HealthRecorder
from bot.runtime.logs import register_secret
from tests.support.clock import ManualClock
from tests.support.posts import START


def stored(health: HealthSql) -> PlatformHealth:
    (row,) = health.health("hexichat/2026-12-02")
    return row


def test_a_burst_is_one_write_and_a_switch_is_written_at_once() -> None:
    store = SqlStore.from_url("sqlite://")
    health = HealthSql(store.engine)
    clock = ManualClock(START)
    recorder = HealthRecorder(health, clock, occurrence="hexichat/2026-12-02", platform="mastodon")

    recorder.mode("stream")
    assert stored(health).mode == "stream"
    for n in range(20):
        clock.advance(milliseconds=100)
        recorder.error(f"HTTP 502 number {n}")
    assert stored(health).errors == 0  # the switch was written just now: the burst waits
    recorder.mode("polling", "stream lost: HTTP 502")
    shown = stored(health)
    assert (shown.mode, shown.mode_reason, shown.errors) == ("polling", "stream lost: HTTP 502", 20)
    clock.advance(seconds=EVERY.total_seconds())
    recorder.rate_limited(clock.now() + timedelta(minutes=5), "rate limited by the server")
    shown = stored(health)
    assert shown.rate_limit_waits == 1
    assert shown.rate_limited_until == START + timedelta(seconds=2) + EVERY + timedelta(minutes=5)
    clock.advance(seconds=1)
    recorder.error("HTTP 503")
    assert stored(health).errors == 20  # within EVERY of the last write
    clock.advance(seconds=EVERY.total_seconds())
    recorder.flush()
    assert (stored(health).errors, stored(health).last_error) == (21, "HTTP 503")
    store.close()


def test_a_secret_in_a_servers_reason_is_masked_in_the_store() -> None:
    register_secret("tok-health-5e1f9a")
    store = SqlStore.from_url("sqlite://")
    health = HealthSql(store.engine)
    recorder = HealthRecorder(
        health, ManualClock(START), occurrence="hexichat/2026-12-02", platform="mastodon"
    )
    recorder.mode("polling", "streaming refused: bad token tok-health-5e1f9a")
    assert stored(health).mode_reason == "streaming refused: bad token ***"
    store.close()


def test_a_health_note_changes_what_the_live_page_watches() -> None:
    store = SqlStore.from_url("sqlite://")
    reads = ConsoleReads(store.engine)
    clock = ManualClock(START)
    recorder = HealthRecorder(
        HealthSql(store.engine), clock, occurrence="hexichat/2026-12-02", platform="mastodon"
    )
    before = reads.fingerprint("hexichat/2026-12-02")
    recorder.mode("stream")
    after_stream = reads.fingerprint("hexichat/2026-12-02")
    clock.advance(seconds=1)
    recorder.mode("polling", "stream lost")
    assert len({before, after_stream, reads.fingerprint("hexichat/2026-12-02")}) == 3
    store.close()
