"""DATABASE_URL checked before anything connects, and described without being repeated."""

import pytest

from bot.adapters.database_url import url_problem

PASSWORD = "s3cr3t-pa55"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"postgresql://u:{PASSWORD}@host:abc/test", "has a port that is not a number"),
        (f"postgresql//u:{PASSWORD}@host/test", "is not a database address (it has no kind://)"),
        ("garbage", "is not a database address (it has no kind://)"),
        (f"postgresql://u:{PASSWORD}@host:99999/test", "has a port outside 1-65535"),
        (
            f"mysql://u:{PASSWORD}@host/test",
            "names a kind of database tweetchat cannot open (mysql)",
        ),
        ("sqlite://tweetchat.sqlite3", "is a SQLite address with a host"),
    ],
)
def test_a_malformed_url_is_described_without_its_parts(url: str, reason: str) -> None:
    """Issue 12 item 9: each gave a traceback; none may echo the password."""
    problem = url_problem(url)

    assert problem is not None
    assert problem[0] == reason
    assert PASSWORD not in " ".join(problem)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///tweetchat.sqlite3",
        "sqlite:////var/lib/tweetchat/chat.sqlite3",
        "sqlite://",
        "postgres://u:p%40ss@db.example:5432/chats",  # Heroku's spelling
        "postgresql://u:p@localhost/chats",
        "postgresql+psycopg:///chats",  # the local socket
    ],
)
def test_addresses_tweetchat_opens_pass(url: str) -> None:
    assert url_problem(url) is None
