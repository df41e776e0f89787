"""The `tweetchat` command: parse, call below, print. No logic lives here."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from bot.core.problems import ConfigError

app = typer.Typer(
    help="Host hashtag chats on Mastodon and X: post on time, capture, curate, wrap up.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigArg = Annotated[Path, typer.Argument(help="The chat file (YAML).", show_default=False)]

EXIT_CONFIG = 2


def _fail_config(exc: ConfigError) -> typer.Exit:
    typer.echo(exc.render(), err=True)
    n = len(exc.problems)
    typer.echo(f"{n} problem{'s' if n != 1 else ''}; nothing was posted.", err=True)
    return typer.Exit(EXIT_CONFIG)


@app.command()
def validate(config: ConfigArg) -> None:
    """Check a chat file: prints "ok", or every problem with its line and a hint (exit 2)."""
    from bot.bootstrap import load_config

    try:
        load_config(config)
    except ConfigError as exc:
        raise _fail_config(exc) from None
    typer.echo("ok")


@app.command()
def plan(
    config: ConfigArg,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show every planned post of the next occurrence: key, times, platform, length, text."""
    from bot.bootstrap import load_config, plan_rows
    from bot.runtime.clock import SystemClock

    try:
        chat = load_config(config)
    except ConfigError as exc:
        raise _fail_config(exc) from None
    rows = plan_rows(chat, now=SystemClock().now())
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{chat.chat.title} ({chat.chat.hashtag})", show_lines=False)
    for column in ("key", "local time", "UTC", "platform", "length", "text"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["key"],
            row["local_time"],
            row["utc_time"],
            row["platform"],
            f"{row['length']}/{row['limit']}",
            row["text"],
        )
    Console(width=max(160, Console().width)).print(table)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the chat file, for editors."""
    from bot.core.config import ChatConfig

    typer.echo(json.dumps(ChatConfig.model_json_schema(mode="validation"), indent=2))


@app.command()
def run(
    config: ConfigArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print posts instead of sending them.")
    ] = False,
) -> None:
    """Run the chat's next occurrence and stay up until it ends (a series: forever)."""
    from bot import bootstrap
    from bot.runtime.clock import SystemClock
    from bot.runtime.logs import configure, get_logger
    from bot.runtime.runner import install_stop_handlers

    settings = bootstrap.Settings.from_env()
    configure(json=_json_logs(settings.log_format), level=settings.log_level)
    clock = SystemClock()
    try:
        chat = bootstrap.load_config(config)
        if dry_run:
            platforms = bootstrap.console_platforms(chat, clock=clock)
            store = bootstrap.open_store("sqlite://")  # a dry run must not touch the ledger
        else:
            platforms = bootstrap.connect_platforms(chat)
            bootstrap.check_live_limits(chat, platforms, str(config))
            store = bootstrap.open_store(settings.database_url)
    except ConfigError as exc:
        raise _fail_config(exc) from None
    stop = threading.Event()
    install_stop_handlers(stop, get_logger(chat=chat.chat.id))
    try:
        bootstrap.run_chat(chat, platforms=platforms, store=store, clock=clock, stop_event=stop)
    finally:
        store.close()


@app.command()
def rehearse(
    config: ConfigArg,
    speed: Annotated[
        float, typer.Option(min=1, max=3600, help="Time compression: 120 plays 1 h in 30 s.")
    ] = 60,
) -> None:
    """Play the whole occurrence now, time compressed, on the console. Nothing is sent."""
    from bot import bootstrap
    from bot.runtime.clock import SystemClock
    from bot.runtime.logs import configure, get_logger
    from bot.runtime.runner import install_stop_handlers

    settings = bootstrap.Settings.from_env()
    # The posts are the show; log lines go to stderr so they do not interleave.
    configure(json=_json_logs(settings.log_format), level="WARNING", stream=sys.stderr)
    clock = SystemClock()
    try:
        chat = bootstrap.load_config(config)
    except ConfigError as exc:
        raise _fail_config(exc) from None
    origin = clock.now()
    rehearsal = bootstrap.rehearsal_plan(chat, origin=origin, speed=speed)
    occurrence, agenda = rehearsal
    typer.echo(
        f"Rehearsing {chat.chat.hashtag} ({occurrence.date}) at {speed:g}x: "
        f"{len(agenda)} posts over {(occurrence.end - origin).total_seconds():.0f} s. "
        "Nothing is sent anywhere."
    )
    platforms = bootstrap.console_platforms(chat, clock=clock)
    store = bootstrap.open_store("sqlite://")
    stop = threading.Event()
    install_stop_handlers(stop, get_logger(chat=chat.chat.id))
    try:
        bootstrap.run_chat(
            chat,
            platforms=platforms,
            store=store,
            clock=clock,
            stop_event=stop,
            rehearsal=rehearsal,
        )
    finally:
        store.close()
    typer.echo("Rehearsal finished." if not stop.is_set() else "Rehearsal stopped.")


def _json_logs(fmt: str | None) -> bool | None:
    return None if fmt is None else fmt == "json"


if __name__ == "__main__":
    app()
