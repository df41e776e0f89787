"""The console's composition: its secret from the environment, its application over the
store, where it listens, and the console beside a rehearsal. The worker's side of the
commands is wired with the rest of a chat, in ``bot.bootstrap`` and ``bot.wiring``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.config import ChatConfig
from bot.core.problems import ConfigError, Problem
from bot.ports.clock import Clock
from bot.runtime.logs import get_logger, register_secret

DEFAULT_TOKEN_ENV = "TWEETCHAT_CONSOLE_TOKEN"  # noqa: S105 (a name, not a secret)


def console_secret(name: str, env: Mapping[str, str] | None = None) -> str:
    """The console's sign-in secret, from the environment: the console never starts open."""
    env = os.environ if env is None else env
    secret = env.get(name, "").strip()
    if not secret:
        raise ConfigError(
            "environment",
            [
                Problem(
                    (name,),
                    f"the environment variable {name} is not set, and the console does not "
                    "start without a secret for the hosts to sign in with",
                    f"export {name}=$(python3 -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))') and give it to the hosts",
                )
            ],
        )
    register_secret(secret)
    return secret


def console_app(
    chats: Sequence[tuple[ChatConfig, Any]],
    store: Any,
    *,
    secret: str,
    clock: Clock,
    speed: float = 1.0,
) -> Any:
    """The console over the store: ``chats`` pairs each chat file with the function that
    gives its current occurrence and agenda at a time (``next_plan``, or a rehearsal's)."""
    from bot.adapters.commands_sql import HostCommandsSql
    from bot.adapters.console_sql import ConsoleReads
    from bot.adapters.health_sql import HealthSql
    from bot.adapters.store_curation import CurationSql
    from bot.adapters.store_spending import SpendingSql
    from bot.console.access import Access
    from bot.console.app import create_app
    from bot.console.state import ConsoleChat, StateReader

    curation = CurationSql(store.engine)
    commands = HostCommandsSql(store.engine)
    reader = StateReader(
        reads=ConsoleReads(store.engine),
        ledger=store,
        commands=commands,
        curation=curation,
        returning=lambda chat_id, occurrence: curation.returning_authors(
            chat_id, before=occurrence
        ),
        spending=SpendingSql(store.engine).spending,
        health=HealthSql(store.engine).health,
    )
    return create_app(
        chats=[ConsoleChat(config, plan, speed) for config, plan in chats],
        reader=reader,
        commands=commands,
        access=Access(secret),
        clock=clock,
        log=get_logger(component="console"),
    )


def served_chats(chats: Sequence[ChatConfig]) -> list[tuple[ChatConfig, Any]]:
    """Each chat with its next occurrence and agenda at a time, as `tweetchat console`
    serves them (see ``console_app``)."""
    from bot.core.planning import next_plan

    return [(chat, lambda now, chat=chat: next_plan(chat, now)) for chat in chats]


def listen_address(
    host: str | None, port: int | None, env: Mapping[str, str] | None = None
) -> tuple[str, int, bool]:
    """Where to listen, and whether behind Heroku's router: with ``PORT`` set (Heroku's
    ``web`` process), on every interface at that port, else on loopback at 8765."""
    from bot.console.server import DEFAULT_HOST, DEFAULT_PORT

    env = os.environ if env is None else env
    heroku = bool(env.get("PORT"))
    host = host or ("0.0.0.0" if heroku else DEFAULT_HOST)  # noqa: S104 (Heroku's router)
    return host, port if port is not None else int(env.get("PORT") or DEFAULT_PORT), heroku


def rehearsal_console(
    config: ChatConfig, plan: Any, store: Any, *, clock: Clock, port: int, speed: float
) -> Any:
    """The console on a rehearsal's database, started on a thread of its own (ConfigError
    without its secret, OSError if it cannot listen)."""
    from bot.console.server import DEFAULT_HOST, ConsoleThread, bind

    secret = console_secret(DEFAULT_TOKEN_ENV)
    app = console_app([(config, lambda _now: plan)], store, secret=secret, clock=clock, speed=speed)
    shown = ConsoleThread(app, bind(DEFAULT_HOST, port))
    shown.start()
    return shown
