"""The curator: on a tick, boosts the notable answers of the current question, by the host's
rules and with consent.

Each tick reads the bot's mentions (opt-outs, and the hosts' answers in approve mode),
re-reads the counts of the current window's posts in a few batched requests, decides with
``bot.core.curation``, stores every decision and acts through the ledger: a boost, a
confirmation and a list sent to the hosts each have a stable key, so none happens twice,
whatever crashes in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.answers import Window, answer_windows
from bot.core.curation import Assessment, assess, current_window, select
from bot.ports.curation import BoostDecision, DecisionState
from bot.ports.errors import PlatformError
from bot.runtime.clock import wait_until
from bot.runtime.curator_boosts import done_boosts
from bot.runtime.curator_mentions import Mentions
from bot.runtime.follow_window import follow_window, ledger_answer_key
from bot.runtime.refresh import MAX_REFRESH
from bot.runtime.retry import ShutdownRequested

# Decisions that later ticks leave alone.
_SETTLED: tuple[DecisionState, ...] = ("boosting", "boosted", "failed")


class Curator(Mentions):
    """Curates one occurrence on one platform."""

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        """Tick while the chat is followed (from the intro, less the follow margin, to the
        wrap-up), so that a "stop" said just after the chat is honoured before the wrap-up.
        Errors are logged and the next tick tries again; returns early on stop."""
        active = follow_window(
            occurrence,
            agenda,
            margin=self.config.follow.margin,
            after=self.config.wrapup.after,
        )
        log = self.log.bind(occurrence=occurrence.id)
        if not wait_until(self.clock, self.stop, active.start):
            return
        if self.clock.now() >= active.end:
            return
        log.info("curate.start", mode=self.rules.mode)
        while not self.stop.is_set():
            # The agenda as the hosts steer it, if they may: its questions not out yet.
            current = agenda if self.agenda_now is None else self.agenda_now()
            try:
                self.tick(occurrence, self.windows(occurrence, current))
            except ShutdownRequested:
                break
            except PlatformError as exc:
                log.warning("curate.tick_failed", reason=exc.reason)
            except Exception:
                # A bug must not end curation for the rest of the chat.
                log.exception("curate.error")
            if self.clock.now() >= active.end:
                break
            self.stop.wait(self.rules.tick.total_seconds())
        log.info("curate.end", stopped_early=self.stop.is_set())

    def windows(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> list[Window]:
        """The windows as capture files posts by: from when each question actually went out
        (the ledger), read again at every tick since a late question moves them."""
        key, _ = ledger_answer_key(self.ledger, occurrence, agenda, self.name)
        return answer_windows(key)

    def tick(self, occurrence: Occurrence, windows: Sequence[Window]) -> None:
        log = self.log.bind(occurrence=occurrence.id)
        self.read_mentions(occurrence, log)
        now = self.clock.now()
        self.purge_forgotten(occurrence, now, log)
        entries = self.boost_entries(occurrence)
        self.finish_claimed(occurrence, entries, log)
        window = current_window(windows, now)
        if window is None:
            return
        # Only the current window's latest posts are read: the archive grows all chat long.
        # Boosted posts are settled: re-reading them would only spend requests.
        posts = self.archive.window_posts(
            occurrence.id,
            self.name,
            question=window.number,
            start=window.start,
            end=window.stop,
            limit=MAX_REFRESH + len(entries),
        )
        candidates = self.refresher.candidates([p for p in posts if p.id not in entries])
        facts = self.facts(occurrence, entries, candidates)
        assessment = assess(candidates, self.rules, facts)
        decisions = {
            d.post_id: d
            for d in self.store.decisions(
                occurrence.id, post_ids=[*(c.post.id for c in candidates), *entries]
            )
        }
        self._record(occurrence, window, assessment, decisions, now, log)
        if self.rules.mode == "off":
            return
        done = done_boosts(entries, decisions)
        ranked = list(assessment.eligible)
        if self.rules.mode == "approve":
            # Guests and co-hosts need no approval; the rest waits for a host's answer.
            ranked = [s for s in ranked if s.always]
        for chosen in select(ranked, rules=self.rules, window=window, done=done, now=now):
            self.boost(occurrence, chosen, window.number, "always" if chosen.always else "auto")
        if self.rules.mode == "approve":
            self.offer(occurrence, window, assessment, now, log)

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
            self.store.save_decision(
                replace(
                    self.decision(occurrence, candidate.post, window.number, "rejected", now),
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
            self.store.save_decision(self.scored(occurrence, scored, window.number, state, now))
            log.debug(
                "boost.scored",
                post_id=scored.post.id,
                question=window.number,
                score=total,
                breakdown=scored.score.breakdown(),
            )
