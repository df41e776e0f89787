"""The `tweetchat` command: parse, call below, print. No logic lives here."""

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
from bot.core.problems import ConfigError
from bot.terminal import say

app = typer.Typer(
    help="Host hashtag chats on Mastodon and X: post on time, capture, curate, wrap up.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigArg = Annotated[Path, typer.Argument(help="The chat file (YAML).", show_default=False)]


@app.callback()
def _mask_output() -> None:
    # Before any command: whatever it prints (messages, tables, logs, a traceback) goes
    # through a stream that masks the secrets the process learns (see bot.core.masking).
    from bot.core.masking import MaskingStream

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, MaskingStream):
            setattr(sys, name, MaskingStream(stream))


EXIT_CONFIG = 2


def _fail_config(exc: ConfigError) -> typer.Exit:
    say(exc.render(), err=True)
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
    """Show every planned post of the next occurrence: key, times, platform, length, text;
    on X, what the occurrence will cost."""
    from bot.bootstrap import load_config
    from bot.core.planning import plan_rows, x_cost_lines
    from bot.runtime.clock import SystemClock

    try:
        chat = load_config(config)
    except ConfigError as exc:
        raise _fail_config(exc) from None
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


@app.command()
def schema() -> None:
    """Print the JSON Schema of the chat file, for editors."""
    from bot.core.config import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@app.command()
def run(
    config: ConfigArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print posts instead of sending them.")
    ] = False,
) -> None:
    """Run the chats' next occurrences and stay up until they end (a series: forever).

    CONFIG is a chat file or a folder of them. Workers sharing a database (DATABASE_URL)
    share the chats out: each occurrence is run by one worker at a time.
    """
    from bot import bootstrap
    from bot.runtime.clock import SystemClock
    from bot.runtime.logs import configure, get_logger
    from bot.runtime.runner import install_stop_handlers

    clock = SystemClock()
    try:
        settings = bootstrap.Settings.from_env()
        configure(json=_json_logs(settings.log_format), level=settings.log_level)
        chats = bootstrap.load_chats(config)
        if dry_run:
            platforms = [bootstrap.console_platforms(chat, clock=clock) for chat in chats]
            store = bootstrap.open_store("sqlite://")  # a dry run must not touch the ledger
        else:
            platforms = [bootstrap.connect_platforms(chat) for chat in chats]
            for chat, chat_platforms in zip(chats, platforms, strict=True):
                bootstrap.check_live_limits(chat, chat_platforms, str(config))
            store = bootstrap.open_store(settings.database_url)
    except ConfigError as exc:
        raise _fail_config(exc) from None
    except bootstrap.StoreUnavailable as exc:
        say(f"cannot open the database: {exc}", err=True)
        raise typer.Exit(1) from None
    stop = threading.Event()
    install_stop_handlers(stop, get_logger(worker=settings.worker_id))
    failures: list[str] = []
    try:
        finished = bootstrap.run_chats(
            list(zip(chats, platforms, strict=True)),
            store=store,
            settings=settings,
            clock=clock,
            stop_event=stop,
            failures=failures,
        )
    finally:
        store.close()
    if not finished:
        for line in failures:
            typer.echo(f"tweetchat run: {line}", err=True)
        raise typer.Exit(1)


