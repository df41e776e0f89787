"""What every command shares: the chat file argument and how a bad one ends a command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.core.problems import ConfigError
from bot.terminal import say

ConfigArg = Annotated[Path, typer.Argument(help="The chat file (YAML).", show_default=False)]

OccurrenceOption = Annotated[
    str | None,
    typer.Option(
        "--occurrence",
        metavar="DATE",
        help="The occurrence's date (2026-12-02); default: the current or latest one.",
    ),
]

EXIT_CONFIG = 2


def fail_config(exc: ConfigError) -> typer.Exit:
    say(exc.render(), err=True)
    n = len(exc.problems)
    typer.echo(f"{n} problem{'s' if n != 1 else ''}; nothing was posted.", err=True)
    return typer.Exit(EXIT_CONFIG)


@contextmanager
def setup_failures(doing: str = "open") -> Iterator[None]:
    """Ends the command on a bad chat file or settings (exit 2, the problems listed) or an
    unreachable database (exit 1, "cannot <doing> the database: ...")."""
    from bot.bootstrap import StoreUnavailable

    try:
        yield
    except ConfigError as exc:
        raise fail_config(exc) from None
    except StoreUnavailable as exc:
        say(f"cannot {doing} the database: {exc}", err=True)
        raise typer.Exit(1) from None


def open_chat_store(config: Path) -> tuple[Any, Any, Any]:
    """Settings, chat and open store; exits on a bad file or an unreachable database."""
    from bot import bootstrap
    from bot.chat_files import load_config
    from bot.settings import Settings

    with setup_failures():
        settings = Settings.from_env()
        chat = load_config(config)
        store = bootstrap.open_store(settings.database_url)
    return settings, chat, store
