"""Promises that outlive the chat: "forget me", "stop" and deletions reach the files.

The transcript files are written at the wrap-up, but people keep their say over them: for
``wrapup.listen`` after each occurrence's wrap-up (7 days by default) the bot still reads its
mentions and still notices posts deleted from the server, and then writes the files of every
occurrence concerned (and the series' files) again, from the archive as it is now.

``Aftercare``, a companion of every occurrence a worker runs, reads the mentions while no
curator does (before the chat, and after it: the curator's "stop" and "forget me" rewrite
the files before they are confirmed), and re-checks the archived posts of the occurrences
still listened to, once at every start and then at a modest pace.

The pace, in requests to the bot's server (Mastodon allows 300 per 5 minutes per account):
mentions once a minute (5 per 5 minutes), and ``RECHECK_POSTS`` archived posts every
``RECHECK_INTERVAL``: one multi-status request, or 20 on a server that only reads statuses
one by one (under 7% of the limit even then, beside a chat that may be running). A chat of
600 posts is thus checked whole every 2.5 hours, some 60 times in 7 days. The stream's
delete events are not used for this: they cover the chat itself (the follower reads them),
but holding a stream open for days per chat costs a connection all along, is dropped by
proxies, and tells nothing of a post without the hashtag (an untagged reply).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.config import ChatConfig
from bot.core.wrapup import wrapup_time
from bot.ports.clock import Clock
from bot.ports.errors import PlatformError
from bot.ports.following import Archive, ArchiveHistory, HashtagSource
from bot.runtime.clock import wait_until
from bot.runtime.curator import Curator
from bot.runtime.follow_settle import says_gone
from bot.runtime.follow_window import follow_window
from bot.runtime.retry import ShutdownRequested, call_with_retry
from bot.runtime.wrapup import occurrence_of

MENTIONS_INTERVAL = timedelta(minutes=1)
RECHECK_INTERVAL = timedelta(minutes=5)
RECHECK_POSTS = 20  # one multi-status request


class Aftercare:
    """Keeps the promises to people for the occurrences whose wrap-up is less than
    ``wrapup.listen`` ago, while this worker runs ``occurrence`` (see the module's text)."""

    def __init__(
        self,
        *,
        config: ChatConfig,
        curator: Curator,
        source: HashtagSource,
        archive: Archive,
        history: ArchiveHistory,
        clock: Clock,
        stop_event: threading.Event,
        log: Any,
    ) -> None:
        self._config = config
        # Mentions are read, and opt-outs written to the files, as during the chat.
        self._curator = curator
        self._source = source
        self._archive = archive
        self._history = history
        self._clock = clock
        self._stop = stop_event
        self._log = log.bind(platform=source.name)
        self._checked: dict[str, str] = {}  # occurrence -> the last post id re-checked

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        """Listen until this occurrence's wrap-up has gone out (a series' next occurrence
        takes over from there); a pass at once, then one every minute outside the chat,
        while the curator reads the mentions itself."""
        curating = follow_window(
            occurrence,
            agenda,
            margin=self._config.follow.margin,
            after=self._config.wrapup.after,
        )
        until = wrapup_time(self._config, occurrence)
        log = self._log.bind(occurrence=occurrence.id)
        recheck_at = self._clock.now()
        while not self._stop.is_set():
            now = self._clock.now()
            try:
                if not curating.start <= now < curating.end:
                    self._curator.read_mentions(occurrence, log)
                if now >= recheck_at:
                    self.recheck(now, log)
                    recheck_at = now + RECHECK_INTERVAL
            except ShutdownRequested:
                return
            except PlatformError as exc:
                log.warning("aftercare.failed", reason=exc.reason)
            except OSError as exc:
                # The files could not be written: no confirmation went out; tried again.
                log.error("aftercare.files_failed", reason=str(exc))
            if now >= until:
                return
            if not wait_until(self._clock, self._stop, min(now + MENTIONS_INTERVAL, until)):
                return

    def listened(self, now: datetime) -> list[str]:
        """The occurrences whose wrap-up went out less than ``wrapup.listen`` ago."""
        listen = self._config.wrapup.listen
        return [
            o
            for o in self._history.occurrences(self._config.chat.id)
            if timedelta(0)
            <= now - wrapup_time(self._config, occurrence_of(self._config, o))
            < listen
        ]

    def recheck(self, now: datetime, log: Any) -> None:
        """Look up to ``RECHECK_POSTS`` archived posts of the listened occurrences again, on
        from where the last look stopped; the ones gone from the server leave the archive,
        and the files of their occurrences are written again."""
        name = self._source.name
        budget = RECHECK_POSTS
        changed: set[str] = set()
        for occurrence_id in self.listened(now):
            if budget <= 0:
                break
            own = {p.id for p in self._archive.own_posts(occurrence_id, name)}
            ids = sorted(self._archive.ids(occurrence_id, name) - own)
            after = self._checked.get(occurrence_id, "")
            batch = [i for i in ids if i > after][:budget] or ids[:budget]
            if not batch:
                continue
            budget -= len(batch)
            self._checked[occurrence_id] = batch[-1]
            if self._gone(occurrence_id, batch, log):
                changed.add(occurrence_id)
        if changed and self._curator.files is not None:
            files = self._curator.files.rewrite(changed)
            log.info("aftercare.rewritten", occurrences=sorted(changed), files=len(files))

    def _gone(self, occurrence_id: str, ids: Sequence[str], log: Any) -> int:
        """Remove the posts of ``ids`` the server no longer has; how many went."""
        states = self._call(partial(self._curator.platform.fetch_posts, ids), log)
        present = {s.post_id for s in states}
        removed = 0
        for post_id in ids:
            if post_id in present:
                continue
            # Missing from the batch may mean hidden from that read only: asked one by one.
            item = self._call(partial(self._source.fetch, post_id), log)
            if not says_gone(item):
                continue
            now = self._clock.now()
            if self._archive.delete(self._source.name, post_id, occurrence=occurrence_id, now=now):
                removed += 1
                log.info("capture.deleted", id=post_id, reason="gone from the server")
        return removed

    def _call(self, action: Any, log: Any) -> Any:
        return call_with_retry(action, stop_event=self._stop, log=log)
