"""The commands an operator runs around a deployment, as a subprocess: `tweetchat doctor`,
`tweetchat db upgrade`, `tweetchat health`, and `run` refusing a bad set-up."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.adapters.leases_sql import SqlHeartbeat
from bot.adapters.migrate import head_revision
from bot.adapters.store_sql import SqlStore
from tests.support.chat_files import TOKEN_ENV, run_tweetchat, tweetchat_env, write_chat
from tests.support.mastodon_server import MastodonServer, free_port, running_mastodon


def table_rows(output: str) -> dict[tuple[str, str], tuple[str, str, str]]:
    """A printed table as {(area, check): (result, detail, fix)}, wrapped cells joined."""
    rows: dict[tuple[str, str], tuple[str, str, str]] = {}
    key: tuple[str, str] | None = None
    for line in output.splitlines():
        if not line.startswith("│"):
            key = None if line.startswith(("├", "└")) else key
            continue
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if key is None:
            key = (cells[0], cells[1])
            rows[key] = (cells[2], cells[3], cells[4])
        else:
            result, detail, fix = rows[key]
            rows[key] = (result, f"{detail} {cells[3]}".strip(), f"{fix} {cells[4]}".strip())
    return rows


@pytest.fixture(scope="module")
def strict_mastodon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MastodonServer]:
    """A Mastodon API server that enforces token scopes, as real servers do."""
    config = tmp_path_factory.mktemp("strict") / "mastodon_mock.toml"
    config.write_text("[auth]\nenforce_scopes = true\n", "utf-8")
    with running_mastodon(config=config) as server:
        yield server


def read_only_token(server: MastodonServer, username: str) -> str:
    """A token of an application registered with the read scope only (the OAuth flow)."""
    server.account(username)
    app = server.http.post("/api/v1/apps", json={"client_name": "reader", "scopes": "read"}).json()
    token = server.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": f"mockcode_{username}",  # the mock's stand-in for the consent screen
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    token.raise_for_status()
    access_token: str = token.json()["access_token"]
    return access_token


def test_doctor_passes_a_bot_account_with_a_full_token_and_a_migrated_database(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    bot = mastodon.account("chatbot", bot=True)
    chat = write_chat(tmp_path / "chat.yaml", instance=mastodon.base_url)
    env = tweetchat_env(database=tmp_path / "tweetchat.sqlite3", token=bot.token)
    assert run_tweetchat("db", "upgrade", env=env).returncode == 0

    result = run_tweetchat("doctor", str(chat.path), env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    rows = table_rows(result.stdout)
    assert {check for _, check in rows} == {
        "token",
        "scope: read",
        "scope: post",
        "scope: boost",
        "bot flag",
        "post length",
        "server",
        "limits",
        "multi-status read",
        "ids",
        "streaming",
        "reachable",
        "migrated",
    }
    assert all(result_ == "ok" for result_, _, _ in rows.values()), rows
    assert rows[("mastodon", "token")][1] == "works: signed in as @chatbot"
    # A token made outside an application: the server does not report its scopes.
    assert rows[("mastodon", "scope: post")][1].startswith("not known")
    assert rows[("mastodon", "server")][1] == "Mastodon 4.6.0 (from NodeInfo)"
    assert "All checks passed." in result.stdout
    assert result.stdout.rstrip().endswith(
        "This mastodon server offers everything the bot uses: nothing changes."
    )
    assert mastodon.statuses_of(bot) == []  # the doctor posted nothing
    assert bot.token not in result.stdout + result.stderr


def test_doctor_shows_each_failure_with_its_fix_and_exits_1(
    tmp_path: Path, strict_mastodon: MastodonServer, postgres_url: str
) -> None:
    token = read_only_token(strict_mastodon, "readonlybot")
    chat = write_chat(
        tmp_path / "chat.yaml", instance=strict_mastodon.base_url, hashtag="#DoctorChat"
    )
    env = tweetchat_env(database=tmp_path / "unused.sqlite3", token=token)
    env["DATABASE_URL"] = postgres_url  # reachable, but empty: never migrated

    result = run_tweetchat("doctor", str(chat.path), env=env)

    assert result.returncode == 1, result.stdout + result.stderr
    rows = table_rows(result.stdout)
    failed = {key for key, (outcome, _, _) in rows.items() if outcome == "FAIL"}
    assert failed == {
        ("mastodon", "scope: post"),
        ("mastodon", "scope: boost"),
        ("mastodon", "bot flag"),
        ("database", "migrated"),
    }
    assert rows[("mastodon", "scope: read")][0] == "ok"
    assert rows[("mastodon", "scope: post")][1] == (
        "the token's scopes do not allow posting (questions, wrap-up)"
    )
    assert "give the application read and write scopes" in rows[("mastodon", "scope: post")][2]
    assert "This is an automated account" in rows[("mastodon", "bot flag")][2]
    assert rows[("database", "migrated")][1] == (
        f"at schema none (empty); this version needs {head_revision()}"
    )
    assert "tweetchat db upgrade" in rows[("database", "migrated")][2]
    assert "4 checks failed." in result.stderr
    assert token not in result.stdout + result.stderr


def test_doctor_reports_a_missing_token_and_an_unreachable_database(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    chat = write_chat(tmp_path / "chat.yaml", instance=mastodon.base_url)
    env = tweetchat_env(database=tmp_path / "unused.sqlite3", token=None)
    env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{free_port()}/tweetchat"

    result = run_tweetchat("doctor", str(chat.path), env=env)

    assert result.returncode == 1
    rows = table_rows(result.stdout)
    assert rows[("mastodon", "token")][:2] == (
        "FAIL",
        f"the environment variable {TOKEN_ENV} is not set",
    )
    outcome, detail, fix = rows[("database", "reachable")]
    assert outcome == "FAIL"
    assert "postgresql+psycopg://postgres@127.0.0.1:" in detail
    assert "check DATABASE_URL" in fix


def test_db_upgrade_migrates_an_empty_postgresql_database_once(
    tmp_path: Path, postgres_url: str
) -> None:
    env = tweetchat_env(database=tmp_path / "unused.sqlite3", token=None)
    env["DATABASE_URL"] = postgres_url.replace("postgresql://", "postgres://")  # Heroku's form

    first = run_tweetchat("db", "upgrade", env=env)
    second = run_tweetchat("db", "upgrade", env=env)

    assert (first.returncode, first.stdout.strip()) == (
        0,
        f"upgraded the database from empty to {head_revision()}",
    )
    assert (second.returncode, second.stdout.strip()) == (
        0,
        f"the database is at the latest schema ({head_revision()})",
    )


@pytest.fixture
def heartbeat_db(tmp_path: Path) -> Iterator[tuple[SqlStore, dict[str, str]]]:
    database = tmp_path / "tweetchat.sqlite3"
    store = SqlStore.from_url(f"sqlite:///{database}")
    yield store, tweetchat_env(database=database, token=None)
    store.close()


def beat(store: SqlStore, *, host: str, ago: timedelta) -> None:
    worker = f"{host}:4242"
    heartbeat = SqlHeartbeat(store.engine, worker_id=worker, host=host, pid=4242)
    heartbeat.beat(now=datetime.now(UTC) - ago)


def test_health_is_0_for_a_fresh_heartbeat_on_this_host(
    heartbeat_db: tuple[SqlStore, dict[str, str]],
) -> None:
    store, env = heartbeat_db
    beat(store, host=socket.gethostname(), ago=timedelta(seconds=2))

    result = run_tweetchat("health", env=env)

    assert result.returncode == 0
    assert result.stdout.startswith(f"healthy: {socket.gethostname()}:4242 beat ")
    assert len(result.stdout.strip().splitlines()) == 1


def test_health_is_1_for_a_stale_heartbeat_unless_the_max_age_allows_it(
    heartbeat_db: tuple[SqlStore, dict[str, str]],
) -> None:
    store, env = heartbeat_db
    beat(store, host=socket.gethostname(), ago=timedelta(minutes=2))

    stale = run_tweetchat("health", env=env)
    allowed = run_tweetchat("health", "--max-age", "5m", env=env)

    assert stale.returncode == 1
    assert stale.stdout.startswith(f"unhealthy: the last heartbeat on {socket.gethostname()}")
    assert "more than 30 s" in stale.stdout
    assert allowed.returncode == 0


def test_health_looks_at_this_hosts_workers_unless_told_any_host(
    heartbeat_db: tuple[SqlStore, dict[str, str]],
) -> None:
    store, env = heartbeat_db
    beat(store, host="another-container", ago=timedelta(seconds=1))

    here = run_tweetchat("health", env=env)
    anywhere = run_tweetchat("health", "--any-host", env=env)

    assert (here.returncode, here.stdout.strip()) == (
        1,
        f"unhealthy: no worker heartbeat on {socket.gethostname()}",
    )
    assert anywhere.returncode == 0


def test_health_without_a_database_or_with_a_bad_max_age(tmp_path: Path) -> None:
    env = tweetchat_env(database=tmp_path / "never-created.sqlite3", token=None)

    missing = run_tweetchat("health", env=env)
    bad_age = run_tweetchat("health", "--max-age", "soon", env=env)

    assert missing.returncode == 1
    assert missing.stdout.startswith("unhealthy: no database file at ")
    assert not (tmp_path / "never-created.sqlite3").exists()
    assert bad_age.returncode == 2
    assert "--max-age: 'soon' is not a duration" in bad_age.stderr


def test_run_refuses_a_folder_with_a_broken_file_and_a_duplicate_chat_id(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    folder = tmp_path / "chats"
    folder.mkdir()
    write_chat(folder / "a.yaml", instance=mastodon.base_url, chat_id="weekly")
    write_chat(folder / "b.yaml", instance=mastodon.base_url, chat_id="weekly")
    (folder / "c.yaml").write_text("chat: [unclosed\n", "utf-8")
    env = tweetchat_env(database=tmp_path / "tweetchat.sqlite3", token="not-used-token")

    result = run_tweetchat("run", str(folder), env=env)

    assert result.returncode == 2
    assert f"{folder / 'b.yaml'}: chat.id: the chat id 'weekly' is taken by a.yaml" in (
        result.stderr
    )
    assert f"{folder / 'c.yaml'}:" in result.stderr
    assert "nothing was posted" in result.stderr


def test_run_refuses_a_folder_without_chat_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a chat", "utf-8")
    env = tweetchat_env(database=tmp_path / "tweetchat.sqlite3", token=None)

    result = run_tweetchat("run", str(tmp_path), env=env)

    assert result.returncode == 2
    assert f"{tmp_path}: (file): the folder holds no chat file" in result.stderr


def test_run_refuses_a_bad_lease_setting_and_an_unreachable_database(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    bot = mastodon.account("chatbot")
    chat = write_chat(tmp_path / "chat.yaml", instance=mastodon.base_url)
    env = tweetchat_env(database=tmp_path / "tweetchat.sqlite3", token=bot.token)

    bad_ttl = run_tweetchat("run", str(chat.path), env={**env, "TWEETCHAT_LEASE_TTL": "0s"})
    unreachable = run_tweetchat(
        "run",
        str(chat.path),
        env={**env, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"},
    )

    assert bad_ttl.returncode == 2
    assert "environment: TWEETCHAT_LEASE_TTL: a lease must last longer than 0s" in (bad_ttl.stderr)
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("cannot open the database: connection failed")
    assert httpx.get(f"{mastodon.base_url}/api/v1/timelines/public").json() == []


def test_db_upgrade_refuses_a_database_a_newer_version_upgraded(tmp_path: Path) -> None:
    database = tmp_path / "tweetchat.sqlite3"
    store = SqlStore.from_url(f"sqlite:///{database}")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0999'")
    store.close()

    result = run_tweetchat("db", "upgrade", env=tweetchat_env(database=database, token=None))

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "cannot upgrade the database: the database is at schema 0999, which this version "
        f"does not know (it knows up to {head_revision()}): run the newer version that "
        "upgraded it"
    )
