"""The curator: on a tick, boosts the notable answers of the current question, by the host's
rules and with consent.

Each tick reads the bot's mentions (opt-outs, and the hosts' answers in approve mode),
re-reads the counts of the current window's posts in a few batched requests, decides with
``bot.core.curation``, stores every decision and acts through the ledger: a boost, a
confirmation and a list sent to the hosts each have a stable key, so none happens twice,
whatever crashes in between.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.answers import Window, answer_windows
from bot.core.config import ChatConfig
from bot.core.curation import (
    AUTHOR_POLICY,
    Assessment,
    Candidate,
    DoneBoost,
    Facts,
    Offered,
    Reading,
    Scored,
    account_address,
    assess,
    current_window,
    eligibility,
    mention_of,
    offer_text,
    read_mention,
    score,
    select,
    text_counts,
    text_fingerprint,
)
from bot.core.model import ArchivedPost, Author
from bot.core.transcript import author_key
from bot.ports import (
    ApprovalRound,
    Archive,
    ArchiveHistory,
    BoostDecision,
    Clock,
    CuratingPlatform,
    CurationStore,
    DecisionState,
    InteractionRefused,
    Ledger,
    LedgerEntry,
    Mention,
    PlatformError,
    Published,
)
from bot.runtime.clock import wait_until
from bot.runtime.follow_window import follow_window, ledger_answer_key
from bot.runtime.refresh import MAX_REFRESH, Refresher
from bot.runtime.retry import ShutdownRequested, call_with_retry

if TYPE_CHECKING:
    from bot.runtime.transcript_files import TranscriptFiles

# Candidates listed for the hosts in approve mode.
OFFERED = 5
# Decisions that later ticks leave alone.
_SETTLED: tuple[DecisionState, ...] = ("boosting", "boosted", "failed")

STOP_CONFIRMATION = (
    "{mention} Understood: I will not boost or mention you again. "
    'Your public posts stay in the chat\'s transcript; reply "forget me" to remove them too.'
)
FORGET_CONFIRMATION = (
    "{mention} Done: your posts are removed from the archive and transcript of {hashtag}, "
    "and I will not boost or mention you again."
)


class Curator:
    """Curates one occurrence on one platform."""

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
        self._config = config
        # The agenda as the hosts' console steers it (issue 14): the windows follow it.
        self._agenda_now = agenda_now
        self._rules = config.boost
        # The transcripts already written: a "stop" or "forget me" reaches them before it is
        # confirmed.
        self._files = files
        self._platform = platform
        self._name = platform.name
        self._archive = archive
        self._history = history
        self._store = store
        self._ledger = ledger
        self._clock = clock
        self._stop = stop_event
        self._log = log.bind(platform=platform.name)
        self._me: Author | None = None
        self._limit: int | None = None
        self._refresher = Refresher(platform, every=self._rules.tick, call=self._call)

    @property
    def platform(self) -> CuratingPlatform:
        return self._platform

    @property
    def files(self) -> TranscriptFiles | None:
        return self._files

    # -- the loop --------------------------------------------------------------------------

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        """Tick while the chat is followed (from the intro, less the follow margin, to the
        wrap-up), so that a "stop" said just after the chat is honoured before the wrap-up.
        Errors are logged and the next tick tries again; returns early on stop."""
        active = follow_window(
            occurrence,
            agenda,
            margin=self._config.follow.margin,
            after=self._config.wrapup.after,
        )
        log = self._log.bind(occurrence=occurrence.id)
        if not wait_until(self._clock, self._stop, active.start):
            return
        if self._clock.now() >= active.end:
            return
        log.info("curate.start", mode=self._rules.mode)
        while not self._stop.is_set():
            # The agenda as the hosts steer it, if they may: its questions not out yet.
            current = agenda if self._agenda_now is None else self._agenda_now()
            try:
                self.tick(occurrence, self.windows(occurrence, current))
            except ShutdownRequested:
                break
            except PlatformError as exc:
                log.warning("curate.tick_failed", reason=exc.reason)
            except Exception:
                # A bug must not end curation for the rest of the chat.
                log.exception("curate.error")
            if self._clock.now() >= active.end:
                break
            self._stop.wait(self._rules.tick.total_seconds())
        log.info("curate.end", stopped_early=self._stop.is_set())

    def windows(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> list[Window]:
        """The windows as capture files posts by: from when each question actually went out
        (the ledger), read again at every tick since a late question moves them."""
        key, _ = ledger_answer_key(self._ledger, occurrence, agenda, self._name)
        return answer_windows(key)

    def tick(self, occurrence: Occurrence, windows: Sequence[Window]) -> None:
        log = self._log.bind(occurrence=occurrence.id)
        self.read_mentions(occurrence, log)
        now = self._clock.now()
        self._purge_forgotten(occurrence, now, log)
        entries = self._boost_entries(occurrence)
        self._finish_claimed(occurrence, entries, log)
        window = current_window(windows, now)
        if window is None:
            return
        # Only the current window's latest posts are read: the archive grows all chat long.
        # Boosted posts are settled: re-reading them would only spend requests.
        posts = self._archive.window_posts(
            occurrence.id,
            self._name,
            question=window.number,
            start=window.start,
            end=window.stop,
            limit=MAX_REFRESH + len(entries),
        )
        candidates = self._refresher.candidates([p for p in posts if p.id not in entries])
        facts = self._facts(occurrence, entries, candidates)
        assessment = assess(candidates, self._rules, facts)
        decisions = {
            d.post_id: d
            for d in self._store.decisions(
                occurrence.id, post_ids=[*(c.post.id for c in candidates), *entries]
            )
        }
        self._record(occurrence, window, assessment, decisions, now, log)
        if self._rules.mode == "off":
            return
        done = done_boosts(entries, decisions)
        ranked = list(assessment.eligible)
        if self._rules.mode == "approve":
            # Guests and co-hosts need no approval; the rest waits for a host's answer.
            ranked = [s for s in ranked if s.always]
        for chosen in select(ranked, rules=self._rules, window=window, done=done, now=now):
            self._boost(occurrence, chosen, window.number, "always" if chosen.always else "auto")
        if self._rules.mode == "approve":
            self._offer(occurrence, window, assessment, now, log)

    # -- what the archive and the server say -----------------------------------------------

    def _me_author(self) -> Author:
        if self._me is None:
            self._me = self._call(self._platform.own_author)
        return self._me

    def _purge_forgotten(self, occurrence: Occurrence, now: datetime, log: Any) -> None:
        """Remove the occurrence's posts on this platform by people who asked to be
        forgotten (the follower may have captured a post of theirs since)."""
        prefix = f"{self._name}:"  # an author key is platform:id
        forgotten = [
            key[len(prefix) :]
            for key, kind in self._store.optouts().items()
            if kind == "forget" and key.startswith(prefix)
        ]
        for post in self._archive.author_posts(occurrence.id, self._name, forgotten):
            self._archive.delete(self._name, post.id, occurrence=occurrence.id, now=now)
            log.info("optout.purged", post_id=post.id)

    def _facts(
        self,
        occurrence: Occurrence,
        entries: dict[str, LedgerEntry],
        candidates: Sequence[Candidate],
    ) -> Facts:
        return Facts(
            home=self._platform.home(),
            bot_ids=frozenset({author_key(self._me_author())}),
            opted_out=frozenset(self._store.optouts()),
            boosted=frozenset(entries),
            returning=frozenset(
                self._history.returning_authors(self._config.chat.id, before=occurrence.id)
            ),
            texts=text_counts(
                self._archive.others_texts(occurrence.id, self._name),
                among={text_fingerprint(c.post.text) for c in candidates},
            ),
        )

    def _boost_entries(self, occurrence: Occurrence) -> dict[str, LedgerEntry]:
        """Post id -> ledger entry of every boost of this occurrence on this platform."""
        prefix = self._boost_key(occurrence, "")
        return {
            e.key[len(prefix) :]: e
            for e in self._ledger.entries(occurrence.id)
            if e.key.startswith(prefix)
        }

    # -- decisions -------------------------------------------------------------------------

    def _record(
        self,
        occurrence: Occurrence,
        window: Window,
        assessment: Assessment,
        decisions: dict[str, BoostDecision],
        now: datetime,
        log: Any,
    ) -> None:
        """Store each decision that changed, and log it once: a rejection with its rule, a
        score with its breakdown."""
        for candidate, rejection in assessment.rejected:
            before = decisions.get(candidate.post.id)
            if before is not None and (
                before.state in _SETTLED
                or (before.state == "rejected" and before.rule == rejection.rule)
            ):
                continue
            self._store.save_decision(
                replace(
                    self._decision(occurrence, candidate.post, window.number, "rejected", now),
                    rule=rejection.rule,
                    reason=rejection.reason,
                )
            )
            # The post id only: a rejected author may be someone who asked not to be named.
            log.info(
                "boost.rejected",
                post_id=candidate.post.id,
                question=window.number,
                rule=rejection.rule,
                reason=rejection.reason,
            )
        for scored in assessment.eligible:
            before = decisions.get(scored.post.id)
            total = scored.score.total
            if before is not None and (
                before.state in _SETTLED
                or (before.state in ("scored", "offered") and before.score == total)
            ):
                continue
            state: DecisionState = (
                "offered" if before is not None and before.state == "offered" else "scored"
            )
            self._store.save_decision(self._scored(occurrence, scored, window.number, state, now))
            log.debug(
                "boost.scored",
                post_id=scored.post.id,
                question=window.number,
                score=total,
                breakdown=scored.score.breakdown(),
            )

    def _decision(
        self,
        occurrence: Occurrence,
        post: ArchivedPost,
        question: int,
        state: DecisionState,
        now: datetime,
    ) -> BoostDecision:
        return BoostDecision(
            occurrence=occurrence.id,
            platform=self._name,
            post_id=post.id,
            author=author_key(post.author),
            question=question,
            state=state,
            decided_at=now,
        )

    def _scored(
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
            self._decision(occurrence, scored.post, question, state, now),
            score=scored.score.total,
            breakdown=tuple(scored.score.breakdown().items()),
            always=scored.always,
            boosted_at=boosted_at,
            reason=reason,
        )

    # -- acting, exactly once --------------------------------------------------------------

    def _boost_key(self, occurrence: Occurrence, post_id: str) -> str:
        return f"{occurrence.id}/boost/{self._name}/{post_id}"

    def _boost(self, occurrence: Occurrence, scored: Scored, question: int, how: str) -> bool:
        post = scored.post
        now = self._clock.now()
        log = self._log.bind(occurrence=occurrence.id, post_id=post.id)
        self._store.save_decision(self._scored(occurrence, scored, question, "boosting", now))
        try:
            published = self._once(
                self._boost_key(occurrence, post.id),
                occurrence,
                lambda: self._platform.boost(post.id),
                log,
            )
        except InteractionRefused as exc:
            self._refused_by_author(occurrence, post, question, exc, log)
            return False
        if published is None:
            self._store.save_decision(
                self._scored(occurrence, scored, question, "failed", now, reason="boost failed")
            )
            return False
        self._store.save_decision(
            self._scored(occurrence, scored, question, "boosted", now, boosted_at=now)
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

    def _finish_claimed(
        self,
        occurrence: Occurrence,
        entries: dict[str, LedgerEntry],
        log: Any,
    ) -> None:
        """A boost claimed but not recorded (the process died in between) is finished: it
        was decided within the caps, and boosting again returns the same boost."""
        for post_id, entry in list(entries.items()):
            if entry.state != "claimed":
                continue
            try:
                published = self._once(
                    entry.key, occurrence, partial(self._platform.boost, post_id), log
                )
            except InteractionRefused as exc:
                post = self._archive.get(self._name, post_id)
                if post is not None:
                    question = post.question if post.question is not None else -1
                    self._refused_by_author(occurrence, post, question, exc, log)
                continue
            if published is None:
                continue
            decisions = self._store.decisions(occurrence.id, post_ids=[post_id])
            before = decisions[0] if decisions else None
            if before is not None:
                self._store.save_decision(
                    replace(before, state="boosted", boosted_at=self._clock.now())
                )
            log.info(
                "boost.done",
                post_id=post_id,
                question=before.question if before else None,
                how="recovered",
                score=before.score if before else None,
                breakdown=dict(before.breakdown) if before else {},
            )
            refreshed = self._ledger.get(entry.key)
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
        self._store.save_decision(
            replace(
                self._decision(occurrence, post, question, "rejected", self._clock.now()),
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

    def _once(
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
        now = self._clock.now()
        entry = self._ledger.get(key)
        if entry is not None and entry.state == "done" and entry.remote_id:
            return Published(entry.remote_id, entry.url or "", entry.published_at)
        if entry is not None and entry.state in ("failed", "missed"):
            return None
        if entry is None and not self._ledger.claim(
            key, occurrence=occurrence.id, platform=self._name, planned_at=now, now=now
        ):
            return None  # another worker has it
        try:
            published = call_with_retry(action, stop_event=self._stop, log=log)
        except PlatformError as exc:
            # Marked failed, so never tried again; a refusal by the author is theirs to log.
            self._ledger.mark(
                key,
                "failed",
                error=exc.reason,
                now=self._clock.now(),
                occurrence=occurrence.id,
                platform=self._name,
                planned_at=now,
            )
            if isinstance(exc, InteractionRefused):
                raise
            log.error("curate.action_failed", key=key, reason=exc.reason)
            return None
        self._ledger.record(key, published, now=self._clock.now())
        return published

    def _call(self, action: Callable[[], Any]) -> Any:
        return call_with_retry(action, stop_event=self._stop, log=self._log)

    # -- mentions: opt-outs and the hosts' answers -----------------------------------------

    def read_mentions(self, occurrence: Occurrence, log: Any) -> None:
        """Act on the bot's new mentions: opt-outs, and the hosts' answers in approve mode.
        Raises OSError, the mention left unread, when the transcripts cannot be rewritten."""
        cursor = self._store.notification_cursor(self._name)
        mentions: list[Mention]
        mentions, cursor_after = self._call(lambda: self._platform.mentions(after=cursor))
        me = author_key(self._me_author())
        home = self._platform.home()
        hosts = {account_address(h, home) for h in self._config.chat.hosts}
        for mention in mentions:
            if author_key(mention.author) != me:
                from_host = account_address(mention.author.handle, home) in hosts
                reading = read_mention(mention.text, from_host=from_host)
                if reading.command in ("stop", "forget"):
                    self._opt_out(occurrence, mention, reading, log)
                elif reading.command in ("approve", "skip"):
                    self._answer(occurrence, mention, reading, log)
            # After each one: a crash re-reads at most this mention, and every handler
            # above is idempotent.
            self._store.set_notification_cursor(self._name, mention.cursor)
        if cursor_after is not None and cursor_after != cursor:
            self._store.set_notification_cursor(self._name, cursor_after)

    def _opt_out(
        self, occurrence: Occurrence, mention: Mention, reading: Reading, log: Any
    ) -> None:
        author = mention.author
        key = author_key(author)
        now = self._clock.now()
        kind = reading.command
        written = self._files.containing(self._name, author.id) if self._files else []
        first = self._store.add_optout(
            self._name, author.id, kind=kind, status_id=mention.status_id, now=now
        )
        if first:
            log.info("optout.recorded", author=key, kind=kind)
        if kind == "forget":
            removed = self._history.forget_author(self._name, author.id, now=now)
            self._store.forget_decisions(key)
            log.info("optout.forgotten", author=key, posts=removed)
            template, what = FORGET_CONFIRMATION, "forget"
        else:
            template, what = STOP_CONFIRMATION, "optout"
        ledger_key = f"{self._config.chat.id}/{what}/{self._name}/{author.id}"
        confirmed = self._ledger.get(ledger_key) is not None
        if self._files is not None and not confirmed and (written or not first):
            # Before the confirmation: it says the transcripts no longer name them. Read
            # again (the files failed, or the process died), the mention finds the posts
            # forgotten already: then every transcript written is rewritten.
            files = self._files.rewrite(written if first else None)
            log.info("optout.rewritten", author=key, occurrences=written, files=len(files))
        text = template.format(
            mention=mention_of(author.handle, self._platform.home()),
            hashtag=self._config.chat.hashtag,
        )
        if not confirmed:
            sent = self._once(
                ledger_key,
                occurrence,
                lambda: self._platform.send_direct(
                    text, key=ledger_key, in_reply_to=mention.status_id
                ),
                log,
            )
            if sent is not None:
                log.info("optout.confirmed", author=key, kind=kind)

    def _answer(self, occurrence: Occurrence, mention: Mention, reading: Reading, log: Any) -> None:
        rounds = self._store.rounds(occurrence.id, self._name)
        sent = [r for r in rounds if r.message_id]
        target = next((r for r in sent if r.message_id == mention.in_reply_to), None)
        if target is None:
            target = next((r for r in reversed(sent) if r.state == "open"), None)
        if target is None:
            log.warning("approve.unmatched", status_id=mention.status_id)
            return
        if target.state == "answered":
            return  # read again after a restart: acted on already
        answer = (
            "skip" if reading.command == "skip" else f"boost {' '.join(map(str, reading.numbers))}"
        )
        if reading.command == "approve":
            self._approve(occurrence, target, reading.numbers, log)
        self._store.save_round(replace(target, state="answered", answer=answer))
        log.info("approve.answered", question=target.question, answer=answer)

    def _approve(
        self, occurrence: Occurrence, round_: ApprovalRound, numbers: Sequence[int], log: Any
    ) -> None:
        """Boost exactly the numbers a host chose, each still checked against the hard rules
        (its author may have said stop since)."""
        wanted = []
        for n in numbers:
            if 1 <= n <= len(round_.post_ids):
                wanted.append(round_.post_ids[n - 1])
            else:
                log.warning("approve.bad_number", number=n, listed=len(round_.post_ids))
        self._purge_forgotten(occurrence, self._clock.now(), log)
        posts = [self._archive.get(self._name, i) for i in wanted]
        candidates = self._refresher.candidates(
            [p for p in posts if p is not None and p.occurrence == occurrence.id]
        )
        entries = self._boost_entries(occurrence)
        facts = self._facts(occurrence, entries, candidates)
        for candidate in candidates:
            rejection = eligibility(candidate, self._rules, facts)
            if rejection is not None:
                log.info(
                    "boost.rejected",
                    post_id=candidate.post.id,
                    question=round_.question,
                    rule=rejection.rule,
                    reason=rejection.reason,
                )
                continue
            scored = Scored(candidate, score(candidate, self._rules, facts), always=False)
            self._boost(occurrence, scored, round_.question, "approved")

    def _offer(
        self,
        occurrence: Occurrence,
        window: Window,
        assessment: Assessment,
        now: datetime,
        log: Any,
    ) -> None:
        """Once per question, halfway through its window, send the hosts the best candidates,
        numbered, in a direct message."""
        if not self._config.chat.hosts:
            return
        round_ = next(
            (
                r
                for r in self._store.rounds(occurrence.id, self._name)
                if r.question == window.number
            ),
            None,
        )
        if round_ is not None and round_.message_id:
            return
        if round_ is None:
            if now < window.start + (window.end - window.start) / 2:
                return
            best = [s for s in assessment.eligible if not s.always and s.score.total > 0]
            if not best:
                return
            _, count = self._offer_text(window, best[:OFFERED])
            round_ = ApprovalRound(
                occurrence=occurrence.id,
                platform=self._name,
                question=window.number,
                post_ids=tuple(s.post.id for s in best[:count]),
                state="open",
                sent_at=now,
            )
            # Saved before sending: after a crash the same list goes out, under the same key.
            self._store.save_round(round_)
        by_id = {s.post.id: s for s in assessment.eligible}
        listed = [by_id[i] for i in round_.post_ids if i in by_id]
        key = f"{occurrence.id}/approve/q{window.number}/{self._name}"
        sent = self._once(
            key,
            occurrence,
            lambda: self._platform.send_direct(
                self._offer_text(window, listed)[0], key=key, in_reply_to=None
            ),
            log,
        )
        if sent is None:
            return
        self._store.save_round(replace(round_, message_id=sent.remote_id))
        for s in listed:
            self._store.save_decision(self._scored(occurrence, s, window.number, "offered", now))
        log.info("approve.sent", question=window.number, candidates=len(round_.post_ids))

    def _offer_text(self, window: Window, offered: Sequence[Scored]) -> tuple[str, int]:
        home = self._platform.home()
        label = f"Q{window.number}" if window.number else "Introductions"
        return offer_text(
            mentions=[mention_of(h, home) for h in self._config.chat.hosts],
            label=f"{label} of {self._config.chat.hashtag}, best so far",
            offered=[
                Offered(
                    account_address(s.post.author.handle, home),
                    s.post.text,
                    s.post.url,
                    s.score.total,
                )
                for s in offered
            ],
            platform=self._name,
            limit=self._max_characters(),
        )

    def _max_characters(self) -> int:
        if self._limit is None:
            self._limit = int(self._call(self._platform.max_characters))
        return self._limit


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
