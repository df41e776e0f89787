"""What a Mastodon-API server can do, found out once per run with reads only.

The start reads what it needs (the instance, NodeInfo); the multi-status read is asked only
when the first curation tick re-reads posts, or by the doctor: a chat that never boosts
never asks.

Hosts do not choose their server: Mastodon 4.3+ has everything the bot uses, older Mastodon
lacks ``/api/v2/instance`` (before 4.0) or the multi-status read (before 4.3), and
GoToSocial, Akkoma and Pleroma implement the client API in part. Each missing piece has a
fallback, logged once with what it costs (``server.fallback``).

A failure here is never a token problem: only the authenticated account read
(``verify_credentials``) can say that. A 404, a 501 or a network failure in detection means
"not offered" or "not known", and the bot uses the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from mastodon import Mastodon, MastodonError

from bot.adapters.untrusted_fields import clean_line
from bot.core.config_platforms import MastodonSettings

NODEINFO_INDEX = "/.well-known/nodeinfo"
# A NodeInfo document or a token's description is a few hundred bytes; more is not one.
_MAX_DOCUMENT_BYTES = 64 * 1024
# Pleroma and Akkoma say "2.7.2 (compatible; Akkoma 3.13.2)" in /api/v1/instance.
_COMPATIBLE = re.compile(r"\(compatible;\s*([A-Za-z][\w.-]*)\s+([^)\s]+)\)")
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_FLAKE = re.compile(r"^[0-9A-Za-z]{18}$")
_HEX = re.compile(r"^[0-9a-f]+$")

T = TypeVar("T")


@dataclass(frozen=True)
class Fallback:
    """A capability the server lacks, what the bot does instead, and what that costs."""

    capability: str
    instead: str
    cost: str


ONE_BY_ONE = Fallback(
    "multi-status read (GET /api/v1/statuses?id[]=)",
    "each curation tick re-reads the posts it may boost one by one "
    "(GET /api/v1/statuses/:id), within a request budget per tick, the least "
    "recently read first",
    "one request per post instead of one per 20; fewer posts re-read per tick",
)


@dataclass(frozen=True)
class ServerCapabilities:
    """What the server said about itself. New capabilities add a field with a default."""

    software: str  # "mastodon", "gotosocial", "akkoma", ... or "unknown"
    version: str  # as the server gives it; "" when it does not say
    version_source: str  # "NodeInfo", "/api/v1/instance" or "nothing"
    max_characters: int
    limit_source: str  # where max_characters came from
    # GET /api/v1/statuses?id[]=... (Mastodon 4.3+); None: not asked yet (see with_multi_read)
    multi_status_read: bool | None
    id_format: str  # "numeric", "ULID", "flake", "hex" or "opaque"
    domain: str  # the server's name, for bare @user handles
    streaming_url: str | None = None  # where the instance says its stream lives
    rate_limit: int | None = None  # X-RateLimit-Limit as sent; None: not sent
    fallbacks: tuple[Fallback, ...] = field(default=())

    @property
    def described(self) -> str:
        name = {"gotosocial": "GoToSocial"}.get(self.software, self.software.capitalize())
        return f"{name} {self.version}".strip() + f" (from {self.version_source})"


def id_format(value: str) -> str:
    """How a server's ids look: shown by the doctor, never used to order anything."""
    if value.isdigit():
        return "numeric"
    if _ULID.match(value):
        return "ULID"
    if _HEX.match(value):
        return "hex"
    if _FLAKE.match(value):
        return "flake"
    return "opaque"


def detect(api: Mastodon, settings: MastodonSettings, *, account_id: str) -> ServerCapabilities:
    """Ask the server with reads only; whatever it cannot answer gets its fallback. The
    multi-status read is left unasked (None): ``with_multi_read`` asks it when needed."""
    fallbacks: list[Fallback] = []
    instance_v2 = _answer(api.instance_v2)
    instance_v1 = None
    if not isinstance(instance_v2, dict):
        instance_v2 = None
        instance_v1 = _answer(api.instance_v1)
        if not isinstance(instance_v1, dict):
            instance_v1 = None
    instance = instance_v2 or instance_v1 or {}

    software, version, version_source = _software(api.session, instance, settings)
    limit, limit_source = _limit(instance_v2, instance_v1, settings)
    if instance_v2 is None:
        fallbacks.append(
            Fallback(
                "/api/v2/instance",
                f"the limits from {limit_source}",
                "none (one more request at start)",
            )
        )
    sent_limit = api.ratelimit_limit if api.ratelimit_lastcall is not None else None
    return ServerCapabilities(
        software=software,
        version=version,
        version_source=version_source,
        max_characters=limit,
        limit_source=limit_source,
        multi_status_read=None,
        id_format=id_format(account_id),
        domain=_domain(instance, settings),
        streaming_url=_streaming(instance_v2, instance_v1),
        rate_limit=sent_limit if isinstance(sent_limit, int) and sent_limit > 0 else None,
        fallbacks=tuple(fallbacks),
    )


