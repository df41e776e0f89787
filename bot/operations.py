"""What an operator runs beside the chats: the migrations, the health probe, the doctor.

Each opens the database itself, briefly, and reads or changes only what it reports on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.bootstrap import StoreUnavailable, error_line
from bot.connect import connect_platforms
from bot.core.config import ChatConfig
from bot.core.problems import ConfigError
from bot.settings import Settings


def _missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite database file that does not exist (opening it would create it)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        return None if path.exists() else str(path)
    return None


def upgrade_database(settings: Settings) -> tuple[str | None, str | None]:
    """Apply the migrations; the revisions before and after."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.adapters.migrate import UnknownSchema, upgrade
    from bot.adapters.store_sql import make_engine

    engine = make_engine(settings.database_url)
    try:
        return upgrade(engine)
    except (SQLAlchemyError, UnknownSchema) as exc:
        raise StoreUnavailable(error_line(exc)) from exc
    finally:
        engine.dispose()


def health(
    settings: Settings, *, max_age: timedelta, host: str | None, now: datetime
) -> tuple[bool, str]:
    """Whether a worker (on ``host``; None: anywhere) has written a heartbeat lately, and a
    one-line reason."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.adapters.leases_sql import last_beat
    from bot.adapters.store_sql import make_engine

    missing = _missing_sqlite_file(settings.database_url)
    if missing:
        return False, f"unhealthy: no database file at {missing} (no worker has started)"
    engine = make_engine(settings.database_url)
    try:
        beat = last_beat(engine, host=host)
    except SQLAlchemyError as exc:
        return False, f"unhealthy: cannot read the heartbeats: {error_line(exc)}"
    finally:
        engine.dispose()
    where = f"on {host}" if host else "on any host"
    if beat is None:
        return False, f"unhealthy: no worker heartbeat {where}"
    age = (now - beat.beat_at).total_seconds()
    if age > max_age.total_seconds():
        return False, (
            f"unhealthy: the last heartbeat {where} ({beat.worker_id}) is {age:.0f} s old, "
            f"more than {max_age.total_seconds():g} s"
        )
    return True, f"healthy: {beat.worker_id} beat {max(age, 0.0):.1f} s ago"


def doctor_checks(
    config: ChatConfig, settings: Settings, *, env: Mapping[str, str] | None = None
) -> tuple[list[Any], dict[str, Any]]:
    """Every check of `tweetchat doctor` (the chat's platforms, then the database), and per
    platform what the doctor says after them (``PlatformReport``)."""
    checks, reports = _platform_checks(config, env=env)
    return [*checks, *_database_checks(settings)], reports


def _platform_checks(
    config: ChatConfig, *, env: Mapping[str, str] | None
) -> tuple[list[Any], dict[str, Any]]:
    from bot.ports.operations import Inspectable
    from bot.runtime.doctor import Check, PlatformReport, check_platform

    checks: list[Check] = []
    try:
        platforms = connect_platforms(config, env=env, keep_sessions=False)
    except ConfigError as exc:
        platforms = {}
        checks += [
            Check(str(p.loc[1]), "token", False, p.message, p.hint or "") for p in exc.problems
        ]
    reports: dict[str, PlatformReport] = {}
    for name, platform in platforms.items():
        if isinstance(platform, Inspectable):
            reports[name] = check_platform(name, platform, config)
            checks += reports[name].checks
        else:
            checks.append(Check(name, "token", False, "the doctor cannot inspect this platform"))
    return checks, reports


def _database_checks(settings: Settings) -> list[Any]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from bot.adapters.migrate import schema_status
    from bot.adapters.store_sql import make_engine, normalize_url
    from bot.runtime.doctor import Check

    checks: list[Check] = []
    shown = make_url(normalize_url(settings.database_url)).render_as_string(hide_password=True)
    missing = _missing_sqlite_file(settings.database_url)
    if missing:
        return [
            *checks,
            Check(
                "database",
                "reachable",
                False,
                f"no database file at {missing}",
                "run `tweetchat db upgrade` to create it, or set DATABASE_URL",
            ),
        ]
    engine = make_engine(settings.database_url)
    try:
        status = schema_status(engine)
    except SQLAlchemyError as exc:
        return [
            *checks,
            Check(
                "database",
                "reachable",
                False,
                f"{shown}: {error_line(exc)}",
                "check DATABASE_URL, and that the database server is up and reachable",
            ),
        ]
    finally:
        engine.dispose()
    checks.append(Check("database", "reachable", True, shown))
    if status.up_to_date:
        checks.append(Check("database", "migrated", True, f"at the latest schema ({status.head})"))
    elif not status.known:
        checks.append(
            Check(
                "database",
                "migrated",
                False,
                f"at schema {status.current}, newer than this version knows ({status.head})",
                "run the newer version of tweetchat that upgraded this database",
            )
        )
    else:
        checks.append(
            Check(
                "database",
                "migrated",
                False,
                f"at schema {status.current or 'none (empty)'}; this version needs {status.head}",
                "run `tweetchat db upgrade` (`tweetchat run` also upgrades as it starts)",
            )
        )
    return checks
