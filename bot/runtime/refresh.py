"""Re-reading the posts a curation tick may boost: their counts, author and visibility as
the server shows them now.

Most servers re-read up to 20 posts per request; some only one (Mastodon before 4.3). There
a tick re-reads only as many as the platform's request budget allows, the least recently
read first, and a post not re-read this tick counts with its latest re-read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta

from bot.core.curation import Candidate
from bot.core.model import ArchivedPost
from bot.ports.curation import CuratingPlatform, PostState, RefreshBudget

# Posts of a window re-read per tick, the latest: five requests at most (20 per request).
# Only these are read from the archive too: a busy chat's window holds many more.
MAX_REFRESH = 100

Call = Callable[[Callable[[], list[PostState]]], list[PostState]]


class Refresher:
    """Re-reads for one curator, remembering across its ticks what each read said."""

    def __init__(self, platform: CuratingPlatform, *, every: timedelta, call: Call) -> None:
        self._platform = platform
        self._every = every
        self._call = call  # with the curator's retries
        self._reads = 0
        self._last_read: dict[str, int] = {}  # post id -> the read that last asked for it
        self._states: dict[str, PostState] = {}

    def candidates(self, posts: Sequence[ArchivedPost]) -> list[Candidate]:
        """The posts as the server shows them now, the newest first; a post that is gone or
        hidden from the bot is left out."""
        window = sorted(posts, key=lambda p: p.created_at, reverse=True)[:MAX_REFRESH]
        if not window:
            return []
        chosen = window
        budget = (
            self._platform.refresh_limit(self._every)
            if isinstance(self._platform, RefreshBudget)
            else None
        )
        if budget is not None and len(chosen) > budget:
            # The least recently re-read first; the newest among them (sorted is stable).
            chosen = sorted(chosen, key=lambda p: self._last_read.get(p.id, -1))[:budget]
        self._reads += 1
        self._last_read.update((p.id, self._reads) for p in chosen)
        states = {
            s.post_id: s
            for s in self._call(lambda: self._platform.fetch_posts([p.id for p in chosen]))
        }
        for post in chosen:
            if post.id in states:
                self._states[post.id] = states[post.id]
            else:
                self._states.pop(post.id, None)  # deleted, or hidden from the bot
        candidates = []
        for post in window:
            state = self._states.get(post.id)
            if state is None:
                continue
            fresh = replace(
                post,
                replies=state.replies,
                boosts=state.boosts,
                favourites=state.favourites,
                author=state.author,
            )
            candidates.append(Candidate(fresh, state.visibility, state.reblog_refused))
        return candidates