def with_multi_read(api: Mastodon, found: ServerCapabilities) -> ServerCapabilities:
    """``found`` with the multi-status read asked: one read of a status that cannot exist
    (id 0), which a server offering the read answers with an empty list."""
    if found.multi_status_read is not None:
        return found
    if isinstance(_answer(lambda: api.statuses(["0"])), list):
        return replace(found, multi_status_read=True)
    return without_multi_read(found)


def without_multi_read(found: ServerCapabilities) -> ServerCapabilities:
    """``found`` on a server that does not offer the multi-status read (or no longer does)."""
    return replace(found, multi_status_read=False, fallbacks=(*found.fallbacks, ONE_BY_ONE))


def _answer(call: Callable[[], T]) -> T | None:
    # Any refusal or failure is "not offered or not known" here: the caller falls back.
    try:
        return call()
    except MastodonError:
        return None


def _software(
    session: requests.Session, instance: dict[str, Any], settings: MastodonSettings
) -> tuple[str, str, str]:
    timeout = settings.request_timeout.total_seconds()
    nodeinfo = read_nodeinfo(session, settings.instance, timeout=timeout)
    if nodeinfo is not None:
        return nodeinfo[0], nodeinfo[1], "NodeInfo"
    raw = instance.get("version")
    if not isinstance(raw, str) or not raw.strip():
        return "unknown", "", "nothing"
    raw = clean_line(raw.strip(), 100)
    compatible = _COMPATIBLE.search(raw)
    if compatible:
        return compatible.group(1).lower(), compatible.group(2), "/api/v1/instance"
    # GoToSocial gives its own version bare ("0.17.3 git-..."); Mastodon gives "4.2.10".
    return "mastodon" if raw[:1] in "1234" else "unknown", raw, "/api/v1/instance"


def read_nodeinfo(
    session: requests.Session, base: str, *, timeout: float
) -> tuple[str, str] | None:
    """(software name, version) from NodeInfo, or None. Read without the token, and only
    from the server's own site: the index's link is untrusted."""
    index = read_json(session, urljoin(base, NODEINFO_INDEX), timeout=timeout)
    links = index.get("links") if isinstance(index, dict) else None
    if not isinstance(links, list):
        return None
    origin = urlsplit(base)
    hrefs = [
        link["href"]
        for link in links
        if isinstance(link, dict)
        and isinstance(link.get("href"), str)
        and "nodeinfo" in str(link.get("rel", ""))
    ]
    for href in sorted(hrefs, reverse=True):  # the newest schema first (2.1 before 2.0)
        target = urlsplit(href)
        if (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
            continue
        document = read_json(session, href, timeout=timeout)
        software = document.get("software") if isinstance(document, dict) else None
        if isinstance(software, dict) and isinstance(software.get("name"), str):
            version = software.get("version")
            return (
                clean_line(software["name"].strip().lower(), 40) or "unknown",
                clean_line(version.strip(), 60) if isinstance(version, str) else "",
            )
    return None


def read_json(
    session: requests.Session, url: str, *, timeout: float, token: str | None = None
) -> Any:
    """A small JSON document read on the platform's bounded session (a deadline and a size
    cap), or None. Without ``token`` no credentials go: the session carries none, and
    Mastodon.py adds them to its own requests only. No redirect is followed."""
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    headers = {"Accept": "application/json", "User-Agent": "tweetchat"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = session.get(url, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException:
        return None
    if response.status_code != 200 or len(response.content) > _MAX_DOCUMENT_BYTES:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _limit(
    v2: dict[str, Any] | None, v1: dict[str, Any] | None, settings: MastodonSettings
) -> tuple[int, str]:
    for document, source in ((v2, "/api/v2/instance"), (v1, "/api/v1/instance")):
        if document is None:
            continue
        found = _dig(document, "configuration", "statuses", "max_characters")
        if found is None:
            found = document.get("max_toot_chars")  # Pleroma, Akkoma
        if isinstance(found, int) and not isinstance(found, bool) and found > 0:
            return found, source
    return settings.max_characters, "the chat file (platforms.mastodon.max_characters)"


def _domain(instance: dict[str, Any], settings: MastodonSettings) -> str:
    # v2 says "domain"; v1 says "uri", a bare name on Mastodon, a URL on some others.
    for value in (instance.get("domain"), instance.get("uri")):
        if isinstance(value, str) and value.strip():
            name = urlsplit(value).netloc if "//" in value else value
            if name.strip():
                return name.strip().lower()
    return urlsplit(settings.instance).netloc.lower()


def _streaming(v2: dict[str, Any] | None, v1: dict[str, Any] | None) -> str | None:
    found = _dig(v2, "configuration", "urls", "streaming") if v2 else None
    if found is None and v1 is not None:
        found = _dig(v1, "urls", "streaming_api")
    return found if isinstance(found, str) and found else None


def _dig(document: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document
