"""What the CLI prints, printed as plain text.

Posts, names, server messages and values of a chat file echoed back come from people the
host does not control: printed as they are, a `[/archive]` in a post would end Rich's
markup (a crash), a `[link=...]` would make a clickable hyperlink, and an escape sequence
would drive the host's terminal. So every message goes out without control characters,
and every table cell as Rich `Text`, which Rich never reads as markup.
Rich is imported only by the commands that draw a table: it is slow to load.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer

from bot.core.printable import printable

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text


def say(message: str, *, err: bool = False) -> None:
    """One message (of one or more lines) on stdout, or stderr with ``err``."""
    typer.echo(printable(message, newlines=True), err=err)


def cell(value: object, style: str = "") -> Text:
    """A table cell or title that shows exactly its characters, minus control ones."""
    from rich.text import Text

    return Text(printable(str(value), newlines=True), style=style)


def table(title: str, columns: Sequence[str], *, fold: bool = True, lines: bool = False) -> Table:
    from rich.table import Table

    drawn = Table(title=cell(title), show_lines=lines)
    for column in columns:
        drawn.add_column(cell(column), overflow="fold" if fold else "ellipsis")
    return drawn


def row(drawn: Table, *values: object) -> None:
    """A row of cells; a value already made a cell (to style it) is kept as it is."""
    from rich.text import Text

    drawn.add_row(*(value if isinstance(value, Text) else cell(value) for value in values))


def show(*tables: Table | Text, width: int) -> None:
    """Tables (and lines of Text) on stdout, at least ``width`` columns wide."""
    from rich.console import Console

    console = Console(width=max(width, Console().width), markup=False, emoji=False, highlight=False)
    for item in tables:
        console.print(item)
