"""The slices the Bluesky reads are cut in: they never overlap, and a stored cursor of any
form reads back as a slice or not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.adapters.bluesky_slices import Slice, notification_time, sort_time

T0 = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)


def test_a_slice_is_cut_behind_the_present_and_the_next_one_starts_where_it_ends() -> None:
    first = Slice(T0).cut(T0 + timedelta(seconds=30), timedelta(seconds=10))
    assert (first.since, first.until) == (T0, T0 + timedelta(seconds=20))
    second = first.after().cut(T0 + timedelta(seconds=36), timedelta(seconds=10))
    assert (second.since, second.until) == (T0 + timedelta(seconds=20), T0 + timedelta(seconds=26))
    # A moment on the boundary belongs to exactly one of them.
    edge = T0 + timedelta(seconds=20)
    assert [first.holds(edge), second.holds(edge)] == [False, True]


def test_a_slice_cut_already_keeps_its_end_and_page() -> None:
    carried = Slice(T0, T0 + timedelta(seconds=5), "page-2")
    assert carried.cut(T0 + timedelta(hours=1), timedelta(seconds=10)) == carried
    assert Slice.decode(carried.encode()) == carried


def test_a_present_earlier_than_the_slice_start_gives_an_empty_slice() -> None:
    # A clock set back: the slice stays empty rather than reaching back.
    empty = Slice(T0).cut(T0 - timedelta(minutes=1), timedelta(seconds=10))
    assert (empty.since, empty.until) == (T0, T0)
    assert not empty.holds(T0)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        # The earlier cursor form, a mark: read on from its time.
        ("2026-12-02T19:00:00+00:00|did:plc:abc/3k2", Slice(T0)),
        ("2026-12-02T19:00:00+00:00||", Slice(T0)),
        # An end before the start is not a slice: read on from the start.
        ("2026-12-02T19:00:00+00:00|2026-12-02T18:00:00+00:00|p", Slice(T0)),
        # A page cursor no server hands out is dropped, the bounds kept.
        (
            "2026-12-02T19:00:00+00:00|2026-12-02T19:00:05+00:00|" + "x" * 600,
            Slice(T0, T0 + timedelta(seconds=5)),
        ),
        ("not a time|", None),
        ("", None),
    ],
)
def test_a_stored_cursor_reads_back_as_a_slice_or_not_at_all(
    stored: str, expected: Slice | None
) -> None:
    assert Slice.decode(stored) == expected


def test_a_post_sorts_at_its_creation_unless_it_claims_to_be_newer_than_its_indexing() -> None:
    made = "2026-12-02T19:00:00.000Z"
    indexed = "2026-12-02T19:00:01.000Z"
    assert sort_time({"record": {"createdAt": made}, "indexedAt": indexed}) == T0
    future = "2026-12-03T19:00:00.000Z"
    assert sort_time({"record": {"createdAt": future}, "indexedAt": made}) == T0
    assert sort_time({"record": {"createdAt": "yesterday"}, "indexedAt": made}) is None
    assert sort_time({"record": "not a record"}) is None
    assert notification_time({"indexedAt": made}) == T0
    assert notification_time({"indexedAt": 12}) is None
