"""Schema migrations on SQLite and PostgreSQL: the latest migration builds exactly the schema
the code uses, and a database of an older version upgrades with its data intact."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select, text

from bot.adapters.migrate import (
    FIRST_REVISION,
    MIGRATIONS,
    UnknownSchema,
    head_revision,
    schema_status,
    upgrade,
)
from bot.adapters.schema_version import HEAD_REVISION, create_if_empty
from bot.adapters.sql_schema import ledger_table, metadata
from bot.adapters.store_sql import SqlStore, make_engine

T0 = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
ROW = {
    "key": "hexichat/2026-12-02/q1/mastodon",
    "occurrence": "hexichat/2026-12-02",
    "platform": "mastodon",
    "state": "done",
    "planned_at": T0,
    "claimed_at": T0,
    "remote_id": "109",
    "url": "https://example.social/@bot/109",
    "published_at": T0,
    "error": None,
}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_the_latest_migration_builds_exactly_the_schema_the_code_uses(engine: Engine) -> None:
    # A table or column added to sql_schema without a migration fails here.
    upgrade(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
    assert schema_status(engine).up_to_date


def test_a_database_at_the_first_migration_upgrades_with_its_ledger_intact(
    engine: Engine,
) -> None:
    upgrade(engine, FIRST_REVISION)
    with engine.begin() as conn:
        conn.execute(insert(ledger_table).values(**ROW))
    assert schema_status(engine).current == FIRST_REVISION

    before, after = upgrade(engine)

    assert (before, after) == (FIRST_REVISION, head_revision())
    store = SqlStore(engine)
    entry = store.get(str(ROW["key"]))
    assert entry is not None
    assert (entry.state, entry.remote_id, entry.url, entry.published_at) == (
        "done",
        "109",
        "https://example.social/@bot/109",
        T0,
    )


def test_a_database_of_the_first_release_without_a_version_is_adopted(engine: Engine) -> None:
    # The first release made its ledger with create_all and kept no schema version.
    ledger_table.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(ledger_table).values(**ROW))
    assert not create_if_empty(engine)  # not new: its ledger is adopted, below

    before, after = upgrade(engine)

    assert (before, after) == (None, head_revision())
    with engine.connect() as conn:
        assert conn.execute(select(ledger_table.c.remote_id)).scalars().all() == ["109"]
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_a_new_database_created_without_alembic_is_one_alembic_can_migrate(
    engine: Engine,
) -> None:
    assert create_if_empty(engine)
    assert not create_if_empty(engine)  # once only
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert schema_status(engine).up_to_date
    with engine.begin() as conn:
        conn.execute(insert(ledger_table).values(**ROW))

    # `tweetchat db upgrade` finds nothing to do, and creates nothing twice.
    assert upgrade(engine) == (HEAD_REVISION, HEAD_REVISION)
    # Every migration's steps apply to it, as a later version's will: all the way down
    # (each step drops what its upgrade made, by name) and up again.
    with engine.begin() as conn:
        alembic = Config()
        alembic.set_main_option("script_location", str(MIGRATIONS))
        alembic.attributes["connection"] = conn
        command.downgrade(alembic, "base")
        assert inspect(conn).get_table_names() == ["alembic_version"]
    assert upgrade(engine) == (None, HEAD_REVISION)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_upgrading_an_up_to_date_database_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(ledger_table).values(**ROW))
    assert upgrade(engine) == (head_revision(), head_revision())
    with engine.connect() as conn:
        assert conn.execute(select(ledger_table.c.key)).scalars().all() == [ROW["key"]]


@pytest.mark.parametrize("how", ["db upgrade", "run"])
def test_workers_starting_together_on_postgresql_upgrade_one_after_another(
    postgres_url: str, how: str
) -> None:
    engines = [make_engine(postgres_url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def start_worker(engine: Engine) -> None:
        start.wait()
        try:
            if how == "run":
                SqlStore(engine).create_schema()  # the new database: no Alembic
            else:
                upgrade(engine)
        except Exception as exc:  # collected: asserted below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=start_worker, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert schema_status(engines[0]).up_to_date
    for engine in engines:
        engine.dispose()


def test_a_database_from_a_newer_version_is_left_alone(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))

    with pytest.raises(UnknownSchema, match="at schema 0999, which this version does not know"):
        upgrade(engine)
    status = schema_status(engine)
    assert (status.current, status.known, status.up_to_date) == ("0999", False, False)


def test_the_head_revision_of_the_quick_check_is_alembics_head() -> None:
    # A new migration must also move HEAD_REVISION, or every start would run Alembic.
    assert head_revision() == HEAD_REVISION


def test_opening_a_store_upgrades_a_database_behind_and_refuses_one_ahead(
    engine: Engine,
) -> None:
    upgrade(engine, FIRST_REVISION)
    SqlStore(engine).create_schema()
    assert schema_status(engine).up_to_date

    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    with pytest.raises(UnknownSchema, match="at schema 0999"):
        SqlStore(engine).create_schema()


@pytest.mark.parametrize("state", ["new", "up to date"])
def test_opening_a_new_or_up_to_date_store_does_not_load_alembic(
    database_url: str, state: str
) -> None:
    if state == "up to date":
        SqlStore.from_url(database_url).close()
    opened = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from bot.adapters.store_sql import SqlStore; "
            f"SqlStore.from_url({database_url!r}).close(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert opened.stdout.strip() == "[]"
    engine = make_engine(database_url)
    try:
        assert schema_status(engine).up_to_date
    finally:
        engine.dispose()