@app.command()
def rehearse(
    config: ConfigArg,
    speed: Annotated[
        float, typer.Option(min=1, max=3600, help="Time compression: 120 plays 1 h in 30 s.")
    ] = 60,
    crowd: Annotated[
        int, typer.Option(min=0, max=1000, help="How many invented people take part.")
    ] = 36,
    seed: Annotated[
        int, typer.Option(help="Decides who they are and what they say: same seed, same chat.")
    ] = 1,
    out: Annotated[
        Path, typer.Option(help="Where the transcript goes (not the chat's wrapup.folder).")
    ] = Path("out/rehearsal"),
    with_console: Annotated[
        bool, typer.Option("--console", help="Open the hosts' console on the rehearsal too.")
    ] = False,
    console_port: Annotated[int, typer.Option(min=0, max=65535)] = 8765,
) -> None:
    """Play the whole occurrence now, time compressed, on the console, with a simulated crowd:
    the posts, the boosts, the wrap-up thread, and the transcript files. Nothing is sent."""
    import time

    from bot import bootstrap
    from bot.core import planning
    from bot.core.wrapup import wrapup_time
    from bot.rehearsal import wiring
    from bot.runtime.clock import SystemClock
    from bot.runtime.logs import configure, get_logger
    from bot.runtime.runner import CompanionFailed, install_stop_handlers

    try:
        settings = bootstrap.Settings.from_env()
    except ConfigError as exc:
        raise _fail_config(exc) from None
    # The posts are the show; log lines go to stderr so they do not interleave.
    configure(json=_json_logs(settings.log_format), level="WARNING", stream=sys.stderr)
    clock = SystemClock()
    try:
        chat = bootstrap.load_config(config)
    except ConfigError as exc:
        raise _fail_config(exc) from None
    store = bootstrap.open_store("sqlite://")
    started = time.time()
    origin = wiring.rehearsal_origin(clock.now())
    plan = planning.rehearsal_plan(chat, origin=origin, speed=speed)
    occurrence, agenda = plan
    rehearsed = wiring.rehearsal_config(chat, speed=speed, folder=out)
    capturing = chat.follow.enabled
    stop = threading.Event()
    world = wiring.rehearsal_world(
        rehearsed, plan, speed=speed, crowd=crowd, seed=seed, clock=clock, stop_event=stop
    )
    ends = wrapup_time(rehearsed, occurrence) if capturing else occurrence.end
    typer.echo(
        f"Rehearsing {chat.chat.hashtag} ({occurrence.date}) at {speed:g}x: "
        f"{len(agenda)} posts over {(occurrence.end - origin).total_seconds():.0f} s"
        + (f", the wrap-up at {(ends - origin).total_seconds():.0f} s" if capturing else "")
        + ". Nothing is sent anywhere."
    )
    if capturing:
        typer.echo(f"The crowd (seed {seed}): {world.crowd.summary(chat.chat.hashtag)}.")
    else:
        typer.echo("Capture is off in this chat file (follow.enabled: false): no crowd.")
    install_stop_handlers(stop, get_logger(chat=chat.chat.id))
    shown = (
        _rehearsal_console(rehearsed, plan, store, clock, console_port, speed)
        if with_console
        else None
    )
    try:
        bootstrap.run_chat(
            rehearsed,
            platforms=world.platforms,
            store=store,
            clock=clock,
            stop_event=stop,
            rehearsal=plan,
            archive=bootstrap.open_archive(store),
            companions=world.companions if capturing else (),
            speed=speed,
        )
        boosted, rejected = wiring.rehearsal_boosts(store, occurrence)
    except CompanionFailed as exc:
        typer.echo(f"tweetchat rehearse: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        if shown is not None:
            shown.stop()
        store.close()
    if stop.is_set():
        typer.echo("Rehearsal stopped.")
        return
    if capturing:
        kept = ", ".join(f"{rule} {n}" for rule, n in rejected.items()) or "none"
        typer.echo(f"Boosted {boosted} posts. Not boosted, by rule: {kept}.")
        written = wiring.rehearsal_transcript(rehearsed, occurrence, since=started)
        if written is None:
            typer.echo("The transcript was not written: see the log above.", err=True)
            raise typer.Exit(1)
        typer.echo("Transcript:")
        for path in written:
            typer.echo(f"  {path}")
    typer.echo("Rehearsal finished.")


@app.command()
def console(
    config: ConfigArg,
    host: Annotated[
        str | None,
        typer.Option(help="Listen address: 127.0.0.1, or 0.0.0.0 when PORT is set (Heroku)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Listen port: PORT if set, else 8765.")
    ] = None,
    token_env: Annotated[
        str, typer.Option(help="The environment variable holding the hosts' secret.")
    ] = "TWEETCHAT_CONSOLE_TOKEN",  # noqa: S107 (a name, not a secret)
) -> None:
    """The hosts' web console over the chats' database: the chat live, the agenda to steer,
    the boosts to choose. It never talks to the platforms: the worker carries commands out."""
    from bot import bootstrap
    from bot.console.server import bind, serve
    from bot.console.wiring import console_app, console_secret, listen_address
    from bot.core.planning import next_plan
    from bot.runtime.clock import SystemClock
    from bot.runtime.logs import configure

    try:
        settings = bootstrap.Settings.from_env()
        configure(json=_json_logs(settings.log_format), level=settings.log_level)
        secret = console_secret(token_env)
        chats = bootstrap.load_chats(config)
        store = bootstrap.open_store(settings.database_url)
    except ConfigError as exc:
        raise _fail_config(exc) from None
    except bootstrap.StoreUnavailable as exc:
        typer.echo(f"cannot open the database: {exc}", err=True)
        raise typer.Exit(1) from None
    host, port, behind_proxy = listen_address(host, port)
    plans = [(chat, lambda now, chat=chat: next_plan(chat, now)) for chat in chats]
    try:
        sock = bind(host, port)
    except OSError as exc:
        typer.echo(f"cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Console on http://{host}:{sock.getsockname()[1]}/ (sign in with ${token_env})")
    try:
        serve(
            console_app(plans, store, secret=secret, clock=SystemClock()),
            sock,
            behind_proxy=behind_proxy,
        )
    finally:
        store.close()


def _rehearsal_console(
    config: Any, plan: Any, store: Any, clock: Any, port: int, speed: float
) -> Any:
    """The hosts' console on the rehearsal, on a thread, as `console` serves it."""
    from bot.console.wiring import rehearsal_console

    try:
        shown = rehearsal_console(config, plan, store, clock=clock, port=port, speed=speed)
    except ConfigError as exc:
        raise _fail_config(exc) from None
    except OSError as exc:
        typer.echo(f"cannot listen on port {port}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Console on http://127.0.0.1:{shown.port}/ (sign in with $TWEETCHAT_CONSOLE_TOKEN)")
    return shown


db_app = typer.Typer(help="The database: schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database (DATABASE_URL, or the SQLite file) to the latest schema.

    `tweetchat run` does this too as it starts; run it by hand before a deploy, or to check.
    """
    from bot import bootstrap, operations

    try:
        before, after = operations.upgrade_database(bootstrap.Settings.from_env())
    except ConfigError as exc:
        raise _fail_config(exc) from None
    except bootstrap.StoreUnavailable as exc:
        say(f"cannot upgrade the database: {exc}", err=True)
        raise typer.Exit(1) from None
    if before == after:
        typer.echo(f"the database is at the latest schema ({after})")
    else:
        typer.echo(f"upgraded the database from {before or 'empty'} to {after}")


@app.command()
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

    from bot import bootstrap, operations
    from bot.core.durations import DURATION_HINT, parse_duration
    from bot.runtime.clock import SystemClock

    try:
        age = parse_duration(max_age)
    except ValueError as exc:
        say(f"--max-age: {exc}; {DURATION_HINT}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    try:
        settings = bootstrap.Settings.from_env()
    except ConfigError as exc:
        raise _fail_config(exc) from None
    healthy, reason = operations.health(
        settings,
        max_age=age,
        host=None if any_host else socket.gethostname(),
        now=SystemClock().now(),
    )
    say(reason)
    raise typer.Exit(0 if healthy else 1)


@app.command()
def doctor(config: ConfigArg) -> None:
    """Check that a chat can run: tokens, scopes, bot flag, post limits, the server's
    capabilities, database (exit 1).

    Per platform: the token works; its scopes allow reading, posting and boosting (where the
    server reports them); the account is flagged as a bot; every post fits the server's
    limit; what the server can do. Then the database is reachable and migrated. Reads only:
    nothing is posted, boosted, sent or edited. Ends with what the bot does differently on
    this server.
    """
    from bot import bootstrap, operations
    from bot.terminal import cell, row, show, table

    try:
        settings = bootstrap.Settings.from_env()
        chat = bootstrap.load_config(config)
    except ConfigError as exc:
        raise _fail_config(exc) from None
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


@app.command()
def archive(
    config: ConfigArg,
    occurrence: Annotated[
        str | None,
        typer.Option(
            "--occurrence",
            metavar="DATE",
            help="The occurrence's date (2026-12-02); default: the current or latest one.",
        ),
    ] = None,
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

    _, chat, store = _open_chat_store(config)
    try:
        occurrence_id = planning.archived_occurrence(chat, date=occurrence, now=SystemClock().now())
        posts = bootstrap.open_archive(store).posts(occurrence_id)
    except ConfigError as exc:
        raise _fail_config(exc) from None
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


OccurrenceOption = Annotated[
    str | None,
    typer.Option(
        "--occurrence",
        metavar="DATE",
        help="The occurrence's date (2026-12-02); default: the current or latest one.",
    ),
]


class ExportFormat(StrEnum):
    html = "html"
    md = "md"
    csv = "csv"
    json = "json"


def _open_chat_store(config: Path) -> tuple[Any, Any, Any]:
    """Settings, chat and open store; exits on a bad file or an unreachable database."""
    from bot import bootstrap

    try:
        settings = bootstrap.Settings.from_env()
        chat = bootstrap.load_config(config)
        store = bootstrap.open_store(settings.database_url)
    except ConfigError as exc:
        raise _fail_config(exc) from None
    except bootstrap.StoreUnavailable as exc:
        say(f"cannot open the database: {exc}", err=True)
        raise typer.Exit(1) from None
    return settings, chat, store


def _open_report(config: Path, occurrence: str | None) -> tuple[Any, Any, Any, Any, Any]:
    """Settings, chat, open store, occurrence and its report; exits on a bad file or date,
    an unreachable database, or an occurrence with nothing captured."""
    from bot import bootstrap
    from bot.runtime.clock import SystemClock

    settings, chat, store = _open_chat_store(config)
    try:
        found, report = bootstrap.occurrence_report(
            chat, store, date=occurrence, now=SystemClock().now()
        )
    except ConfigError as exc:
        store.close()
        raise _fail_config(exc) from None
    if not report.rows:
        store.close()
        typer.echo(f"Nothing captured for {found.id}: nothing to wrap up.", err=True)
        raise typer.Exit(1)
    return settings, chat, store, found, report


@app.command()
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
    from bot.exports import render, write_export

    if series:
        _export_series(config, fmt.value, occurrence, output)
        return
    _, chat, store, found, report = _open_report(config, occurrence)
    store.close()
    if output == Path("-"):
        sys.stdout.write(render(report, fmt.value))
        return
    target = _export_target(output, chat.wrapup.folder, f"{report.basename}.{fmt.value}")
    try:
        write_export(report, fmt.value, target)
    except NotWritten as exc:
        raise _fail_write(exc) from None
    typer.echo(f"Wrote {target} ({len(report.rows)} posts of {found.id}).")


def _fail_write(exc: NotWritten) -> typer.Exit:
    say(f"cannot write {exc.filename}: {exc.strerror or exc}", err=True)
    return typer.Exit(1)


def _export_target(output: Path | None, folder: Path, filename: str) -> Path:
    """Where -o sends the file: there, or into it when it is a folder; by default into the
    chat's wrapup.folder."""
    target = output if output is not None else folder
    return target / filename if output is None or target.is_dir() else target


def _export_series(config: Path, fmt: Any, occurrence: str | None, output: Path | None) -> None:
    from bot import bootstrap
    from bot.core.planning import archived_occurrence
    from bot.core.text import counted
    from bot.runtime.clock import SystemClock
    from bot.series_exports import render_series

    _, chat, store = _open_chat_store(config)
    try:
        through = (
            archived_occurrence(chat, date=occurrence, now=SystemClock().now())
            if occurrence is not None
            else None
        )
        report = bootstrap.series_report(chat, store, through=through)
    except ConfigError as exc:
        raise _fail_config(exc) from None
    finally:
        store.close()
    if report is None:
        typer.echo(f"Nothing captured for {chat.chat.id}: no series to report.", err=True)
        raise typer.Exit(1)
    if output == Path("-"):
        sys.stdout.write(render_series(report, fmt))
        return
    target = _export_target(output, chat.wrapup.folder, f"{report.basename}.{fmt}")
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


@app.command()
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
    from bot.core.checks import platform_limits
    from bot.core.text import length_for
    from bot.core.wrapup import wrapup_thread
    from bot.runtime.clock import SystemClock
    from bot.runtime.logs import configure, get_logger
    from bot.runtime.runner import install_stop_handlers
    from bot.runtime.wrapup import WrapupFailed

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
        configure(json=_json_logs(settings.log_format), level=settings.log_level)
        try:
            platforms = bootstrap.connect_platforms(chat)
        except ConfigError as exc:
            raise _fail_config(exc) from None
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
    if any(outcome not in ("published", "recovered", "skipped") for _, outcome in results):
        raise typer.Exit(1)


def _json_logs(fmt: str | None) -> bool | None:
    return None if fmt is None else fmt == "json"


if __name__ == "__main__":
    app()
