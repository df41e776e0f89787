"""Carries out the hosts' commands from the console, in the worker that owns the occurrence.

The console only writes a row; this task reads the pending ones, checks each against the
moment (a question gone out cannot be edited any more), acts, and settles the row once (a
conditional update). Whatever acts on a platform goes through the ledger under a stable
key: a boost under the curator's own key for that post (so neither boosts it twice, and the
caps count it), after the platform's curator checked it as it checks an approval (the post
read again: consent and safety are not the host's to overrule); a host's post under
``<occurrence>/host-<id>/<platform>``, through the publisher, which recovers a post left
claimed by a crash instead of posting it again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.config_platforms import XRepost
from bot.core.curation import rule_refusal
from bot.core.durations import format_duration
from bot.core.host_caps import cap_refusal
from bot.core.model import ArchivedPost
from bot.core.steering import (
    ENDED_EARLY,
    PAUSE_LIMIT_BY,
    STEERING_KINDS,
    CommandState,
    HostCommand,
    refusal,
)
from bot.core.text import with_hashtag
from bot.core.transcript import author_key
from bot.ports.clock import Clock
from bot.ports.console import HostCommands
from bot.ports.curation import (
    BoostDecision,
    CuratingPlatform,
    CurationStore,
    HostBoostCheck,
    Unboosting,
)
from bot.ports.errors import PlatformError
from bot.ports.following import Archive
from bot.ports.operations import Ownership
from bot.ports.posting import Ledger, LedgerEntry, PostingPlatform, Published
from bot.runtime.curator_boosts import done_boosts
from bot.runtime.key_locks import acting_on
from bot.runtime.publisher import PostPublisher
from bot.runtime.retry import ShutdownRequested, call_with_retry
from bot.runtime.steering import Steering

# How often the store is asked for new commands: well within the second a host waits.
POLL = timedelta(milliseconds=250)
# A pause the hosts never resume ends the chat after this long (``posts.max_pause``).
MAX_PAUSE = timedelta(hours=3)
# The posts a host's post may reply to, to land in the chat's thread.
_THREAD_KINDS = ("intro", "question", "closing")


def boost_key(occurrence: str, platform: str, post_id: str) -> str:
    """The ledger key of a boost: the curator's and the console's alike."""
    return f"{occurrence}/boost/{platform}/{post_id}"


def unboost_key(occurrence: str, platform: str, post_id: str) -> str:
    """The ledger key of a boost taken back by a host: once per post."""
    return f"{occurrence}/unboost/{platform}/{post_id}"


class HostCommandTask:
    """Runs beside an occurrence's posts until its agenda (as steered) is over and
    ``linger`` has passed."""

    def __init__(
        self,
        *,
        hashtag: str,
        thread: bool,
        commands: HostCommands,
        steering: Steering,
        publisher: PostPublisher,
        platforms: Mapping[str, PostingPlatform],
        ledger: Ledger,
        curation: CurationStore,
        archive: Archive,
        clock: Clock,
        stop_event: threading.Event,
        log: Any,
        linger: timedelta,
        ownership: Ownership | None = None,
        poll: timedelta = POLL,
        max_pause: timedelta = MAX_PAUSE,
        curating: Mapping[str, CuratingPlatform] | None = None,
        caps: Mapping[str, XRepost] | None = None,
        checks: Mapping[str, HostBoostCheck] | None = None,
    ) -> None:
        self._hashtag = hashtag
        self._thread = thread
        self._commands = commands
        self._steering = steering
        self._publisher = publisher
        self._platforms = platforms
        self._ledger = ledger
        self._curation = curation
        self._archive = archive
        self._clock = clock
        self._stop = stop_event
        self._log = log
        self._linger = linger
        self._ownership = ownership
        self._poll = poll
        self._max_pause = max_pause
        # Where boosting goes through the platform's own curation (X: from the archive,
        # within its budget), and the caps that hold for the hosts there too (X's reposts).
        self._curating = dict(curating or {})
        self._caps = dict(caps or {})
        # Where a host's boost is first checked as an approval is (the post read again).
        self._checks = dict(checks or {})

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        log = self._log.bind(occurrence=occurrence.id)
        while not self._stop.is_set():
            try:
                self.tick(occurrence)
            except ShutdownRequested:
                break
            except Exception:
                # A bug must not end the hosts' control for the rest of the chat.
                log.exception("console.command_error")
            if self._clock.now() >= self._end(occurrence):
                break
            self._stop.wait(self._poll.total_seconds())

    def _end(self, occurrence: Occurrence) -> datetime:
        _, steered = self._steering.current()
        if steered.paused:
            return datetime.max.replace(tzinfo=occurrence.end.tzinfo)
        return max([occurrence.end, *(p.at for p in steered.posts)]) + self._linger

    def tick(self, occurrence: Occurrence) -> None:
        commands = self._commands.commands(occurrence.id)
        ended = self._bound_pause(occurrence, commands)
        for command in [*commands, *([ended] if ended else [])]:
            if command.state != "pending":
                continue
            now = self._clock.now()
            if self._ownership is not None and not self._ownership.owns(occurrence.id, now=now):
                return  # the owner carries it out
            log = self._log.bind(
                occurrence=occurrence.id, command=command.id, kind=command.kind, by=command.by
            )
            if command.kind in STEERING_KINDS:
                self._steer(command, now, log)
            elif command.kind == "boost":
                self._boost(command, occurrence, log)
            elif command.kind == "skip":
                self._skip(command, log)
            elif command.kind == "unboost":
                self._unboost(command, log)
            elif command.kind == "host_post":
                self._host_post(command, log)

    # -- the agenda ------------------------------------------------------------------------

    def _bound_pause(
        self, occurrence: Occurrence, commands: Sequence[HostCommand]
    ) -> HostCommand | None:
        """A pause held past ``max_pause`` (the hosts left, or forgot) ends the chat as their
        "end" would: the bot asks for it as one more command, on the page with the reason, so
        the run and its wrap-up do not wait forever. The command asked for, if it was now."""
        _, steered = self._steering.current()
        now = self._clock.now()
        if steered.paused_since is None or now - steered.paused_since < self._max_pause:
            return None
        if any(c.kind == "end" and c.state == "pending" for c in commands):
            return None  # asked already: it is carried out next
        if self._ownership is not None and not self._ownership.owns(occurrence.id, now=now):
            return None
        by = f"{PAUSE_LIMIT_BY} ({format_duration(self._max_pause)})"
        command = self._commands.add(HostCommand(0, occurrence.id, "end", by, now))
        self._log.warning(
            "console.pause_expired",
            occurrence=occurrence.id,
            command=command.id,
            paused_since=steered.paused_since.isoformat(),
            max_pause=format_duration(self._max_pause),
        )
        return command

    def _steer(self, command: HostCommand, now: datetime, log: Any) -> None:
        _, steered = self._steering.current()
        reason = refusal(command, steered, now=now)
        if reason is None and command.kind == "edit":
            reason = self._edit_refusal(command, steered.posts + steered.held)
        if reason is not None:
            self._refuse(command, reason, log)
            return
        if self._commands.finish(command.id, "done", now=now):
            self._steering.applied(replace(command, state="done", done_at=now))
            log.info("console.command_done", minutes=command.minutes, slot=command.slot)
        if command.kind == "end":
            # Also after a crash right after the row was settled: marking is idempotent.
            self._close_dropped(command, log)

    def _close_dropped(self, command: HostCommand, log: Any) -> None:
        """The questions an early end left out are final in the ledger: no worker posts
        them, whatever its scheduler still holds."""
        _, steered = self._steering.current()
        for post in steered.dropped:
            entry = self._ledger.get(post.key)
            if entry is None or entry.state == "failed":
                self._ledger.mark(
                    post.key,
                    "missed",
                    error=ENDED_EARLY,
                    now=self._clock.now(),
                    occurrence=post.occurrence,
                    platform=post.platform,
                    planned_at=post.at,
                )
                log.info("post.dropped", key=post.key, reason=ENDED_EARLY)

    def _edit_refusal(self, command: HostCommand, posts: Sequence[PlannedPost]) -> str | None:
        # Its time may not have come, yet it may be under way (brought forward by `next`).
        for post in posts:
            if post.slot == command.slot and self._ledger.get(post.key) is not None:
                return f"{command.slot} has gone out already"
        return None

    def _refuse(self, command: HostCommand, reason: str, log: Any) -> None:
        if self._commands.finish(command.id, "refused", now=self._clock.now(), reason=reason):
            log.info("console.command_refused", reason=reason)

    # -- boosts ----------------------------------------------------------------------------

    def _boost(self, command: HostCommand, occurrence: Occurrence, log: Any) -> None:
        name, post_id = command.platform or "", command.post_id or ""
        platform = self._curating.get(name) or self._platforms.get(name)
        if not isinstance(platform, CuratingPlatform):
            self._refuse(command, f"the bot cannot boost on {name or 'no platform'}", log)
            return
        post = self._archive.get(name, post_id)
        if post is None or post.occurrence != command.occurrence:
            self._refuse(command, "not a post of this chat (deleted, or never captured)", log)
            return
        refused = self._boost_refusal(command, post.is_own, author_key(post.author))
        if refused is not None:
            self._refuse(command, refused, log)
            return
        if self._ledger.get(unboost_key(command.occurrence, name, post_id)) is not None:
            self._refuse(command, "a host took its boost back: it stays un-boosted", log)
            return
        key = boost_key(command.occurrence, name, post_id)
        with acting_on(key):  # the curator may be finishing this very key (see key_locks)
            self._boost_once(command, occurrence, key, post, platform, log)

    def _boost_once(
        self,
        command: HostCommand,
        occurrence: Occurrence,
        key: str,
        post: ArchivedPost,
        platform: CuratingPlatform,
        log: Any,
    ) -> None:
        name, post_id = command.platform or "", command.post_id or ""
        entry = self._ledger.get(key)
        if entry is not None and entry.state == "done":
            earlier = entry.claimed_at < command.created_at
            note = "boosted already" if earlier else None
            self._finish(command, "done", log, url=entry.url, reason=note)
            return
        if entry is not None and entry.state == "missed":
            self._refuse(command, entry.error or "skipped", log)
            return
        if entry is None and name in self._caps:
            capped = self._cap_refusal(command, post.question or 0, author_key(post.author))
            if capped is not None:
                self._refuse(command, capped, log)
                return
        if (entry is None or entry.state == "failed") and not self._checked(
            command, occurrence, post, log
        ):
            return
        # Boosting again returns the same boost: finishing one a crash left claimed is safe.
        published = self._once(command, key, entry, lambda: platform.boost(post_id), log)
        if published is None:
            return
        done_at = self._clock.now()
        self._save_boosted(command, post.question or 0, author_key(post.author), done_at)
        self._finish(command, "done", log, url=published.url)
        log.info("boost.done", post_id=post_id, platform=name, how="host", url=post.url)

    def _checked(
        self, command: HostCommand, occurrence: Occurrence, post: ArchivedPost, log: Any
    ) -> bool:
        """Whether the platform's check lets the boost go out; if not, the command is settled
        with the reason (failed when the post could not be read again: try later)."""
        check = self._checks.get(command.platform or "")
        if check is None:
            return True
        try:
            refused = check.host_boost_refusal(occurrence, post)
        except PlatformError as exc:
            self._finish(command, "failed", log, reason=f"could not read it again: {exc.reason}")
            return False
        if refused is not None:
            self._refuse(command, refused, log)
        return refused is None

    def _unboost(self, command: HostCommand, log: Any) -> None:
        """Take a boost back, once: under its own ledger key (a boost key stays done, so no
        later tick boosts the post again)."""
        name, post_id = command.platform or "", command.post_id or ""
        platform = self._curating.get(name) or self._platforms.get(name)
        if not isinstance(platform, Unboosting):
            self._refuse(command, f"the bot cannot take a boost back on {name}", log)
            return
        boosted = self._ledger.get(boost_key(command.occurrence, name, post_id))
        if boosted is None or boosted.state != "done":
            self._refuse(command, "the bot has not boosted this post", log)
            return
        key = unboost_key(command.occurrence, name, post_id)
        entry = self._ledger.get(key)
        if entry is not None and entry.state == "done":
            self._finish(command, "done", log, reason="un-boosted already")
            return

        def unboost() -> Published:
            platform.unboost(post_id)  # twice is harmless: the second finds no boost
            return Published(post_id, boosted.url or "")

        if self._once(command, key, entry, unboost, log) is None:
            return
        self._finish(command, "done", log)
        log.info("boost.undone", post_id=post_id, platform=name)

    def _once(
        self,
        command: HostCommand,
        key: str,
        entry: LedgerEntry | None,
        action: Callable[[], Published],
        log: Any,
    ) -> Published | None:
        """Claim ``key`` (or take a failed one back), act, record. A key a crash left
        claimed is acted on again: every action here is idempotent on the server. None when
        another worker has it (the command stays pending) or the action failed (the command
        is settled as failed)."""
        now = self._clock.now()
        name = command.platform or ""
        if entry is None and not self._ledger.claim(
            key, occurrence=command.occurrence, platform=name, planned_at=now, now=now
        ):
            return None
        if entry is not None and entry.state == "failed" and not self._ledger.reclaim(key, now=now):
            return None
        try:
            published: Published = call_with_retry(action, stop_event=self._stop, log=log)
        except PlatformError as exc:
            self._ledger.mark(
                key,
                "failed",
                error=exc.reason,
                now=self._clock.now(),
                occurrence=command.occurrence,
                platform=name,
                planned_at=now,
            )
            self._finish(command, "failed", log, reason=exc.reason)
            return None
        self._ledger.record(key, published, now=self._clock.now())
        return published

    def _skip(self, command: HostCommand, log: Any) -> None:
        """Never boost this post: its boost key is closed in the ledger, which the curator
        reads, so no later tick (of any worker) boosts it."""
        name, post_id = command.platform or "", command.post_id or ""
        post = self._archive.get(name, post_id)
        if post is None or post.occurrence != command.occurrence:
            self._refuse(command, "not a post of this chat (deleted, or never captured)", log)
            return
        key = boost_key(command.occurrence, name, post_id)
        entry = self._ledger.get(key)
        if entry is not None and entry.state in ("claimed", "done"):
            self._refuse(command, "boosted already", log)
            return
        if entry is None or entry.state == "failed":
            self._ledger.mark(
                key,
                "missed",
                error=f"skipped by {command.by}",
                now=self._clock.now(),
                occurrence=command.occurrence,
                platform=name,
                planned_at=self._clock.now(),
            )
        self._finish(command, "done", log)

    def _boost_refusal(self, command: HostCommand, own: bool, author: str) -> str | None:
        if own:
            return "the bot's own post"
        if author in self._curation.optouts():
            return "the author asked the bot to stop"
        decisions = self._curation.decisions(command.occurrence, post_ids=[command.post_id or ""])
        for decision in decisions:
            # The quality rules are the host's to overrule; consent and safety are not.
            if decision.state == "rejected" and decision.rule not in (None, "already_boosted"):
                return rule_refusal(decision.rule, decision.reason)
        return None

    def _cap_refusal(self, command: HostCommand, question: int, author: str) -> str | None:
        name = command.platform or ""
        prefix = boost_key(command.occurrence, name, "")
        entries = {
            e.key[len(prefix) :]: e
            for e in self._ledger.entries(command.occurrence)
            if e.key.startswith(prefix)
        }
        decisions = {
            d.post_id: d for d in self._curation.decisions(command.occurrence) if d.platform == name
        }
        mine = decisions.get(command.post_id or "")
        return cap_refusal(
            self._caps[name],
            done_boosts(entries, decisions),
            question=mine.question if mine else question,
            author=author,
            always=mine.always if mine else False,
            now=self._clock.now(),
        )

    def _save_boosted(self, command: HostCommand, question: int, author: str, at: datetime) -> None:
        decisions = self._curation.decisions(command.occurrence, post_ids=[command.post_id or ""])
        base = decisions[0] if decisions else None
        decision = BoostDecision(
            occurrence=command.occurrence,
            platform=command.platform or "",
            post_id=command.post_id or "",
            author=author,
            question=base.question if base else question,
            state="boosted",
            decided_at=at,
            score=base.score if base else None,
            breakdown=base.breakdown if base else (),
            always=base.always if base else False,
            boosted_at=at,
            reason=f"boosted by {command.by} from the console",
        )
        self._curation.save_decision(decision)

    # -- the hosts' own posts --------------------------------------------------------------

    def _host_post(self, command: HostCommand, log: Any) -> None:
        names = [command.platform] if command.platform else list(self._platforms)
        _, steered = self._steering.current()
        urls = []
        for name in names:
            if name not in self._platforms:
                self._refuse(command, f"the chat does not post on {name}", log)
                return
            post = self._host_planned(command, name, steered.posts)
            outcome = self._publisher.publish(post)
            if outcome in ("taken", "interrupted"):
                return  # another worker has it, or we are stopping: it stays pending
            entry = self._ledger.get(post.key)
            if outcome == "missed":
                self._refuse(command, "it came too late: the worker was away past the grace", log)
                return
            if entry is None or entry.state != "done":
                reason = entry.error if entry is not None else None
                self._finish(command, "failed", log, reason=reason or "not posted")
                return
            urls.append(entry.url or "")
        self._finish(command, "done", log, url=urls[0] if urls else None)

    def _host_planned(
        self, command: HostCommand, platform: str, posts: Sequence[PlannedPost]
    ) -> PlannedPost:
        now = self._clock.now()
        # Into the chat's thread: under the latest of its posts that went out (the
        # publisher takes the first of these that the ledger holds as done).
        thread = sorted(
            (
                p
                for p in posts
                if p.platform == platform and p.kind in _THREAD_KINDS and p.at <= now
            ),
            key=lambda p: p.at,
            reverse=True,
        )
        return PlannedPost(
            key=f"{command.occurrence}/host-{command.id}/{platform}",
            occurrence=command.occurrence,
            slot=f"host-{command.id}",
            kind="host",
            number=None,
            platform=platform,
            # Its moment is when the host asked: a worker back from far longer than the
            # grace refuses it rather than post it out of its context.
            at=command.created_at,
            text=with_hashtag(command.text or "", self._hashtag),
            replies_to=tuple(p.key for p in thread) if self._thread else (),
        )

    def _finish(
        self,
        command: HostCommand,
        state: CommandState,
        log: Any,
        *,
        url: str | None = None,
        reason: str | None = None,
    ) -> None:
        if self._commands.finish(command.id, state, now=self._clock.now(), reason=reason, url=url):
            log.info(f"console.command_{state}", url=url, reason=reason)
