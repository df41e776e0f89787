"""Issue 11, noindex: the archive keeps whether an author opted out of search engines, on
SQLite and PostgreSQL, and a database of the previous schema upgrades with its posts intact."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, insert

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.migrate import schema_status, upgrade
from bot.adapters.sql_schema import archive_posts_table
from bot.adapters.store_sql import make_engine
from tests.support.posts import START, person, post

NOW = START + timedelta(hours=1)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_noindex_is_stored_and_a_change_of_mind_is_kept(engine: Engine) -> None:
    """Issue 11 (noindex): the flag reads back as saved; a later copy of the post with the
    flag set updates the stored author."""
    upgrade(engine)
    archive = SqlArchive(engine)
    open_answer = post("110", person("nia"), 6, "A1 surveys", question=1)
    archive.save(open_answer, now=NOW)

    hidden = replace(open_answer, author=replace(open_answer.author, noindex=True))
    assert archive.save(hidden, now=NOW) == "updated"
    assert archive.get("mastodon", "110") == hidden


def test_posts_archived_before_the_column_read_back_as_not_opted_out(engine: Engine) -> None:
    """Issue 11 (noindex): migration 0006 adds the column to a database at 0005 holding
    posts; they keep everything and read as not opted out."""
    upgrade(engine, "0005")
    archived = post("111", person("ana"), 7, "A1 comment cards", question=1)
    row = {
        "platform": "mastodon",
        "id": "111",
        "occurrence": archived.occurrence,
        "url": archived.url,
        "author_id": archived.author.id,
        "author_handle": archived.author.handle,
        "author_name": archived.author.display_name,
        "author_followers": archived.author.followers,
        "author_is_bot": False,
        "author_bio": "",
        "created_at": archived.created_at,
        "text": archived.text,
        "html": archived.html,
        "language": "en",
        "replies": 0,
        "boosts": 0,
        "favourites": 0,
        "question": 1,
        "is_own": False,
        "captured_at": NOW,
        "updated_at": NOW,
    }
    with engine.begin() as conn:
        # Only the columns of 0005: the table object of today has one more.
        conn.execute(insert(archive_posts_table).values(**row))

    upgrade(engine)

    assert schema_status(engine).up_to_date
    assert SqlArchive(engine).get("mastodon", "111") == archived
