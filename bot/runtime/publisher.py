"""Exactly-once publishing of planned posts through the ledger: claim, post, record.

A crash can happen between any two steps. What is left behind says what to do next time:
no row (never attempted), ``claimed`` (maybe posted: look on the platform before posting
again), ``failed`` (not posted: try again while in time), ``done`` or ``missed`` (final).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from bot.core.agenda import PlannedPost
from bot.ports.clock import Clock
from bot.ports.errors import PermanentError, PlatformError
from bot.ports.operations import Ownership
from bot.ports.posting import Ledger, PostingPlatform, Published
from bot.runtime.retry import ShutdownRequested, call_with_retry

Outcome = Literal["published", "recovered", "skipped", "missed", "failed", "interrupted", "taken"]

# How far before the claim a recovered post may have been created (clock skew with the server).
_RECOVERY_SKEW = timedelta(minutes=2)


class PostPublisher:
    def __init__(
        self,
        *,
        ledger: Ledger,
        platforms: Mapping[str, PostingPlatform],
        clock: Clock,
        grace: timedelta,
        stop_event: threading.Event,
        log: Any,
        ownership: Ownership | None = None,
    ) -> None:
        self._ledger = ledger
        self._ownership = ownership
        self._platforms = platforms
        self._clock = clock
        self._grace = grace
        self._stop = stop_event
        self._log = log
        # Posts go out one at a time so a thread keeps its order.
        self._lock = threading.Lock()

    def publish(self, post: PlannedPost) -> Outcome:
        with self._lock:
            log = self._log.bind(key=post.key, platform=post.platform, slot=post.slot)
            try:
                return self._publish(post, log)
            except ShutdownRequested:
                log.warning("post.interrupted", reason="shutdown; the key stays claimed")
                return "interrupted"

    def _publish(self, post: PlannedPost, log: Any) -> Outcome:
        now = self._clock.now()
        late = now - post.at
        entry = self._ledger.get(post.key)
        if entry is not None and entry.state in ("done", "missed"):
            log.debug("post.skipped", state=entry.state)
            return "skipped"
        if self._ownership is not None and not self._ownership.owns(post.occurrence, now=now):
            # The lease lapsed or was taken over: the owner does this post, not us.
            log.warning("post.skipped", reason="this worker no longer owns the occurrence")
            return "taken"
        platform = self._platforms[post.platform]
        if entry is not None and entry.state == "claimed":
            # A worker died between claiming and recording: the post may exist already.
            found = call_with_retry(
                lambda: platform.find_own_post(post.text, since=entry.claimed_at - _RECOVERY_SKEW),
                stop_event=self._stop,
                log=log,
            )
            if found is not None:
                self._ledger.record(post.key, found, now=self._clock.now())
                log.info("post.recovered", remote_id=found.remote_id, url=found.url)
                return "recovered"
        if late > self._grace:
            self._ledger.mark(
                post.key,
                "missed",
                error=f"{late} late, past the grace of {self._grace}",
                now=now,
                occurrence=post.occurrence,
                platform=post.platform,
                planned_at=post.at,
            )
            log.warning(
                "post.missed",
                late_s=round(late.total_seconds(), 1),
                grace_s=self._grace.total_seconds(),
            )
            return "missed"
        if entry is None:
            claimed = self._ledger.claim(
                post.key,
                occurrence=post.occurrence,
                platform=post.platform,
                planned_at=post.at,
                now=now,
            )
            if not claimed:
                log.info("post.skipped", reason="claimed by another worker")
                return "taken"
        elif entry.state == "failed" and not self._ledger.reclaim(post.key, now=now):
            return "taken"
        return self._post(post, platform, log)

    def _post(self, post: PlannedPost, platform: PostingPlatform, log: Any) -> Outcome:
        in_reply_to = self._thread_parent(post)
        # A rate limit can ask for a wait of many minutes: the post must not go out later
        # than the grace allows, as a restart would not post it that late either.
        in_time = (post.at + self._grace - self._clock.now()).total_seconds()
        try:
            published: Published = call_with_retry(
                lambda: platform.post(post.text, key=post.key, in_reply_to=in_reply_to),
                stop_event=self._stop,
                log=log,
                give_up_after=in_time,
            )
        except PlatformError as exc:
            kind = (
                "permanent"
                if isinstance(exc, PermanentError)
                else "transient, out of retries or past the grace"
            )
            self._ledger.mark(
                post.key,
                "failed",
                error=exc.reason,
                now=self._clock.now(),
                occurrence=post.occurrence,
                platform=post.platform,
                planned_at=post.at,
            )
            log.error("post.failed", reason=exc.reason, kind=kind)
            return "failed"
        now = self._clock.now()
        self._ledger.record(post.key, published, now=now)
        log.info(
            "post.published",
            remote_id=published.remote_id,
            url=published.url,
            late_s=round((now - post.at).total_seconds(), 3),
            in_reply_to=in_reply_to,
        )
        return "published"

    def _thread_parent(self, post: PlannedPost) -> str | None:
        for key in post.replies_to:
            entry = self._ledger.get(key)
            if entry is not None and entry.state == "done" and entry.remote_id:
                return entry.remote_id
        return None
