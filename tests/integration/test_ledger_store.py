"""The ledger on a real database, SQLite and PostgreSQL alike: what is stored is what a
restarted or second worker reads back."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from bot.adapters.store_sql import SqlStore
from bot.ports.posting import LedgerState, Published

T0 = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
OCC = "hexichat/2026-12-02"


def claim(store: SqlStore, slot: str, *, at: datetime = T0, occurrence: str = OCC) -> bool:
    return store.claim(
        f"{occurrence}/{slot}/mastodon",
        occurrence=occurrence,
        platform="mastodon",
        planned_at=at,
        now=at,
    )


def test_a_key_is_claimed_once(store: SqlStore) -> None:
    assert claim(store, "q1")
    assert not claim(store, "q1")
    entry = store.get(f"{OCC}/q1/mastodon")
    assert entry is not None
    assert (entry.state, entry.planned_at, entry.claimed_at) == ("claimed", T0, T0)


def test_a_recorded_post_keeps_its_remote_id_url_and_time_in_utc(store: SqlStore) -> None:
    key = f"{OCC}/intro/mastodon"
    claim(store, "intro")
    created = datetime(2026, 12, 2, 20, 0, 1, 250000, tzinfo=UTC)
    store.record(key, Published("1099", "https://example.social/@bot/1099", created), now=T0)

    entry = store.get(key)
    assert entry is not None
    assert (entry.state, entry.remote_id, entry.url) == (
        "done",
        "1099",
        "https://example.social/@bot/1099",
    )
    assert entry.published_at == created
    assert entry.published_at is not None
    assert entry.published_at.utcoffset() == timedelta(0)


def mark(store: SqlStore, slot: str, state: LedgerState, error: str) -> None:
    store.mark(
        f"{OCC}/{slot}/mastodon",
        state,
        error=error,
        occurrence=OCC,
        platform="mastodon",
        planned_at=T0,
        now=T0,
    )


def test_missed_is_recorded_for_an_unclaimed_key_but_never_overwrites_done(
    store: SqlStore,
) -> None:
    mark(store, "q2", "missed", "10m late")
    claim(store, "q3")
    store.record(f"{OCC}/q3/mastodon", Published("7", "https://x/7"), now=T0)
    mark(store, "q3", "missed", "too late")

    q2, q3 = store.get(f"{OCC}/q2/mastodon"), store.get(f"{OCC}/q3/mastodon")
    assert q2 is not None
    assert (q2.state, q2.error) == ("missed", "10m late")
    assert q3 is not None
    assert (q3.state, q3.remote_id, q3.error) == ("done", "7", None)


def test_only_a_failed_key_can_be_claimed_again(store: SqlStore) -> None:
    key = f"{OCC}/q1/mastodon"
    claim(store, "q1")
    assert not store.reclaim(key, now=T0)
    mark(store, "q1", "failed", "the server refused")
    assert store.reclaim(key, now=T0 + timedelta(seconds=5))
    assert not store.reclaim(key, now=T0 + timedelta(seconds=6))
    entry = store.get(key)
    assert entry is not None
    assert (entry.state, entry.claimed_at) == ("claimed", T0 + timedelta(seconds=5))


def test_entries_are_an_occurrences_own_in_planned_order(store: SqlStore) -> None:
    claim(store, "q2", at=T0 + timedelta(minutes=13))
    claim(store, "intro", at=T0)
    claim(store, "q1", at=T0 + timedelta(minutes=5))
    claim(store, "intro", occurrence="hexichat/2026-12-09", at=T0 + timedelta(days=7))

    assert [e.key for e in store.entries(OCC)] == [
        f"{OCC}/intro/mastodon",
        f"{OCC}/q1/mastodon",
        f"{OCC}/q2/mastodon",
    ]


def test_workers_racing_for_one_key_get_it_exactly_once(database_url: str) -> None:
    # Separate stores: separate engines and connections, as separate processes would have.
    stores = [SqlStore.from_url(database_url) for _ in range(6)]
    start = threading.Barrier(len(stores))
    wins: list[bool] = []

    def race(store: SqlStore) -> None:
        start.wait()
        wins.append(claim(store, "q4"))

    threads = [threading.Thread(target=race, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for s in stores:
        s.close()
    assert sorted(wins) == [False] * 5 + [True]
