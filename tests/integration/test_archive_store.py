"""The archive in the store's database (SQLite and PostgreSQL): once per platform id,
edits replace, stale copies lose, deletions are final, cursors persist."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone

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


def test_the_same_post_under_a_new_id_replaces_the_old_copy(store: SqlStore) -> None:
    """Some servers give an edited post a new id; its address and author stay the same."""
    archive = SqlArchive(store.engine)
    address = "https://gts.example/@alice/statuses/01HZ"
    first = replace(post("01HZA", ALICE, 6, "A1 survys"), url=address)
    renamed = replace(post("01HZB", ALICE, 6, "A1 surveys"), url=address, question=first.question)
    someone_else = replace(post("01HZC", person("mallory"), 7, "A1 mine now"), url=address)
    archive.save(first, now=NOW)

    assert archive.save(renamed, now=NOW) == "edited"
    assert archive.save(someone_else, now=NOW) == "new"  # another author: another post
    assert archive.save(first, now=NOW) == "deleted"  # the old id stays gone
    assert [(p.id, p.text) for p in archive.posts(OCCURRENCE)] == [
        ("01HZB", "A1 surveys"),
        ("01HZC", "A1 mine now"),
    ]


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


def test_a_curator_reads_only_what_a_tick_needs(store: SqlStore) -> None:
    archive = SqlArchive(store.engine)
    bob = person("bob")
    posts = [
        post("1", ALICE, 4, "A1 before the window"),  # unnumbered, before: out
        post("2", ALICE, 12, "A2 numbered for Q2, made in Q1's time", question=2),
        post("3", bob, 11, "A1 unnumbered, in the window"),
        post("4", bob, 25, "late answer to Q1", question=1),
        post("5", BOT, 13, "Q1 ...", own=True),
        post("6", ALICE, 20, "unnumbered, at the window's end: out"),
        replace(post("7", bob, 12, "another occurrence"), occurrence="hexichat/2026-12-09"),
    ]
    for item in posts:
        archive.save(item, now=NOW)
    # Window bounds in the chat's zone (UTC-5 here) select the same instants as in UTC.
    zone = timezone(timedelta(hours=-5))

    def window(limit: int) -> list[str]:
        return [
            p.id
            for p in archive.window_posts(
                OCCURRENCE,
                "mastodon",
                question=1,
                start=(START + timedelta(minutes=10)).astimezone(zone),
                end=(START + timedelta(minutes=20)).astimezone(zone),
                limit=limit,
            )
        ]

    assert window(10) == ["4", "5", "3"]  # the latest first
    assert window(2) == ["4", "5"]
    assert [p.id for p in archive.author_posts(OCCURRENCE, "mastodon", [bob.id])] == ["3", "4"]
    assert archive.author_posts(OCCURRENCE, "mastodon", []) == []
    assert sorted(archive.others_texts(OCCURRENCE, "mastodon")) == sorted(
        p.text for p in [*posts[:4], posts[5]]
    )


def test_the_x_follower_and_curator_read_the_bots_posts_and_mentions_only(
    store: SqlStore,
) -> None:
    archive = SqlArchive(store.engine)
    bob = person("bob")
    for item in [
        post("1", BOT, 1, "Q1 ask @hexi_bot anything", own=True),
        post("2", ALICE, 2, "A1 thanks @HEXI_bot!"),
        post("3", bob, 3, "A1 thanks @hexiXbot"),  # "_" is no wildcard
        post("4", ALICE, 4, "A1 no mention"),
        post("5", BOT, 5, "Q2 ...", own=True),
        replace(post("6", bob, 6, "@hexi_bot in another chat"), occurrence="hexichat/2026-12-09"),
    ]:
        archive.save(item, now=NOW)

    assert [p.id for p in archive.own_posts(OCCURRENCE, "mastodon")] == ["1", "5"]
    assert [p.id for p in archive.containing(OCCURRENCE, "mastodon", "@hexi_bot")] == ["2"]
    assert archive.containing(OCCURRENCE, "x", "@hexi_bot") == []
