"""After the chat: what was captured (`archive`), the transcript and the series' numbers
(`export`), and the wrap-up thread (`wrapup`)."""

from __future__ import annotations

import json
import sys
import textwrap
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.atomic_file import NotWritten, write_whole
from bot.commands.common import ConfigArg, OccurrenceOption, fail_config, open_chat_store
from bot.core.problems import ConfigError
from bot.terminal import say


class ExportFormat(StrEnum):
    html = "html"
    md = "md"
    csv = "csv"
    json = "json"


def archive(
    config: ConfigArg,
    occurrence: OccurrenceOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Every archived post, as JSON, for scripts.")
    ] = False,
    latest: Annotated[int, typer.Option(min=0, help="How many of the latest posts to list.")] = 20,
) -> None:
    """What the bot captured of a chat: counts per question and the latest posts."""
    from zoneinfo import ZoneInfo

    from bot import bootstrap
    from bot.core import planning
    from bot.core.answers import question_counts
    from bot.runtime.clock import SystemClock

    _, chat, store = open_chat_store(config)
    try:
        occurrence_id = planning.archived_occurrence(chat, date=occurrence, now=SystemClock().now())
        posts = bootstrap.open_archive(store).posts(occurrence_id)
    except ConfigError as exc:
        raise fail_config(exc) from None
    finally:
        store.close()
    if as_json:
        rows = [
            {
                "platform": p.platform,
                "id": p.id,
                "url": p.url,
                "author": p.author.handle,
                "created_at": p.created_at.isoformat(),
                "in_reply_to": p.in_reply_to,
                "question": p.question,
                "rule": p.rule,
                "text": p.text,
            }
            for p in posts
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not posts:
        typer.echo(f"Nothing captured yet for {occurrence_id}.")
        return
    from bot.terminal import cell, row, show, table

    own = sum(p.is_own for p in posts)
    counts = table("Answers per question", ("question", "posts", "decided by"), fold=False)
    for count in question_counts(posts):
        row(
            counts,
            f"Q{count.question}" if count.question is not None else "none",
            count.total,
            ", ".join(f"{rule} {n}" for rule, n in count.by_rule),
        )
    zone = ZoneInfo(chat.chat.timezone)
    latest_posts = table(
        f"Latest {min(latest, len(posts))} posts", ("time", "author", "Q", "rule", "text")
    )
    for p in posts[-latest:] if latest else []:
        row(
            latest_posts,
            p.created_at.astimezone(zone).strftime("%H:%M:%S"),
            p.author.handle + (" (bot)" if p.is_own else ""),
            p.question if p.question is not None else "",
            p.rule or "",
            " ".join(p.text.split())[:100],
        )
    show(
        cell(f"{occurrence_id}: {len(posts)} posts captured ({own} by the bot)"),
        counts,
        latest_posts,
        width=120,
    )


def _open_report(config: Path, occurrence: str | None) -> tuple[Any, Any, Any, Any, Any]:
    """Settings, chat, open store, occurrence and its report; exits on a bad file or date,
    an unreachable database, or an occurrence with nothing captured."""
    from bot import bootstrap
    from bot.runtime.clock import SystemClock

    settings, chat, store = open_chat_store(config)
    try:
        found, report = bootstrap.occurrence_report(
            chat, store, date=occurrence, now=SystemClock().now()
        )
    except ConfigError as exc:
        store.close()
        raise fail_config(exc) from None
    if not report.rows:
        store.close()
        typer.echo(f"Nothing captured for {found.id}: nothing to wrap up.", err=True)
        raise typer.Exit(1)
    return settings, chat, store, found, report


def export(
    config: ConfigArg,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="html: one self-contained page.")
    ] = ExportFormat.html,
    occurrence: OccurrenceOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="A file, a folder, or - for standard output; default: the chat's wrapup.folder.",
        ),
    ] = None,
    series: Annotated[
        bool,
        typer.Option(
            "--series",
            help="The series' numbers, occurrence by occurrence, instead of one transcript "
            "(up to --occurrence if given).",
        ),
    ] = False,
) -> None:
    """Write an occurrence's transcript, grouped by question, with its statistics; or, with
    --series, the numbers of the whole series, occurrence by occurrence."""
    from bot.exports import export_target, render, write_export

    if series:
        _export_series(config, fmt.value, occurrence, output)
        return
    _, chat, store, found, report = _open_report(config, occurrence)
    store.close()
    if output == Path("-"):
        sys.stdout.write(render(report, fmt.value))
        return
    target = export_target(output, chat.wrapup.folder, f"{report.basename}.{fmt.value}")
    try:
        write_export(report, fmt.value, target)
    except NotWritten as exc:
        raise _fail_write(exc) from None
    typer.echo(f"Wrote {target} ({len(report.rows)} posts of {found.id}).")


