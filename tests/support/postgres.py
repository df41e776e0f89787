"""The machine's PostgreSQL for tests: each test gets a fresh database of its own, with a
random name, dropped afterwards, so runs (and tests) never see each other's rows."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

# The maintenance database the test databases are created from (trust auth, no password).
ADMIN_URL = os.environ.get("TWEETCHAT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new empty database; yields its URL and drops it (and its connections) afterwards."""
    name = f"tweetchat_test_{secrets.token_hex(6)}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
