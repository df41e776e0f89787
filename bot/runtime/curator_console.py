"""Approve mode where the bot writes to no one privately (Bluesky: every post there is public,
and the bot sends no direct messages): each question's candidates are offered to the hosts in
their console instead of in a message.

The round is drawn up as by message (the question's best candidates, from halfway through its
window) and recorded, and its posts are marked offered, which the console shows as awaiting
approval. A host's boost there is the approval: the worker carries it out through the ledger
under the curator's own key, so once, after the same checks as an answer to a message
(``Approval.host_boost_refusal``). Without it nothing is boosted but the guests' and
co-hosts' posts (``boost.always``), as in approve mode everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.agenda import Occurrence
from bot.core.answers import Window
from bot.core.curation import Assessment, to_offer
from bot.runtime.curator import Curator
from bot.runtime.curator_approve import OFFERED


class ConsoleApprovalCurator(Curator):
    """A curator whose approval rounds wait in the hosts' console."""

    def offer(
        self,
        occurrence: Occurrence,
        window: Window,
        assessment: Assessment,
        now: datetime,
        log: Any,
    ) -> None:
        """Once per question, from halfway through its window, mark its best candidates as
        awaiting approval: nothing is sent, so no host need be listed in ``chat.hosts``."""
        if self.round_of(occurrence, window.number) is not None:
            return
        best = to_offer(assessment.eligible, window, now, most=OFFERED)
        if not best:
            return
        # The posts before the round: a crash in between draws the round up again.
        for scored in best:
            self.store.save_decision(self.scored(occurrence, scored, window.number, "offered", now))
        self.store.save_round(self.new_round(occurrence, window, best, now))
        log.info("approve.offered", question=window.number, candidates=len(best), where="console")