def _fail_write(exc: NotWritten) -> typer.Exit:
    say(f"cannot write {exc.filename}: {exc.strerror or exc}", err=True)
    return typer.Exit(1)


def _export_series(config: Path, fmt: Any, occurrence: str | None, output: Path | None) -> None:
    from bot import bootstrap
    from bot.core.planning import archived_occurrence
    from bot.core.text import counted
    from bot.exports import export_target
    from bot.runtime.clock import SystemClock
    from bot.series_exports import render_series

    _, chat, store = open_chat_store(config)
    try:
        through = (
            archived_occurrence(chat, date=occurrence, now=SystemClock().now())
            if occurrence is not None
            else None
        )
        report = bootstrap.series_report(chat, store, through=through)
    except ConfigError as exc:
        raise fail_config(exc) from None
    finally:
        store.close()
    if report is None:
        typer.echo(f"Nothing captured for {chat.chat.id}: no series to report.", err=True)
        raise typer.Exit(1)
    if output == Path("-"):
        sys.stdout.write(render_series(report, fmt))
        return
    target = export_target(output, chat.wrapup.folder, f"{report.basename}.{fmt}")
    try:
        write_whole(target, render_series(report, fmt))
    except NotWritten as exc:
        raise _fail_write(exc) from None
    occurrences = report.stats.occurrences
    held = counted(len(occurrences), "occurrence", "occurrences")
    typer.echo(
        f"Wrote {target} ({held} of {chat.chat.id}, "
        f"{occurrences[0].date} to {occurrences[-1].date})."
    )


def wrapup(
    config: ConfigArg,
    occurrence: OccurrenceOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the thread; post and write nothing.")
    ] = False,
) -> None:
    """Post an occurrence's wrap-up thread and write its transcript to wrapup.folder.

    A thread that went out already is not posted again (the ledger knows its keys).
    """
    from bot import bootstrap
    from bot.connect import connect_platforms
    from bot.core.checks import platform_limits
    from bot.core.text import length_for
    from bot.core.wrapup import wrapup_thread
    from bot.runtime.clock import SystemClock
    from bot.runtime.logs import configure, get_logger
    from bot.runtime.runner import install_stop_handlers
    from bot.runtime.wrapup import WrapupFailed, all_out

    settings, chat, store, found, report = _open_report(config, occurrence)
    try:
        if dry_run:
            limits = platform_limits(chat)
            for post in wrapup_thread(chat, found, report.stats):
                length = length_for(post.platform, post.text)
                say(f"{post.key} ({length}/{limits.get(post.platform, '?')})")
                say(textwrap.indent(post.text, "    ") + "\n")
            typer.echo("Dry run: nothing was posted or written.")
            return
        configure(json=settings.json_logs, level=settings.log_level)
        try:
            platforms = connect_platforms(chat)
        except ConfigError as exc:
            raise fail_config(exc) from None
        stop = threading.Event()
        install_stop_handlers(stop, get_logger(chat=chat.chat.id))
        try:
            results, files = bootstrap.wrapup_now(
                chat,
                found,
                report,
                store=store,
                platforms=platforms,
                clock=SystemClock(),
                stop_event=stop,
            )
        except WrapupFailed as exc:  # the files first: no thread goes out without them
            say(f"tweetchat wrapup: {exc}", err=True)
            raise typer.Exit(1) from None
    finally:
        store.close()
    for post, outcome in results:
        say(f"{post.key}: {outcome or 'not posted (an earlier part failed)'}")
    for path in files:
        typer.echo(f"Wrote {path}")
    if not all_out(results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    for command in (archive, export, wrapup):
        app.command()(command)
