"""The archive in the store's database (SQLite and PostgreSQL): once per platform id,
edits replace, stale copies lose, deletions are final, cursors persist."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.store_sql import SqlStore
from tests.support.posts import BOT, OCCURRENCE, START, person, post

NOW = START + timedelta(hours=1)
ALICE = person("alice")


def test_a_post_is_stored_once_and_read_back_whole(store: SqlStore) -> None:
    archive = SqlArchive(store.engine)
    original = replace(
        post("110", ALICE, 6, "A1 surveys", question=1, reply_to="100", replies=2),
        rule="prefix",
        edited_at=None,
    )
    assert archive.save(original, now=NOW) == "new"
    assert archive.save(original, now=NOW) == "unchanged"
    assert archive.get("mastodon", "110") == original
    assert archive.get("x", "110") is None  # ids are unique per platform only


def test_an_edit_replaces_the_text_and_an_older_copy_cannot_undo_it(store: SqlStore) -> None:
    archive = SqlArchive(store.engine)
    first = post("110", ALICE, 6, "A1 survys")
    edited = replace(first, text="A1 surveys", html="<p>A1 surveys</p>", edited_at=NOW)
    archive.save(first, now=NOW)
    assert archive.save(edited, now=NOW) == "edited"
    assert archive.save(first, now=NOW) == "stale"
    assert archive.save(replace(edited, favourites=3), now=NOW) == "updated"
    stored = archive.get("mastodon", "110")
    assert stored is not None
    assert (stored.text, stored.edited_at, stored.favourites) == ("A1 surveys", NOW, 3)


def test_a_deleted_post_is_gone_for_good(store: SqlStore) -> None:
    archive = SqlArchive(store.engine)
    doomed = post("120", ALICE, 7)
    archive.save(doomed, now=NOW)
    assert archive.delete("mastodon", "120", occurrence=OCCURRENCE, now=NOW)
    assert archive.get("mastodon", "120") is None
    assert archive.save(doomed, now=NOW) == "deleted"
    assert archive.posts(OCCURRENCE) == []
    assert not archive.delete("mastodon", "120", occurrence=OCCURRENCE, now=NOW)


def test_posts_of_an_occurrence_come_in_time_order(store: SqlStore) -> None:
    archive = SqlArchive(store.engine)
    late, early, other = post("9", ALICE, 9), post("10", BOT, 1, own=True), post("11", ALICE, 2)
    for item in (late, early, replace(other, occurrence="hexichat/2026-12-09")):
        archive.save(item, now=NOW)
    assert [p.id for p in archive.posts(OCCURRENCE)] == ["10", "9"]
    assert archive.ids(OCCURRENCE, "mastodon") == {"9", "10"}
    assert archive.ids(OCCURRENCE, "x") == set()


def test_the_first_occurrence_to_capture_a_post_keeps_it(store: SqlStore) -> None:
    archive = SqlArchive(store.engine)
    archive.save(post("12", ALICE, 3), now=NOW)
    moved = replace(post("12", ALICE, 3, favourites=1), occurrence="hexichat/2026-12-09")
    assert archive.save(moved, now=NOW) == "updated"
    assert [p.favourites for p in archive.posts(OCCURRENCE)] == [1]


def test_cursors_are_kept_and_moved(store: SqlStore) -> None:
    archive = SqlArchive(store.engine)
    name = f"{OCCURRENCE}/mastodon/tag"
    assert archive.cursor(name) is None
    archive.set_cursor(name, "10", now=NOW)
    archive.set_cursor(name, "abc-opaque", now=NOW)
    assert archive.cursor(name) == "abc-opaque"
