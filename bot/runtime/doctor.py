"""`tweetchat doctor`: is everything in place for a chat to run? One row per check, each
failure with the fix a host can apply.

Platforms are asked through ``Inspectable``: nothing is posted or boosted to find out.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.checks import check
from bot.core.config import ChatConfig
from bot.ports import Capability, Inspectable, PermanentError, PlatformError

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


def check_platform(name: str, platform: Inspectable, config: ChatConfig) -> list[Check]:
    try:
        facts = platform.account_facts()
    except PermanentError as exc:
        return [Check(name, "token", False, exc.reason, _fix(name, "token"))]
    except PlatformError as exc:
        return [Check(name, "token", False, exc.reason, _UNREACHABLE_FIX)]
    checks = [Check(name, "token", True, f"works: signed in as @{facts.username}")]
    for capability, need in _NEEDS.items():
        try:
            platform.probe(capability)
        except PermanentError as exc:
            checks.append(
                Check(name, f"scope: {capability}", False, exc.reason, _fix(name, "scope"))
            )
        except PlatformError as exc:
            checks.append(Check(name, f"scope: {capability}", False, exc.reason, _UNREACHABLE_FIX))
        else:
            checks.append(Check(name, f"scope: {capability}", True, f"allows {need}"))
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
