"""What the curator knows and how it acts: the server's facts about the bot and the chat, the
decisions it stores, and boosts and messages made through the ledger, exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.config import ChatConfig
from bot.core.curation import (
    AUTHOR_POLICY,
    Candidate,
    DoneBoost,
    Facts,
    Scored,
    text_counts,
    text_fingerprint,
)
from bot.core.model import ArchivedPost, Author
from bot.core.transcript import author_key
from bot.ports.clock import Clock
from bot.ports.curation import BoostDecision, CuratingPlatform, CurationStore, DecisionState
from bot.ports.errors import InteractionRefused, PlatformError
from bot.ports.following import Archive, ArchiveHistory
from bot.ports.posting import Ledger, LedgerEntry, Published
from bot.runtime.key_locks import acting_on
from bot.runtime.refresh import Refresher
from bot.runtime.retry import call_with_retry

if TYPE_CHECKING:
    from bot.runtime.transcript_files import TranscriptFiles


def boost_key(occurrence: str, platform: str, post_id: str) -> str:
    """The ledger key of a boost: the curator's and the console's alike."""
    return f"{occurrence}/boost/{platform}/{post_id}"


def unboost_key(occurrence: str, platform: str, post_id: str) -> str:
    """The ledger key of a boost taken back by a host: once per post."""
    return f"{occurrence}/unboost/{platform}/{post_id}"


class CuratorBoosts:
    """The curator's state, facts and actions, shared by its tick, mentions and approve mode."""

    def __init__(
        self,
        *,
        config: ChatConfig,
        platform: CuratingPlatform,
        archive: Archive,
        history: ArchiveHistory,
        store: CurationStore,
        ledger: Ledger,
        clock: Clock,
        stop_event: threading.Event,
        log: Any,
        files: TranscriptFiles | None = None,
        agenda_now: Callable[[], Sequence[PlannedPost]] | None = None,
    ) -> None:
        self.config = config
        # The agenda as the hosts' console steers it (issue 14): the windows follow it.
        self.agenda_now = agenda_now
        self.rules = config.boost
        # The transcripts already written: a "stop" or "forget me" reaches them before it is
        # confirmed.
        self.files = files
        self.platform = platform
        self.name = platform.name
        self.archive = archive
        self.history = history
        self.store = store
        self.ledger = ledger
        self.clock = clock
        self.stop = stop_event
        self.log = log.bind(platform=platform.name)
        self._me: Author | None = None
        self._limit: int | None = None
        self.refresher = Refresher(platform, every=self.rules.tick, call=self.call)

    # -- what the archive and the server say -----------------------------------------------

    def me_author(self) -> Author:
        if self._me is None:
            self._me = self.call(self.platform.own_author)
        return self._me

    def purge_forgotten(self, occurrence: Occurrence, now: datetime, log: Any) -> None:
        """Remove the occurrence's posts on this platform by people who asked to be
        forgotten (the follower may have captured a post of theirs since)."""
        prefix = f"{self.name}:"  # an author key is platform:id
        forgotten = [
            key[len(prefix) :]
            for key, kind in self.store.optouts().items()
            if kind == "forget" and key.startswith(prefix)
        ]
        for post in self.archive.author_posts(occurrence.id, self.name, forgotten):
            self.archive.delete(self.name, post.id, occurrence=occurrence.id, now=now)
            log.info("optout.purged", post_id=post.id)

    def facts(
        self,
        occurrence: Occurrence,
        entries: dict[str, LedgerEntry],
        candidates: Sequence[Candidate],
    ) -> Facts:
        return Facts(
            home=self.platform.home(),
            bot_ids=frozenset({author_key(self.me_author())}),
            opted_out=frozenset(self.store.optouts()),
            boosted=frozenset(entries),
            returning=frozenset(
                self.history.returning_authors(self.config.chat.id, before=occurrence.id)
            ),
            texts=text_counts(
                self.archive.others_texts(occurrence.id, self.name),
                among={text_fingerprint(c.post.text) for c in candidates},
            ),
        )

    def boost_entries(self, occurrence: Occurrence) -> dict[str, LedgerEntry]:
        """Post id -> ledger entry of every boost of this occurrence on this platform."""
        prefix = boost_key(occurrence.id, self.name, "")
        return {
            e.key[len(prefix) :]: e
            for e in self.ledger.entries(occurrence.id)
            if e.key.startswith(prefix)
        }

    def max_characters(self) -> int:
        if self._limit is None:
            self._limit = int(self.call(self.platform.max_characters))
        return self._limit

    def decision(
        self,
        occurrence: Occurrence,
        post: ArchivedPost,
        question: int,
        state: DecisionState,
        now: datetime,
    ) -> BoostDecision:
        return BoostDecision(
            occurrence=occurrence.id,
            platform=self.name,
            post_id=post.id,
            author=author_key(post.author),
            question=question,
            state=state,
            decided_at=now,
        )

    def scored(
        self,
        occurrence: Occurrence,
        scored: Scored,
        question: int,
        state: DecisionState,
        now: datetime,
        *,
        boosted_at: datetime | None = None,
        reason: str | None = None,
    ) -> BoostDecision:
        return replace(
            self.decision(occurrence, scored.post, question, state, now),
            score=scored.score.total,
            breakdown=tuple(scored.score.breakdown().items()),
            always=scored.always,
            boosted_at=boosted_at,
            reason=reason,
        )

    # -- acting, exactly once --------------------------------------------------------------

    def boost(self, occurrence: Occurrence, scored: Scored, question: int, how: str) -> bool:
        post = scored.post
        now = self.clock.now()
        log = self.log.bind(occurrence=occurrence.id, post_id=post.id)
        self.store.save_decision(self.scored(occurrence, scored, question, "boosting", now))
        try:
            published = self.once(
                boost_key(occurrence.id, self.name, post.id),
                occurrence,
                lambda: self.platform.boost(post.id),
                log,
            )
        except InteractionRefused as exc:
            self._refused_by_author(occurrence, post, question, exc, log)
            return False
        if published is None:
            self.store.save_decision(
                self.scored(occurrence, scored, question, "failed", now, reason="boost failed")
            )
            return False
        self.store.save_decision(
            self.scored(occurrence, scored, question, "boosted", now, boosted_at=now)
        )
        log.info(
            "boost.done",
            url=post.url,
            author=post.author.handle,
            question=question,
            how=how,
            score=scored.score.total,
            breakdown=scored.score.breakdown(),
        )
        return True

    def finish_claimed(
        self,
        occurrence: Occurrence,
        entries: dict[str, LedgerEntry],
        log: Any,
    ) -> None:
        """A boost claimed but not recorded (the process died in between) is finished: it
        was decided within the caps, and boosting again returns the same boost."""
        for post_id, listed in list(entries.items()):
            if listed.state != "claimed":
                continue
            try:
                with acting_on(listed.key):
                    # A host's command may have finished it meanwhile (see key_locks).
                    entry = self.ledger.get(listed.key) or listed
                    if entry.state != "claimed":
                        entries[post_id] = entry
                        continue
                    published = self.once(
                        entry.key, occurrence, partial(self.platform.boost, post_id), log
                    )
            except InteractionRefused as exc:
                post = self.archive.get(self.name, post_id)
                if post is not None:
                    question = post.question if post.question is not None else -1
                    self._refused_by_author(occurrence, post, question, exc, log)
                continue
            if published is None:
                continue
            decisions = self.store.decisions(occurrence.id, post_ids=[post_id])
            before = decisions[0] if decisions else None
            if before is not None:
                self.store.save_decision(
                    replace(before, state="boosted", boosted_at=self.clock.now())
                )
            log.info(
                "boost.done",
                post_id=post_id,
                question=before.question if before else None,
                how="recovered",
                score=before.score if before else None,
                breakdown=dict(before.breakdown) if before else {},
            )
            refreshed = self.ledger.get(entry.key)
            if refreshed is not None:
                entries[post_id] = refreshed

    def _refused_by_author(
        self,
        occurrence: Occurrence,
        post: ArchivedPost,
        question: int,
        refusal: InteractionRefused,
        log: Any,
    ) -> None:
        """The server refused the boost for its author: their wish, recorded, never retried
        (the ledger keeps the key failed)."""
        self.store.save_decision(
            replace(
                self.decision(occurrence, post, question, "rejected", self.clock.now()),
                rule="author_policy",
                reason=AUTHOR_POLICY,
            )
        )
        log.info(
            "boost.rejected",
            post_id=post.id,
            question=question,
            rule="author_policy",
            reason=refusal.reason,
        )

    def once(
        self,
        key: str,
        occurrence: Occurrence,
        action: Callable[[], Published],
        log: Any,
    ) -> Published | None:
        """Claim ``key``, act, record. A done key returns what was recorded; a key left
        claimed by a crash acts again (every action here is idempotent on the server: a
        boost returns the existing boost, a message carries the key as idempotency key).
        None when the action failed."""
        now = self.clock.now()
        entry = self.ledger.get(key)
        if entry is not None and entry.state == "done" and entry.remote_id:
            return Published(entry.remote_id, entry.url or "", entry.published_at)
        if entry is not None and entry.state in ("failed", "missed"):
            return None
        if entry is None and not self.ledger.claim(
            key, occurrence=occurrence.id, platform=self.name, planned_at=now, now=now
        ):
            return None  # another worker has it
        try:
            published = call_with_retry(action, stop_event=self.stop, log=log)
        except PlatformError as exc:
            # Marked failed, so never tried again; a refusal by the author is theirs to log.
            self.ledger.mark(
                key,
                "failed",
                error=exc.reason,
                now=self.clock.now(),
                occurrence=occurrence.id,
                platform=self.name,
                planned_at=now,
            )
            if isinstance(exc, InteractionRefused):
                raise
            log.error("curate.action_failed", key=key, reason=exc.reason)
            return None
        self.ledger.record(key, published, now=self.clock.now())
        return published

    def call(self, action: Callable[[], Any]) -> Any:
        return call_with_retry(action, stop_event=self.stop, log=self.log)


def done_boosts(
    entries: dict[str, LedgerEntry], decisions: dict[str, BoostDecision]
) -> list[DoneBoost]:
    """The boosts made (or under way) so far, for the caps and the interval."""
    done = []
    for post_id, entry in entries.items():
        if entry.state not in ("claimed", "done"):
            continue
        decision = decisions.get(post_id)
        if decision is None:
            # Claimed before its decision was stored: counts for the interval only.
            done.append(DoneBoost(post_id, "", -1, entry.claimed_at))
        else:
            done.append(
                DoneBoost(
                    post_id,
                    decision.author,
                    decision.question,
                    entry.claimed_at,
                    decision.always,
                )
            )
    return done
