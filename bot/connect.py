"""Connecting a chat's platforms: the real ones with the tokens from the environment, or
console ones for a dry run; and the live check of the tokens and limits before a start.

Platform libraries are imported only when a chat uses the platform, so that `validate` and
`plan` start fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.core.checks import check
from bot.core.config import ChatConfig
from bot.core.problems import ConfigError, Problem
from bot.ports.clock import Clock
from bot.ports.errors import PlatformError, TokenRefused
from bot.ports.posting import PostingPlatform
from bot.runtime.logs import get_logger, register_secret
from bot.settings import Settings


def connect_platforms(
    config: ChatConfig, *, env: Mapping[str, str] | None = None, keep_sessions: bool = True
) -> dict[str, PostingPlatform]:
    """The real platforms of the chat; every missing token is reported at once.
    ``keep_sessions``: a platform's login may be saved in the store (not for `doctor`)."""
    env = os.environ if env is None else env
    problems = []
    platforms: dict[str, PostingPlatform] = {}
    mastodon = config.platforms.mastodon
    if mastodon is not None:
        token = env.get(mastodon.token_env, "").strip()
        if not token:
            problems.append(
                Problem(
                    ("platforms", "mastodon", "token_env"),
                    f"the environment variable {mastodon.token_env} is not set",
                    f"export {mastodon.token_env}=<the bot account's access token> "
                    "(scopes read and write)",
                )
            )
        else:
            register_secret(token)
            from bot.adapters.mastodon import MastodonPlatform

            platforms["mastodon"] = MastodonPlatform(
                mastodon, token=token, log=get_logger(chat=config.chat.id)
            )
    if config.platforms.x is not None:
        x = _connect_x(config, env, problems)
        if x is not None:
            platforms["x"] = x
    if config.platforms.bluesky is not None:
        bluesky = _connect_bluesky(config, env, problems, keep_sessions=keep_sessions)
        if bluesky is not None:
            platforms["bluesky"] = bluesky
    if problems:
        raise ConfigError("environment", problems)
    return platforms


# The X app's four OAuth 1.0a user-context credentials: the setting naming each variable.
_X_CREDENTIALS = ("api_key_env", "api_secret_env", "access_token_env", "access_secret_env")


def _connect_x(
    config: ChatConfig, env: Mapping[str, str], problems: list[Problem]
) -> PostingPlatform | None:
    settings = config.platforms.x
    assert settings is not None
    values = {}
    for field in _X_CREDENTIALS:
        name = getattr(settings, field)
        value = env.get(name, "").strip()
        if not value:
            problems.append(
                Problem(
                    ("platforms", "x", field),
                    f"the environment variable {name} is not set",
                    f"export {name}=<from the X app's Keys and tokens (OAuth 1.0a, read and "
                    "write)>; the four X variables are X_API_KEY, X_API_SECRET, "
                    "X_ACCESS_TOKEN and X_ACCESS_SECRET unless platforms.x names others",
                )
            )
        else:
            register_secret(value)
            values[field] = value
    if len(values) < len(_X_CREDENTIALS):
        return None
    from bot.adapters.x import Credentials, XPlatform
    from bot.runtime.clock import SystemClock
    from bot.runtime.spending import SpendingMeter

    clock = SystemClock()
    log = get_logger(chat=config.chat.id)
    return XPlatform(
        settings,
        credentials=Credentials(
            api_key=values["api_key_env"],
            api_secret=values["api_secret_env"],
            access_token=values["access_token_env"],
            access_secret=values["access_secret_env"],
        ),
        meter=SpendingMeter(platform="x", settings=settings, clock=clock, log=log),
        clock=clock,
        log=log,
    )


def _connect_bluesky(
    config: ChatConfig, env: Mapping[str, str], problems: list[Problem], *, keep_sessions: bool
) -> PostingPlatform | None:
    settings = config.platforms.bluesky
    assert settings is not None
    password = env.get(settings.app_password_env, "").strip()
    if not password:
        problems.append(
            Problem(
                ("platforms", "bluesky", "app_password_env"),
                f"the environment variable {settings.app_password_env} is not set",
                f"export {settings.app_password_env}=<an app password of {settings.handle}> "
                "(Bluesky: Settings > Privacy and security > App passwords)",
            )
        )
        return None
    register_secret(password)
    from bot.adapters.bluesky import BlueskyPlatform
    from bot.adapters.bluesky_session import BlueskySession
    from bot.adapters.store_bluesky import BlueskySessionsSql
    from bot.runtime.clock import SystemClock

    clock = SystemClock()
    sessions = BlueskySessionsSql(Settings.from_env(env).database_url, writable=keep_sessions)
    session = BlueskySession(settings, password=password, sessions=sessions, clock=clock)
    return BlueskyPlatform(settings, session=session, clock=clock)


def console_platforms(
    config: ChatConfig, *, clock: Clock, stream: TextIO | None = None
) -> dict[str, PostingPlatform]:
    from bot.adapters.console import ConsolePlatform
    from bot.core.checks import platform_limits

    limits = platform_limits(config)
    return {
        name: ConsolePlatform(
            name=name,
            clock=clock,
            zone=ZoneInfo(config.chat.timezone),
            max_characters=limits.get(name, 500),
            stream=stream,
        )
        for name in config.platforms.names()
    }


def check_live_limits(
    config: ChatConfig, platforms: Mapping[str, PostingPlatform], path: str
) -> None:
    """Before posting anything: every token the servers refuse, and lengths against the
    limits the servers announce. A server that cannot be reached now is not an error: the
    posts retry it in their time.

    The limit is all this asks, not the doctor's whole inspection (``account_facts``),
    which would open and close a stream and read more than a start uses; asking a
    Mastodon server its limit reads the account first, which is what refuses a bad token.
    """
    limits = {}
    refused = []
    for name, platform in platforms.items():
        try:
            limits[name] = platform.max_characters()
        except TokenRefused as exc:
            refused.append(_refused_token(config, name, exc.reason))
        except PlatformError as exc:
            # Not the token (a missing endpoint, an unreachable server): the limits come
            # from the chat file, and the posts find out in their time.
            get_logger(platform=name).warning("limits.unknown", reason=exc.reason)
    if refused:
        raise ConfigError("environment", refused)
    problems = check(config, limits=limits)
    if problems:
        raise ConfigError(path, problems)


def _refused_token(config: ChatConfig, platform: str, reason: str) -> Problem:
    mastodon = config.platforms.mastodon
    held_in = (
        mastodon.token_env if platform == "mastodon" and mastodon else f"{platform}'s variables"
    )
    return Problem(
        ("platforms", platform),
        f"the server refused the token in {held_in} ({reason})",
        "create a new access token for the bot account (scopes read and write) and export it",
    )
