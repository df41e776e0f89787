"""Operating the worker: the database's schema, the health probe, and the doctor."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.commands.common import EXIT_CONFIG, ConfigArg, fail_config, setup_failures
from bot.core.problems import ConfigError
from bot.terminal import say


def db_upgrade() -> None:
    """Bring the database (DATABASE_URL, or the SQLite file) to the latest schema.

    `tweetchat run` does this too as it starts; run it by hand before a deploy, or to check.
    """
    from bot import operations
    from bot.settings import Settings

    with setup_failures("upgrade"):
        before, after = operations.upgrade_database(Settings.from_env())
    if before == after:
        typer.echo(f"the database is at the latest schema ({after})")
    else:
        typer.echo(f"upgraded the database from {before or 'empty'} to {after}")


def health(
    max_age: Annotated[
        str, typer.Option("--max-age", help="How old the last heartbeat may be: 30s, 2m.")
    ] = "30s",
    any_host: Annotated[
        bool,
        typer.Option("--any-host", help="Any worker of the database, not only this host's."),
    ] = False,
) -> None:
    """Exit 0 if a worker on this host wrote a heartbeat lately, 1 otherwise (one line why).

    For a container's HEALTHCHECK: it reads the database the worker writes to.
    """
    import socket

    from bot import operations
    from bot.core.durations import DURATION_HINT, parse_duration
    from bot.runtime.clock import SystemClock
    from bot.settings import Settings

    try:
        age = parse_duration(max_age)
    except ValueError as exc:
        say(f"--max-age: {exc}; {DURATION_HINT}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise fail_config(exc) from None
    healthy, reason = operations.health(
        settings,
        max_age=age,
        host=None if any_host else socket.gethostname(),
        now=SystemClock().now(),
    )
    say(reason)
    raise typer.Exit(0 if healthy else 1)


def doctor(config: ConfigArg) -> None:
    """Check that a chat can run: tokens, scopes, bot flag, post limits, the server's
    capabilities, database (exit 1).

    Per platform: the token works; its scopes allow reading, posting and boosting (where the
    server reports them); the account is flagged as a bot; every post fits the server's
    limit; what the server can do. Then the database is reachable and migrated. Reads only:
    nothing is posted, boosted, sent or edited. Ends with what the bot does differently on
    this server.
    """
    from bot import operations
    from bot.chat_files import load_config
    from bot.settings import Settings
    from bot.terminal import cell, row, show, table

    try:
        settings = Settings.from_env()
        chat = load_config(config)
    except ConfigError as exc:
        raise fail_config(exc) from None
    checks, reports = operations.doctor_checks(chat, settings)
    drawn = table(
        f"tweetchat doctor: {chat.chat.title}", ("", "check", "result", "detail", "fix"), lines=True
    )
    for item in checks:
        row(
            drawn,
            item.area,
            item.name,
            "ok" if item.ok else cell("FAIL", "bold red"),
            item.detail,
            item.fix,
        )
    show(drawn, width=160)
    for name, report in reports.items():
        if report.unknowable:
            typer.echo(f"\nOn {name}, only the chat itself will tell (the doctor never writes):")
            typer.echo("".join(f"- {line}\n" for line in report.unknowable), nl=False)
    failures = sum(not item.ok for item in checks)
    if failures:
        typer.echo(f"{failures} check{'s' if failures != 1 else ''} failed.", err=True)
    else:
        typer.echo("\nAll checks passed.")
    for name, report in reports.items():
        if report.differences:
            typer.echo(f"\nWhat the bot does differently on this {name} server:")
            typer.echo("".join(f"- {line}\n" for line in report.differences), nl=False)
        elif len(report.checks) > 1:
            typer.echo(f"\nThis {name} server offers everything the bot uses: nothing changes.")
    if failures:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="The database: schema migrations.", no_args_is_help=True)
    db_app.command("upgrade")(db_upgrade)
    app.add_typer(db_app, name="db")
    for command in (health, doctor):
        app.command()(command)
