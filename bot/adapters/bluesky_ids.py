"""Names of Bluesky records: the bot's post ids, web links, and record keys derived from
ledger keys.

A post is ``at://<did>/app.bsky.feed.post/<rkey>``; the store keeps ids of at most 64
characters, so a post's id here is ``<did>/<rkey>`` (46 characters for a did:plc), and the
collection is implied. A post whose id would not fit (a very long did:web) is not kept.
"""

from __future__ import annotations

import hashlib
import re

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
MAX_ID = 64
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# A derived key's time lies in 2023 (a year of microseconds from here), before any key the
# bot's own client would choose now, and never in the future.
_TID_EPOCH_US = 1_672_531_200_000_000  # 2023-01-01T00:00:00Z
_TID_SPAN_US = 1 << 45  # about 1.1 years
_AT_URI = re.compile(r"^at://(did:[a-z]+:[A-Za-z0-9._:%-]+)/([a-zA-Z0-9.]+)/([A-Za-z0-9._~:-]+)$")


class BadId(ValueError):
    """Not a Bluesky post id or at:// address."""


def tid_for(key: str) -> str:
    """A valid TID (13 characters) derived from ``key`` alone: the same planned post gets the
    same record key in every attempt, so a retry after a lost answer cannot make a second
    record (the repository refuses a key it holds)."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    micros = _TID_EPOCH_US + (digest >> 10) % _TID_SPAN_US
    value = (micros << 10) | (digest & 0x3FF)  # the top bit stays 0, as a TID requires
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def post_id(uri: str) -> str:
    """``<did>/<rkey>`` of a post's at:// address; BadId if it is not a post or too long."""
    did, collection, rkey = split_uri(uri)
    if collection != POST:
        raise BadId(f"not a post: {collection}")
    found = f"{did}/{rkey}"
    if len(found) > MAX_ID:
        raise BadId("the author's identifier is too long to keep")
    return found


def record_id(did: str, rkey: str) -> str:
    """The id of any record of the bot's (a post, a repost): ``<did>/<rkey>``."""
    return f"{did}/{rkey}"


def post_uri(post: str) -> str:
    """The at:// address of a post id (an at:// address is handed back as it is)."""
    if post.startswith("at://"):
        return post
    did, sep, rkey = post.rpartition("/")
    if not sep or not did.startswith("did:"):
        raise BadId(f"not a Bluesky post id: {post[:80]!r}")
    return f"at://{did}/{POST}/{rkey}"


def split_uri(uri: str) -> tuple[str, str, str]:
    match = _AT_URI.match(uri)
    if match is None:
        raise BadId(f"not an at:// record address: {uri[:80]!r}")
    return match.group(1), match.group(2), match.group(3)


def web_url(handle_or_did: str, rkey: str) -> str:
    """The post's page on bsky.app, where people read it."""
    return f"https://bsky.app/profile/{handle_or_did}/post/{rkey}"
