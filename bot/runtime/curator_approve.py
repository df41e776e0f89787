"""Approve mode: the hosts are sent each question's best candidates, numbered, halfway
through its window, and the numbers they answer with are boosted. A host's boost from the
console is checked here too, as such an answer is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.core.agenda import Occurrence
from bot.core.answers import Window
from bot.core.curation import (
    Assessment,
    Candidate,
    Facts,
    Offered,
    Reading,
    Rejection,
    Scored,
    account_address,
    domain_handle,
    eligibility,
    mention_of,
    offer_text,
    rule_refusal,
    score,
    to_offer,
)
from bot.core.model import ArchivedPost
from bot.ports.curation import ApprovalRound, Mention
from bot.runtime.curator_boosts import CuratorBoosts

# Candidates listed for the hosts in approve mode.
OFFERED = 5
# A post its server no longer shows the bot: the refresh leaves it out.
UNAVAILABLE = (
    "the post is gone, or hidden from the bot (deleted, or its author blocks the bot or keeps "
    "to logged-in viewers)"
)


class Approval(CuratorBoosts):
    """The lists sent to the hosts and their answers."""

    def answer(self, occurrence: Occurrence, mention: Mention, reading: Reading, log: Any) -> None:
        """A host's answer to a list: the numbers to boost, or skip."""
        rounds = self.store.rounds(occurrence.id, self.name)
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
        self.store.save_round(replace(target, state="answered", answer=answer))
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
        self.purge_forgotten(occurrence, self.clock.now(), log)
        posts = [self.archive.get(self.name, i) for i in wanted]
        facts, checked = self._checked(occurrence, [p for p in posts if p is not None])
        for candidate, rejection in checked:
            if rejection is not None:
                log.info(
                    "boost.rejected",
                    post_id=candidate.post.id,
                    question=round_.question,
                    rule=rejection.rule,
                    reason=rejection.reason,
                )
                continue
            scored = Scored(candidate, score(candidate, self.rules, facts), always=False)
            self.boost(occurrence, scored, round_.question, "approved")

    def host_boost_refusal(self, occurrence: Occurrence, post: ArchivedPost) -> str | None:
        """Why a host's boost of ``post`` from the console may not go out, checked as an
        answer to a list is: the post read again from its server, then the hard rules
        (consent and safety, which no host overrules); None if it may. Whether it was boosted
        already is the ledger's to say."""
        _, checked = self._checked(occurrence, [post])
        if not checked:
            return UNAVAILABLE
        rejection = checked[0][1]
        if rejection is None or rejection.rule == "already_boosted":
            return None
        return rule_refusal(rejection.rule, rejection.reason)

    def _checked(
        self, occurrence: Occurrence, posts: Sequence[ArchivedPost]
    ) -> tuple[Facts, list[tuple[Candidate, Rejection | None]]]:
        """The occurrence's ``posts`` as their server shows them now (one gone or hidden from
        the bot is left out), each with the hard rule it breaks, if any; and the facts they
        were checked with."""
        candidates = self.refresher.candidates([p for p in posts if p.occurrence == occurrence.id])
        facts = self.facts(occurrence, self.boost_entries(occurrence), candidates)
        return facts, [(c, eligibility(c, self.rules, facts)) for c in candidates]

    def offer(
        self,
        occurrence: Occurrence,
        window: Window,
        assessment: Assessment,
        now: datetime,
        log: Any,
    ) -> None:
        """Once per question, halfway through its window, send the hosts the best candidates,
        numbered, in a direct message."""
        if not self._hosts():
            return
        round_ = self.round_of(occurrence, window.number)
        if round_ is not None and round_.message_id:
            return
        if round_ is None:
            best = to_offer(assessment.eligible, window, now, most=OFFERED)
            if not best:
                return
            _, count = self._offer_text(window, best)
            round_ = self.new_round(occurrence, window, best[:count], now)
            # Saved before sending: after a crash the same list goes out, under the same key.
            self.store.save_round(round_)
        by_id = {s.post.id: s for s in assessment.eligible}
        listed = [by_id[i] for i in round_.post_ids if i in by_id]
        key = f"{occurrence.id}/approve/q{window.number}/{self.name}"
        sent = self.once(
            key,
            occurrence,
            lambda: self.platform.send_direct(
                self._offer_text(window, listed)[0], key=key, in_reply_to=None
            ),
            log,
        )
        if sent is None:
            return
        self.store.save_round(replace(round_, message_id=sent.remote_id))
        for s in listed:
            self.store.save_decision(self.scored(occurrence, s, window.number, "offered", now))
        log.info("approve.sent", question=window.number, candidates=len(round_.post_ids))

    def round_of(self, occurrence: Occurrence, question: int) -> ApprovalRound | None:
        """The question's round, once it was drawn up."""
        rounds = self.store.rounds(occurrence.id, self.name)
        return next((r for r in rounds if r.question == question), None)

    def new_round(
        self, occurrence: Occurrence, window: Window, offered: Sequence[Scored], now: datetime
    ) -> ApprovalRound:
        return ApprovalRound(
            occurrence=occurrence.id,
            platform=self.name,
            question=window.number,
            post_ids=tuple(s.post.id for s in offered),
            state="open",
            sent_at=now,
        )

    def _hosts(self) -> list[str]:
        """The hosts a direct message can reach here: not those with Bluesky handles."""
        return [h for h in self.config.chat.hosts if not domain_handle(h)]

    def _offer_text(self, window: Window, offered: Sequence[Scored]) -> tuple[str, int]:
        home = self.platform.home()
        label = f"Q{window.number}" if window.number else "Introductions"
        return offer_text(
            mentions=[mention_of(h, home) for h in self._hosts()],
            label=f"{label} of {self.config.chat.hashtag}, best so far",
            offered=[
                Offered(
                    account_address(s.post.author.handle, home),
                    s.post.text,
                    s.post.url,
                    s.score.total,
                )
                for s in offered
            ],
            platform=self.name,
            limit=self.max_characters(),
        )
