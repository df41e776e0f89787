"""One thread at a time acts on a ledger key, within a process.

The ledger settles which worker acts (a claim is unique, and only the owner of an occurrence
claims), but inside one worker two companions may meet the same key: the curator finishing a
boost a crash left claimed, and the hosts' command to boost that very post. Each would call
the platform; Mastodon answers a repeat boost with the same boost, but not every server does,
and two calls are two requests. Holding the key's lock, the second finds the key done.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


@contextmanager
def acting_on(key: str) -> Iterator[None]:
    """Hold ``key`` for the length of the block (re-read its ledger entry inside it)."""
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        yield
