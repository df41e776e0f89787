"""What `tweetchat doctor` says about a Mastodon-API server: the token's scopes, the
capabilities found, what the bot does differently there, and what only the chat can tell.

Everything here is read; nothing is posted, boosted, sent or edited to find out.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import urljoin

from mastodon import Mastodon, MastodonError

from bot.adapters.mastodon_capabilities import ServerCapabilities, read_json
from bot.ports.operations import Capability, ServerFact

OAUTH_INFO_PATH = "/oauth/token/info"
# Mastodon's scopes: the broad one, or the one granular scope that covers what the bot does.
_NEEDED: dict[Capability, tuple[str, str]] = {
    "read": ("read", "read:statuses"),
    "post": ("write", "write:statuses"),
    "boost": ("write", "write:statuses"),
}

UNKNOWABLE = (
    "whether the server keeps the Idempotency-Key of a post (if not, a post retried after a "
    "crash is found among the bot's own posts instead)",
    "whether each post is accepted (the server's filters and moderation decide when it is sent)",
    "whether an author's server lets the bot boost a given post (refusals are recorded as "
    "the author's wish and never retried)",
    "how busy the chat will be, and so how much of the rate limit it will use",
)


def token_scopes(api: Mastodon, *, base: str, timeout: float) -> frozenset[str] | None:
    """The token's scopes, where the server reports them: ``/api/v1/apps/verify_credentials``
    on Mastodon 4.3+, else OAuth's ``/oauth/token/info`` (Doorkeeper, older Mastodon); None
    when neither says."""
    try:
        app: Any = api.app_verify_credentials()
    except MastodonError:
        app = None
    found = _scopes(app.get("scopes") if isinstance(app, dict) else None)
    if found is None:
        # Sent to the instance itself (the address in the chat file), like every API call.
        url = urljoin(base, OAUTH_INFO_PATH)
        info = read_json(api.session, url, timeout=timeout, token=str(api.access_token))
        found = _scopes(info.get("scope", info.get("scopes")) if isinstance(info, dict) else None)
    return found


def _scopes(value: Any) -> frozenset[str] | None:
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        return None
    return frozenset(value)


def allows(scopes: Collection[str] | None, capability: Capability) -> bool | None:
    if scopes is None:
        return None
    return any(scope in scopes for scope in _NEEDED[capability])


def server_facts(capabilities: ServerCapabilities) -> tuple[ServerFact, ...]:
    c = capabilities
    facts = [
        ServerFact("server", True, c.described),
        ServerFact(
            "limits",
            True,
            f"{c.max_characters} characters per post, from {c.limit_source}; "
            + (
                f"{c.rate_limit} requests per 5 minutes (X-RateLimit-Limit)"
                if c.rate_limit
                else "no rate limit sent: Mastodon's 300 requests per 5 minutes assumed"
            ),
        ),
        ServerFact(
            "multi-status read",
            True,
            "offered: a curation tick re-reads up to 20 posts per request"
            if c.multi_status_read
            else "not offered: posts are re-read one by one, within a request budget per tick",
        ),
        ServerFact("ids", True, f"{c.id_format}; never ordered or compared as numbers"),
    ]
    return tuple(facts)


def differences(capabilities: ServerCapabilities) -> tuple[str, ...]:
    return tuple(
        f"{f.capability}: not offered; {f.instead} (cost: {f.cost})" for f in capabilities.fallbacks
    )
