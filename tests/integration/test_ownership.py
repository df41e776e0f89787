"""Ownership of chat occurrences, on SQLite and PostgreSQL: one worker at a time, a takeover
once a lease lapses, and a worker that loses its lease stops acting. Time is injected."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from structlog.testing import capture_logs

from bot.adapters.leases_sql import SqlHeartbeat, SqlLeases, gone_from_this_host, last_beat
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import PlannedPost
from bot.ports.posting import Published
from bot.runtime.ownership import DEFAULT_LEASE_TTL, OwnershipKeeper
from bot.runtime.publisher import PostPublisher
from tests.support.clock import ManualClock

T0 = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
OCC = "hexichat/2026-12-02"
TTL = DEFAULT_LEASE_TTL


class RecordingPlatform:
    """Keeps what it is asked to post."""

    name = "mastodon"

    def __init__(self) -> None:
        self.posted: list[str] = []

    def max_characters(self) -> int:
        return 500

    def post(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        self.posted.append(text)
        return Published(str(len(self.posted)), f"https://example.social/{len(self.posted)}", T0)

    def find_own_post(self, text: str, *, since: datetime) -> Published | None:
        return None


def leases(store: SqlStore, worker: str) -> SqlLeases:
    return SqlLeases(store.engine, worker_id=worker, ttl=TTL)


def keeper(
    store: SqlStore, worker: str, clock: ManualClock, stop: threading.Event | None = None
) -> OwnershipKeeper:
    return OwnershipKeeper(
        ownership=leases(store, worker),
        heartbeat=SqlHeartbeat(store.engine, worker_id=worker, host="host-a", pid=1),
        clock=clock,
        stop_event=stop or threading.Event(),
        ttl=TTL,
        log=structlog.get_logger(),
    )


def test_one_worker_owns_an_occurrence_until_its_lease_lapses(store: SqlStore) -> None:
    a, b = leases(store, "a"), leases(store, "b")
    assert a.acquire(OCC, now=T0)
    assert not b.acquire(OCC, now=T0 + TTL - timedelta(seconds=1))
    assert a.owns(OCC, now=T0 + TTL - timedelta(seconds=1))

    assert b.acquire(OCC, now=T0 + TTL)
    assert b.owns(OCC, now=T0 + TTL)
    assert not a.owns(OCC, now=T0 + TTL)
    assert not a.acquire(OCC, now=T0 + TTL + timedelta(seconds=1))


def test_renewing_keeps_the_occurrence_and_releasing_hands_it_over_at_once(
    store: SqlStore,
) -> None:
    a, b = leases(store, "a"), leases(store, "b")
    assert a.acquire(OCC, now=T0)
    assert a.acquire(OCC, now=T0 + TTL / 2)  # a renewal
    assert not b.acquire(OCC, now=T0 + TTL)
    a.release(OCC)
    assert b.acquire(OCC, now=T0 + TTL)
    b.release(OCC)
    b.release(OCC)  # twice is harmless
    a.release(OCC)  # and so is releasing what another worker holds
    assert a.acquire(OCC, now=T0 + TTL)


def test_workers_racing_for_an_occurrence_get_one_owner(database_url: str) -> None:
    stores = [SqlStore.from_url(database_url) for _ in range(6)]
    start = threading.Barrier(len(stores))
    owners: list[str] = []

    def race(n: int, store: SqlStore) -> None:
        start.wait()
        if leases(store, f"w{n}").acquire(OCC, now=T0):
            owners.append(f"w{n}")

    threads = [threading.Thread(target=race, args=(n, s)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(owners) == 1
    assert leases(stores[0], owners[0]).owns(OCC, now=T0)
    for s in stores:
        s.close()


def test_a_dead_workers_occurrence_is_taken_over_within_15_seconds(store: SqlStore) -> None:
    clock = ManualClock(T0)
    owner = keeper(store, "a", clock)
    standby = keeper(store, "b", clock)
    assert owner.wait_to_own(OCC, until=T0 + timedelta(hours=1), acting=threading.Event())
    owner.renew()  # its last renewal: it dies just after

    # The standby polls every renewal interval; the first poll after the lease lapses wins.
    polls = [owner.interval * n for n in range(1, 13)]
    taken = next(p for p in polls if standby.ownership.acquire(OCC, now=T0 + p))
    assert taken <= timedelta(seconds=15)
    assert taken == TTL  # the lease lapses TTL after the last renewal


def test_a_worker_whose_lease_was_taken_over_stops_acting(store: SqlStore) -> None:
    clock = ManualClock(T0)
    owner = keeper(store, "a", clock)
    acting = threading.Event()
    assert owner.wait_to_own(OCC, until=T0 + timedelta(hours=1), acting=acting)
    assert not acting.is_set()

    clock.time = T0 + TTL  # the owner stalled past its lease, and another worker took over
    assert leases(store, "b").acquire(OCC, now=clock.time)
    with capture_logs() as logs:
        owner.renew()

    assert acting.is_set()
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["ownership.lost"]


def test_a_worker_that_lost_its_lease_posts_nothing(store: SqlStore) -> None:
    clock = ManualClock(T0)
    platform = RecordingPlatform()
    publisher = PostPublisher(
        ledger=store,
        platforms={"mastodon": platform},
        clock=clock,
        grace=timedelta(minutes=5),
        stop_event=threading.Event(),
        log=structlog.get_logger(),
        ownership=leases(store, "a"),
    )
    post = PlannedPost(
        key=f"{OCC}/q1/mastodon",
        occurrence=OCC,
        slot="q1",
        kind="question",
        number=1,
        platform="mastodon",
        at=T0,
        text="Q1: How do you gather feedback? #HEXIchat",
    )
    assert leases(store, "a").acquire(OCC, now=T0 - TTL)  # lapsed at T0
    assert leases(store, "b").acquire(OCC, now=T0)

    assert publisher.publish(post) == "taken"
    assert platform.posted == []
    assert store.get(post.key) is None


class UnreachableLeases:
    """A lease store whose database has gone away after the first acquire."""

    worker_id = "a"

    def __init__(self) -> None:
        self.reachable = True

    def acquire(self, occurrence: str, *, now: datetime) -> bool:
        if not self.reachable:
            raise ConnectionError("server closed the connection unexpectedly")
        return True

    def owns(self, occurrence: str, *, now: datetime) -> bool:
        return self.acquire(occurrence, now=now)

    def release(self, occurrence: str) -> None:
        self.acquire(occurrence, now=T0)


class NoHeartbeat:
    def beat(self, *, now: datetime) -> None:
        pass

    def forget(self) -> None:
        pass


def test_a_worker_cut_off_from_the_database_stops_acting_before_its_lease_lapses() -> None:
    clock = ManualClock(T0)
    ownership = UnreachableLeases()
    cut_off = OwnershipKeeper(
        ownership=ownership,
        heartbeat=NoHeartbeat(),
        clock=clock,
        stop_event=threading.Event(),
        ttl=TTL,
        log=structlog.get_logger(),
    )
    acting = threading.Event()
    assert cut_off.wait_to_own(OCC, until=T0 + timedelta(hours=1), acting=acting)
    ownership.reachable = False

    renewals = []
    while not acting.is_set():
        clock.time += cut_off.interval
        cut_off.renew()
        renewals.append(clock.time)
    # It stopped while its lease was still live: no other worker can be acting yet.
    assert renewals[-1] < T0 + TTL
    assert renewals[-1] + cut_off.interval >= T0 + TTL


def test_a_stop_request_reaches_every_owned_chat(store: SqlStore) -> None:
    stop = threading.Event()
    running = keeper(store, "a", ManualClock(T0), stop)
    acting = threading.Event()
    assert running.wait_to_own(OCC, until=T0 + timedelta(hours=1), acting=acting)
    running.start()
    try:
        stop.set()
        assert acting.wait(timeout=2)
    finally:
        running.close()
    # Closing handed the occurrence back and took the heartbeat away.
    assert leases(store, "b").acquire(OCC, now=T0)
    assert last_beat(store.engine, host="host-a") is None


def test_a_standby_worker_gives_up_when_the_occurrence_is_over(store: SqlStore) -> None:
    clock = ManualClock(T0)
    assert leases(store, "a").acquire(OCC, now=T0)
    with capture_logs() as logs:
        owned = keeper(store, "b", clock).wait_to_own(OCC, until=T0, acting=threading.Event())
    assert not owned
    assert logs == []


def test_the_freshest_heartbeat_of_a_host_is_read_back(store: SqlStore) -> None:
    a = SqlHeartbeat(store.engine, worker_id="host-a:10", host="host-a", pid=10)
    b = SqlHeartbeat(store.engine, worker_id="host-b:20", host="host-b", pid=20)
    a.beat(now=T0)
    b.beat(now=T0 + timedelta(seconds=5))
    a.beat(now=T0 + timedelta(seconds=3))

    beat_a = last_beat(store.engine, host="host-a")
    assert beat_a is not None
    assert (beat_a.worker_id, beat_a.beat_at) == ("host-a:10", T0 + timedelta(seconds=3))
    anywhere = last_beat(store.engine, host=None)
    assert anywhere is not None
    assert anywhere.worker_id == "host-b:20"
    b.forget()
    assert last_beat(store.engine, host="host-b") is None


def test_a_worker_restarted_on_the_same_host_takes_over_from_its_crashed_predecessor_at_once(
    store: SqlStore,
) -> None:
    crashed = subprocess.Popen([sys.executable, "-c", "pass"])
    crashed.wait()
    predecessor = f"{socket.gethostname()}:{crashed.pid}"
    assert leases(store, predecessor).acquire(OCC, now=T0)
    restarted = SqlLeases(
        store.engine,
        worker_id=f"{socket.gethostname()}:{os.getpid()}",
        ttl=TTL,
        holder_gone=gone_from_this_host,
    )

    assert restarted.acquire(OCC, now=T0 + timedelta(seconds=1))
    assert restarted.owns(OCC, now=T0 + timedelta(seconds=1))


@pytest.mark.parametrize(
    "holder",
    [f"{socket.gethostname()}:{os.getpid()}", "another-host:4242", "a-named-worker"],
    ids=["alive-here", "on-another-host", "not-host-pid"],
)
def test_a_holder_that_may_be_alive_is_waited_out(store: SqlStore, holder: str) -> None:
    assert leases(store, holder).acquire(OCC, now=T0)
    standby = SqlLeases(
        store.engine, worker_id="standby:1", ttl=TTL, holder_gone=gone_from_this_host
    )
    assert not standby.acquire(OCC, now=T0 + timedelta(seconds=1))
