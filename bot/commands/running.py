"""Running chats: for real (`run`), rehearsed with a simulated crowd (`rehearse`), and the
hosts' console over them (`console`)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.commands.common import ConfigArg, fail_config, setup_failures
from bot.core.problems import ConfigError

if TYPE_CHECKING:
    from bot.ports.clock import Clock
    from bot.rehearsal.wiring import Staged


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
    from bot.chat_files import load_chats
    from bot.connect import check_live_limits, connect_platforms, console_platforms
    from bot.runtime.clock import SystemClock
    from bot.runtime.logs import configure, get_logger
    from bot.runtime.runner import install_stop_handlers
    from bot.settings import Settings

    clock = SystemClock()
    with setup_failures():
        settings = Settings.from_env()
        configure(json=settings.json_logs, level=settings.log_level)
        chats = load_chats(config)
        if dry_run:
            platforms = [console_platforms(chat, clock=clock) for chat in chats]
            store = bootstrap.open_store("sqlite://")  # a dry run must not touch the ledger
        else:
            platforms = [connect_platforms(chat) for chat in chats]
            for chat, chat_platforms in zip(chats, platforms, strict=True):
                check_live_limits(chat, chat_platforms, str(config))
            store = bootstrap.open_store(settings.database_url)
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
    from bot import bootstrap
    from bot.chat_files import load_config
    from bot.rehearsal import wiring
    from bot.runtime.clock import SystemClock
    from bot.runtime.logs import configure, get_logger
    from bot.runtime.runner import CompanionFailed, install_stop_handlers
    from bot.settings import Settings

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise fail_config(exc) from None
    # The posts are the show; log lines go to stderr so they do not interleave.
    configure(json=settings.json_logs, level="WARNING", stream=sys.stderr)
    clock = SystemClock()
    try:
        chat = load_config(config)
    except ConfigError as exc:
        raise fail_config(exc) from None
    store = bootstrap.open_store("sqlite://")
    stop = threading.Event()
    staged = wiring.stage_rehearsal(
        chat, speed=speed, crowd=crowd, seed=seed, folder=out, clock=clock, stop_event=stop
    )
    occurrence, agenda = staged.plan
    typer.echo(
        f"Rehearsing {chat.chat.hashtag} ({occurrence.date}) at {speed:g}x: "
        f"{len(agenda)} posts over {(occurrence.end - staged.origin).total_seconds():.0f} s"
        + (
            f", the wrap-up at {(staged.ends - staged.origin).total_seconds():.0f} s"
            if staged.capturing
            else ""
        )
        + ". Nothing is sent anywhere."
    )
    if staged.capturing:
        typer.echo(f"The crowd (seed {seed}): {staged.world.crowd.summary(chat.chat.hashtag)}.")
    else:
        typer.echo("Capture is off in this chat file (follow.enabled: false): no crowd.")
    install_stop_handlers(stop, get_logger(chat=chat.chat.id))
    shown = _rehearsal_console(staged, store, clock, console_port) if with_console else None
    try:
        boosted, rejected = wiring.play_rehearsal(staged, store, clock=clock, stop_event=stop)
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
    if staged.capturing:
        kept = ", ".join(f"{rule} {n}" for rule, n in rejected.items()) or "none"
        typer.echo(f"Boosted {boosted} posts. Not boosted, by rule: {kept}.")
        written = wiring.rehearsal_transcript(staged.config, occurrence, since=staged.started)
        if written is None:
            typer.echo("The transcript was not written: see the log above.", err=True)
            raise typer.Exit(1)
        typer.echo("Transcript:")
        for path in written:
            typer.echo(f"  {path}")
    typer.echo("Rehearsal finished.")


def _rehearsal_console(staged: Staged, store: Any, clock: Clock, port: int) -> Any:
    """The hosts' console on the rehearsal, on a thread, as `console` serves it."""
    from bot.console.wiring import rehearsal_console

    try:
        shown = rehearsal_console(
            staged.config, staged.plan, store, clock=clock, port=port, speed=staged.speed
        )
    except ConfigError as exc:
        raise fail_config(exc) from None
    except OSError as exc:
        typer.echo(f"cannot listen on port {port}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Console on http://127.0.0.1:{shown.port}/ (sign in with $TWEETCHAT_CONSOLE_TOKEN)")
    return shown


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
    from bot.chat_files import load_chats
    from bot.console.server import bind, serve
    from bot.console.wiring import console_app, console_secret, listen_address, served_chats
    from bot.runtime.clock import SystemClock
    from bot.runtime.logs import configure
    from bot.settings import Settings

    with setup_failures():
        settings = Settings.from_env()
        configure(json=settings.json_logs, level=settings.log_level)
        secret = console_secret(token_env)
        chats = load_chats(config)
        store = bootstrap.open_store(settings.database_url)
    host, port, behind_proxy = listen_address(host, port)
    try:
        sock = bind(host, port)
    except OSError as exc:
        typer.echo(f"cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Console on http://{host}:{sock.getsockname()[1]}/ (sign in with ${token_env})")
    try:
        serve(
            console_app(served_chats(chats), store, secret=secret, clock=SystemClock()),
            sock,
            behind_proxy=behind_proxy,
        )
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    for command in (run, rehearse, console):
        app.command()(command)
