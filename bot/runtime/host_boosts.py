"""The hosts' boosts from the console: boost, un-boost and skip a post of the chat.

Each acts through the ledger under a stable key: a boost under the curator's own key for that
post (so neither boosts it twice, and the caps count it), after the platform's curator checked
it as it checks an approval (the post read again: consent and safety are not the host's to
overrule); a boost taken back under its own key, once per post; a skip closes the post's boost
key, so no curator boosts it afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.core.agenda import Occurrence
from bot.core.config_platforms import XRepost
from bot.core.curation import rule_refusal
from bot.core.host_caps import cap_refusal
from bot.core.model import ArchivedPost
from bot.core.steering import HostCommand
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
from bot.ports.posting import Ledger, LedgerEntry, PostingPlatform, Published
from bot.runtime.curator_boosts import boost_key, done_boosts, unboost_key
from bot.runtime.host_settle import CommandSettler
from bot.runtime.key_locks import acting_on
from bot.runtime.retry import call_with_retry


class HostBoosts:
    """Carries out the hosts' boost, un-boost and skip commands for the command task."""

    def __init__(
        self,
        *,
        commands: HostCommands,
        platforms: Mapping[str, PostingPlatform],
        ledger: Ledger,
        curation: CurationStore,
        archive: Archive,
        clock: Clock,
        stop_event: threading.Event,
        curating: Mapping[str, CuratingPlatform] | None = None,
        caps: Mapping[str, XRepost] | None = None,
        checks: Mapping[str, HostBoostCheck] | None = None,
    ) -> None:
        self._platforms = platforms
        self._ledger = ledger
        self._curation = curation
        self._archive = archive
        self._clock = clock
        self._stop = stop_event
        self._settle = CommandSettler(commands, clock)
        # Where boosting goes through the platform's own curation (X: from the archive,
        # within its budget), and the caps that hold for the hosts there too (X's reposts).
        self._curating = dict(curating or {})
        self._caps = dict(caps or {})
        # Where a host's boost is first checked as an approval is (the post read again).
        self._checks = dict(checks or {})

    def boost(self, command: HostCommand, occurrence: Occurrence, log: Any) -> None:
        name, post_id = command.platform or "", command.post_id or ""
        platform = self._curating.get(name) or self._platforms.get(name)
        if not isinstance(platform, CuratingPlatform):
            self._settle.refuse(command, f"the bot cannot boost on {name or 'no platform'}", log)
            return
        post = self._archive.get(name, post_id)
        if post is None or post.occurrence != command.occurrence:
            self._settle.refuse(
                command, "not a post of this chat (deleted, or never captured)", log
            )
            return
        refused = self._boost_refusal(command, post.is_own, author_key(post.author))
        if refused is not None:
            self._settle.refuse(command, refused, log)
            return
        if self._ledger.get(unboost_key(command.occurrence, name, post_id)) is not None:
            self._settle.refuse(command, "a host took its boost back: it stays un-boosted", log)
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
            self._settle.finish(command, "done", log, url=entry.url, reason=note)
            return
        if entry is not None and entry.state == "missed":
            self._settle.refuse(command, entry.error or "skipped", log)
            return
        if entry is None and name in self._caps:
            capped = self._cap_refusal(command, post.question or 0, author_key(post.author))
            if capped is not None:
                self._settle.refuse(command, capped, log)
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
        self._settle.finish(command, "done", log, url=published.url)
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
            self._settle.finish(
                command, "failed", log, reason=f"could not read it again: {exc.reason}"
            )
            return False
        if refused is not None:
            self._settle.refuse(command, refused, log)
        return refused is None

    def unboost(self, command: HostCommand, log: Any) -> None:
        """Take a boost back, once: under its own ledger key (a boost key stays done, so no
        later tick boosts the post again)."""
        name, post_id = command.platform or "", command.post_id or ""
        platform = self._curating.get(name) or self._platforms.get(name)
        if not isinstance(platform, Unboosting):
            self._settle.refuse(command, f"the bot cannot take a boost back on {name}", log)
            return
        boosted = self._ledger.get(boost_key(command.occurrence, name, post_id))
        if boosted is None or boosted.state != "done":
            self._settle.refuse(command, "the bot has not boosted this post", log)
            return
        key = unboost_key(command.occurrence, name, post_id)
        entry = self._ledger.get(key)
        if entry is not None and entry.state == "done":
            self._settle.finish(command, "done", log, reason="un-boosted already")
            return

        def unboost() -> Published:
            platform.unboost(post_id)  # twice is harmless: the second finds no boost
            return Published(post_id, boosted.url or "")

        if self._once(command, key, entry, unboost, log) is None:
            return
        self._settle.finish(command, "done", log)
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
            self._settle.finish(command, "failed", log, reason=exc.reason)
            return None
        self._ledger.record(key, published, now=self._clock.now())
        return published

    def skip(self, command: HostCommand, log: Any) -> None:
        """Never boost this post: its boost key is closed in the ledger, which the curator
        reads, so no later tick (of any worker) boosts it."""
        name, post_id = command.platform or "", command.post_id or ""
        post = self._archive.get(name, post_id)
        if post is None or post.occurrence != command.occurrence:
            self._settle.refuse(
                command, "not a post of this chat (deleted, or never captured)", log
            )
            return
        key = boost_key(command.occurrence, name, post_id)
        entry = self._ledger.get(key)
        if entry is not None and entry.state in ("claimed", "done"):
            self._settle.refuse(command, "boosted already", log)
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
        self._settle.finish(command, "done", log)

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
