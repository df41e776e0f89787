"""Links and handles the bot posts in its own name, built from what it can vouch for.

A post's ``url`` and its author's handle come from the author's server: a hostile server can
make them point anywhere (``https://evil.example/verify-your-account``) or carry text that
reads as something else once posted. What the bot posts itself is rebuilt here from an id
and a handle that match strict patterns, on a host the bot knows: the bot's own instance
(which shows any post it has, local or remote, at ``/@<acct>/<id>``) or x.com.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.core.model import ArchivedPost

# A Mastodon-API account name: letters, digits and underscores, dots and dashes inside
# (Mastodon's own rule), at most 64 characters; then the account's domain, if remote: DNS
# labels, and a port as a server on a loopback names itself (``localhost:3000``).
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_MASTODON_ACCT = re.compile(
    r"@?(?P<user>[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?)"
    rf"(?:@(?P<domain>{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?))?"
)
# Status ids: numbers on Mastodon, ULIDs on GoToSocial, flake ids on Akkoma; never a path.
_MASTODON_ID = re.compile(r"[A-Za-z0-9]{1,64}")
_X_HANDLE = re.compile(r"@?(?P<user>[A-Za-z0-9_]{1,15})")
_X_ID = re.compile(r"[0-9]{1,20}")


def checked_handle(handle: str, platform: str) -> str | None:
    """The handle as ``@user@domain`` (Mastodon) or ``@user`` (X) when it is one, else
    None: never text that merely starts like a handle."""
    if platform == "mastodon":
        found = _MASTODON_ACCT.fullmatch(handle)
        if found is None:
            return None
        domain = found["domain"]
        return f"@{found['user']}@{domain.lower()}" if domain else f"@{found['user']}"
    if platform == "x":
        found = _X_HANDLE.fullmatch(handle)
        return f"@{found['user']}" if found else None
    return None


def vouched_post_url(post: ArchivedPost, *, instance: str | None) -> str | None:
    """A link to ``post`` on a host the bot knows, built from its id and handle, or None when
    they do not look like an id and a handle. ``instance``: the bot's Mastodon server
    (``https://host``), whose copy of the post the archive holds."""
    if post.platform == "mastodon":
        # The config's instance address: checked (http or https, a host, no path) as read.
        parts = urlsplit(instance or "")
        handle = checked_handle(post.author.handle, "mastodon")
        if not parts.hostname or handle is None or not _MASTODON_ID.fullmatch(post.id):
            return None
        # A local account is shown at /@user, a remote one at /@user@domain.
        acct = handle[1:].removesuffix(f"@{parts.hostname.lower()}")
        return f"{parts.scheme}://{parts.netloc.lower()}/@{acct}/{post.id}"
    if post.platform == "x":
        if not _X_ID.fullmatch(post.id):
            return None
        handle = checked_handle(post.author.handle, "x")
        user = handle[1:] if handle else "i/web"
        return f"https://x.com/{user}/status/{post.id}"
    return None
