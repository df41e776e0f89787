"""Schema migrations with Alembic: bring a database to the latest schema, or say where it is.

The migration scripts live in ``bot/migrations``; no ``alembic.ini`` is needed at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect

# Raised here, defined with the light revision check so that callers need not load Alembic.
from bot.adapters.schema_version import UnknownSchema as UnknownSchema
from bot.adapters.schema_version import lock_schema

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The first release created its one table with create_all and kept no version.
FIRST_REVISION = "0001"


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None  # None: no schema at all
    head: str
    known: bool  # False: a newer version of the bot made this schema

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None  # the package ships at least one migration
    return head


def _known(revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        ScriptDirectory.from_config(_config()).get_revision(revision)
    except CommandError:
        return False
    return True


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def schema_status(engine: Engine) -> SchemaStatus:
    """Where the database stands; reads only (raises the driver's error if unreachable)."""
    with engine.connect() as conn:
        current = _current(conn)
    return SchemaStatus(current=current, head=head_revision(), known=_known(current))


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Apply every migration up to ``revision``; returns the revisions before and after."""
    with engine.begin() as conn:
        lock_schema(conn)
        before = _current(conn)
        if not _known(before):
            raise UnknownSchema(
                f"the database is at schema {before}, which this version does not know (it "
                f"knows up to {head_revision()}): run the newer version that upgraded it"
            )
        if before is None and inspect(conn).has_table("ledger"):
            # A database of the first release: its ledger is revision 0001's, data and all.
            command.stamp(_config(conn), FIRST_REVISION)
        command.upgrade(_config(conn), revision)
        return before, _current(conn)
