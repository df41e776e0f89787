"""`tweetchat doctor`: is everything in place for a chat to run? One row per check, each
failure with the fix a host can apply.

Platforms are asked through ``Inspectable``: reads only. Nothing is posted, boosted, sent or
edited to find out, on any server: what only a write could tell is said plainly instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.checks import check
from bot.core.config import ChatConfig
from bot.ports.errors import PlatformError, TokenRefused
from bot.ports.operations import AccountFacts, Capability, Inspectable

_NEEDS: dict[Capability, str] = {
    "read": "reading posts (follow the chat)",
    "post": "posting (questions, wrap-up)",
    "boost": "boosting (notable answers)",
}
# What to do about each failure, per platform; "*" when a platform has no advice of its own.
_FIXES: dict[str, dict[str, str]] = {
    "mastodon": {
        "token": "create an application in Preferences > Development with scopes read and "
        "write, and export its access token in the variable token_env names",
        "scope": "the token lacks a scope: give the application read and write scopes "
        "(Preferences > Development), then export the new access token",
        "bot": "tick 'This is an automated account' in Preferences > Public profile",
    },
    "bluesky": {
        "token": "create an app password (Bluesky: Settings > Privacy and security > App "
        "passwords) and export it in the variable app_password_env names; check the handle "
        "and the service in the chat file",
        "scope": "create a new app password and export it",
        "bot": "add the self-label 'bot' to the account's profile record "
        "(app.bsky.actor.profile, labels)",
    },
    "*": {
        "token": "export a valid access token for the bot account",
        "scope": "give the token permission to read, post and boost",
        "bot": "flag the account as automated in its profile settings",
    },
}
_UNREACHABLE_FIX = "check the server address in the chat file, and that the server is up"


@dataclass(frozen=True)
class Check:
    area: str  # a platform's name, or "database"
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _fix(platform: str, what: str) -> str:
    return _FIXES.get(platform, _FIXES["*"])[what]


@dataclass(frozen=True)
class PlatformReport:
    """The rows of one platform, and what the doctor says after the table about it."""

    checks: list[Check]
    differences: tuple[str, ...] = ()
    unknowable: tuple[str, ...] = ()


def check_platform(name: str, platform: Inspectable, config: ChatConfig) -> PlatformReport:
    try:
        facts = platform.account_facts()
    except TokenRefused as exc:
        return PlatformReport([Check(name, "token", False, exc.reason, _fix(name, "token"))])
    except PlatformError as exc:
        # A missing endpoint or a server that cannot be reached: never the token's fault.
        return PlatformReport([Check(name, "server", False, exc.reason, _UNREACHABLE_FIX)])
    checks = [Check(name, "token", True, f"works: signed in as @{facts.username}")]
    checks += _scopes(name, platform)
    checks += [Check(name, f.name, f.ok, f.detail, f.fix) for f in facts.server]
    checks += _account(name, facts, config)
    return PlatformReport(checks, facts.differences, facts.unknowable)


def _scopes(name: str, platform: Inspectable) -> list[Check]:
    checks = []
    for capability, need in _NEEDS.items():
        allowed = platform.allows(capability)
        if allowed is None:
            checks.append(
                Check(
                    name,
                    f"scope: {capability}",
                    True,
                    f"not known: the server does not report the token's scopes; {need} is "
                    "first tried when the chat runs",
                )
            )
        elif allowed:
            checks.append(Check(name, f"scope: {capability}", True, f"allows {need}"))
        else:
            checks.append(
                Check(
                    name,
                    f"scope: {capability}",
                    False,
                    f"the token's scopes do not allow {need}",
                    _fix(name, "scope"),
                )
            )
    return checks


def _account(name: str, facts: AccountFacts, config: ChatConfig) -> list[Check]:
    checks = []
    if facts.bot:
        checks.append(Check(name, "bot flag", True, "the account is flagged as a bot"))
    else:
        checks.append(
            Check(
                name,
                "bot flag",
                False,
                "the account is not flagged as a bot, as the platform's rules ask",
                _fix(name, "bot"),
            )
        )
    too_long = check(config, limits={name: facts.max_characters})
    if too_long:
        checks.append(
            Check(
                name,
                "post length",
                False,
                "; ".join(p.message for p in too_long),
                "shorten those posts in the chat file",
            )
        )
    else:
        checks.append(
            Check(
                name,
                "post length",
                True,
                f"every post fits the server's limit of {facts.max_characters} characters",
            )
        )
    return checks
