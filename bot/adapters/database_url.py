"""What is wrong with a DATABASE_URL, said without repeating any part of it.

A URL holds a password, and a password with an unescaped @, : or / shifts every part after
it (the "port" SQLAlchemy complains about may be half the password): no message here quotes
the URL or a piece of it, only the kind of database, which comes before the ``://``.
"""

from __future__ import annotations

from bot.adapters.store_sql import normalize_url

EXAMPLES = (
    "write postgresql://USER:PASSWORD@HOST:5432/NAME, or sqlite:///PATH for a file; "
    "in the password, write @ : / # ? % as %40 %3A %2F %23 %3F %25"
)
# The drivers installed with tweetchat (constraints.txt): any other needs a module we lack.
_SUPPORTED = {"postgresql": ("psycopg",), "sqlite": ("pysqlite",)}


def url_problem(url: str) -> tuple[str, str] | None:
    """(what is wrong, how to fix it), or None for an address tweetchat can open."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if "://" not in url:
        return "is not a database address (it has no kind://)", EXAMPLES
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        return "is not a database address", EXAMPLES
    except ValueError:
        return "has a port that is not a number", EXAMPLES
    backend = parsed.get_backend_name()
    if parsed.get_driver_name() not in _SUPPORTED.get(backend, ()):
        return (
            f"names a kind of database tweetchat cannot open ({parsed.drivername})",
            "use PostgreSQL (postgresql://...) or a SQLite file (sqlite:///PATH)",
        )
    if parsed.port is not None and not 0 < parsed.port < 65536:
        return "has a port outside 1-65535", EXAMPLES
    if backend == "sqlite" and parsed.host:
        return (
            "is a SQLite address with a host",
            "a SQLite file takes three slashes before a relative path (sqlite:///chat.sqlite3), "
            "four before an absolute one",
        )
    return None
