"""Before a chat: check its file, show its plan, and the file's schema for editors.

`validate` and `plan` must start fast: what they need is imported inside them, and Rich
only once `plan` draws its table.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.commands.common import ConfigArg, fail_config
from bot.core.problems import ConfigError
from bot.terminal import say


def validate(config: ConfigArg) -> None:
    """Check a chat file: prints "ok", or every problem with its line and a hint (exit 2)."""
    from bot.chat_files import load_config

    try:
        load_config(config)
    except ConfigError as exc:
        raise fail_config(exc) from None
    typer.echo("ok")


def plan(
    config: ConfigArg,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show every planned post of the next occurrence: key, times, platform, length, text;
    on X, what the occurrence will cost."""
    from bot.chat_files import load_config
    from bot.core.planning import plan_rows, x_cost_lines
    from bot.runtime.clock import SystemClock

    try:
        chat = load_config(config)
    except ConfigError as exc:
        raise fail_config(exc) from None
    now = SystemClock().now()
    rows = plan_rows(chat, now=now)
    costs = x_cost_lines(chat, now=now)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        for line in costs:
            say(line, err=True)  # stdout stays one JSON document
        return
    from bot.terminal import row, show, table

    drawn = table(
        f"{chat.chat.title} ({chat.chat.hashtag})",
        ("key", "local time", "UTC", "platform", "length", "text"),
    )
    for planned in rows:
        row(
            drawn,
            planned["key"],
            planned["local_time"],
            planned["utc_time"],
            planned["platform"],
            f"{planned['length']}/{planned['limit']}",
            planned["text"],
        )
    show(drawn, width=160)
    for line in costs:
        say(line)


def schema() -> None:
    """Print the JSON Schema of the chat file, for editors."""
    from bot.core.config import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


def register(app: typer.Typer) -> None:
    for command in (validate, plan, schema):
        app.command()(command)
