"""Filing what the follower reads into the archive: which question each post answers (its
reply chain, the ledger's questions), and deletions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.answers import NO_ANSWER, Answer, AnswerKey, answer_for
from bot.core.model import ArchivedPost
from bot.ports.following import Fetched, Skipped
from bot.runtime.follow_state import CaptureState, Via
from bot.runtime.follow_window import ledger_answer_key

# Reply chains longer than this are not followed up (a loop or an attack).
MAX_CHAIN = 64
# The ledger's questions are read again at least this often.
KEY_MAX_AGE = timedelta(seconds=1)


def log_skipped(log: Any, item: Skipped, *, via: str) -> None:
    """A post left out of the archive: a warning, unless it was expected (a private post)."""
    level = log.debug if item.expected else log.warning
    level("capture.skipped", id=item.id, reason=item.reason, via=via)


def log_captured(log: Any, post: ArchivedPost, *, via: str, now: datetime) -> None:
    """A post newly archived, with how late it was read (by the stream, polling or search)."""
    log.info(
        "capture.post",
        id=post.id,
        question=post.question,
        rule=post.rule,
        own=post.is_own,
        via=via,
        lag_ms=round((now - post.created_at).total_seconds() * 1000),
    )


class Filing(CaptureState):
    """Files posts and deletions into the archive."""

    def file_all(self, items: Iterable[Fetched], via: Via) -> None:
        for item in items:
            self.file(item, via)

    def remember_parent(self, post_id: str, parent: str | None) -> None:
        """Keep a reply's parent, also of a reply that is not archived (a private post in the
        middle of a chain). A post that replies to nothing ends a chain whether it is kept
        here or not: left out, the chat's many top-level answers do not stay in memory."""
        if parent is not None:
            self.parents[post_id] = parent

    def file(self, item: Fetched, via: Via) -> None:
        if item.id is not None:
            self.remember_parent(item.id, item.in_reply_to)
        if isinstance(item, Skipped):
            self.counts.skipped += 1
            log_skipped(self.log, item, via=via)
            return
        if item.created_at < self.window.start:
            return  # an earlier chat's, or unrelated
        now = self.clock.now()
        question, rule = self._answer(item)
        post = replace(item, occurrence=self.occurrence.id, question=question, rule=rule)
        outcome = self.archive.save(post, now=now)
        if outcome == "new":
            self.counts.new += 1
            log_captured(self.log, post, via=via, now=now)
        elif outcome == "edited":
            self.counts.edited += 1
            self.log.info("capture.edited", id=post.id, question=question, rule=rule, via=via)

    def _answer(self, post: ArchivedPost) -> Answer:
        if post.is_own:
            return NO_ANSWER
        key = self._answer_key(made_at=post.created_at)
        chain = self._chain(post.in_reply_to, key)
        answer = answer_for(key, text=post.text, created_at=post.created_at, reply_chain=chain)
        if answer[1] != "reply" and post.in_reply_to is not None:
            # A reply chain seen once stays true (in_reply_to never changes): a later copy
            # read without the chain's middle must not undo it.
            stored = self.archive.get(post.platform, post.id)
            if stored is not None and stored.rule == "reply":
                return stored.question, stored.rule
        return answer

    def _chain(self, parent: str | None, key: AnswerKey) -> list[str]:
        own = {q.post_id for q in key.questions} | key.other_posts
        chain: list[str] = []
        while parent is not None and parent not in chain and len(chain) < MAX_CHAIN:
            chain.append(parent)
            if parent in own:
                break
            if parent in self.parents:
                parent = self.parents[parent]
                continue
            stored = self.archive.get(self.platform, parent)
            if stored is None:
                break
            self.remember_parent(parent, stored.in_reply_to)
            parent = stored.in_reply_to
        return chain

    def delete(self, post_id: str, *, reason: str) -> None:
        known = self.archive.delete(
            self.platform, post_id, occurrence=self.occurrence.id, now=self.clock.now()
        )
        if known:
            self.counts.deleted += 1
            self.log.info("capture.deleted", id=post_id, reason=reason)

    # -- what the ledger says about the bot's posts ------------------------------------------

    def _answer_key(self, *, made_at: datetime | None = None) -> AnswerKey:
        """The ledger's questions, read again each second, and for a post made since the last
        reading (a question may have gone out in between: its window opened then). Streamed
        posts are new, so that is a small read of the ledger for most of them."""
        now = self.clock.now()
        stale = made_at is not None and made_at >= self.key_at
        if self.key is None or stale or now - self.key_at >= KEY_MAX_AGE:
            self.key, self.own_ids = self._read_ledger()
            self.key_at = now
        return self.key

    def own_post_ids(self) -> list[str]:
        self._answer_key()
        return self.own_ids

    def _read_ledger(self) -> tuple[AnswerKey, list[str]]:
        return ledger_answer_key(self.follower.ledger, self.occurrence, self.agenda, self.platform)
