"""Fixtures shared by every layer of tests."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import structlog
from structlog.testing import capture_logs

from bot.adapters.store_sql import SqlStore
from tests.support import postgres
from tests.support.mastodon_server import MastodonServer, running_mastodon


@pytest.fixture(scope="session")
def _mastodon_process() -> Iterator[MastodonServer]:
    with running_mastodon() as server:
        yield server


@pytest.fixture
def mastodon(_mastodon_process: MastodonServer) -> MastodonServer:
    """A real Mastodon API server (mastodon_mock), emptied before each test."""
    _mastodon_process.reset()
    return _mastodon_process


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own (random name, dropped afterwards).

    Skipped where PostgreSQL is unreachable, except under CI=true, where that fails.
    """
    problem = postgres.unreachable()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable at {postgres.ADMIN_URL}: {problem}")
        pytest.skip(f"PostgreSQL is unreachable: {problem}")
    with postgres.fresh_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind the store supports: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    """The SQL store, migrated, on each kind of database (tests using it run twice)."""
    sql_store = SqlStore.from_url(database_url)
    yield sql_store
    sql_store.close()


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """Every structlog event, debug included, whatever configuration an earlier test left."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs() as captured:
            # The event dicts structlog builds: plain dicts, whatever capture_logs declares.
            yield cast("list[dict[str, Any]]", captured)
    finally:
        structlog.configure(**saved)
