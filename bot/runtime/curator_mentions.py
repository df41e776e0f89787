"""The bot's mentions: "stop" and "forget me" from anyone, confirmed once, and the hosts'
answers in approve mode."""

from __future__ import annotations

from typing import Any

from bot.core.agenda import Occurrence
from bot.core.curation import Reading, account_address, mention_of, read_mention
from bot.core.transcript import author_key
from bot.ports.curation import Mention
from bot.runtime.curator_approve import Approval

STOP_CONFIRMATION = (
    "{mention} Understood: I will not boost or mention you again. "
    'Your public posts stay in the chat\'s transcript; reply "forget me" to remove them too.'
)
FORGET_CONFIRMATION = (
    "{mention} Done: your posts are removed from the archive and transcript of {hashtag}, "
    "and I will not boost or mention you again."
)


class Mentions(Approval):
    """Reads the mentions and acts on opt-outs."""

    def read_mentions(self, occurrence: Occurrence, log: Any) -> None:
        """Act on the bot's new mentions: opt-outs, and the hosts' answers in approve mode.
        Raises OSError, the mention left unread, when the transcripts cannot be rewritten."""
        cursor = self.store.notification_cursor(self.name)
        mentions: list[Mention]
        mentions, cursor_after = self.call(lambda: self.platform.mentions(after=cursor))
        me = author_key(self.me_author())
        home = self.platform.home()
        hosts = {account_address(h, home) for h in self.config.chat.hosts}
        for mention in mentions:
            if author_key(mention.author) != me:
                from_host = account_address(mention.author.handle, home) in hosts
                reading = read_mention(mention.text, from_host=from_host)
                if reading.command in ("stop", "forget"):
                    self._opt_out(occurrence, mention, reading, log)
                elif reading.command in ("approve", "skip"):
                    self.answer(occurrence, mention, reading, log)
            # After each one: a crash re-reads at most this mention, and every handler
            # above is idempotent.
            self.store.set_notification_cursor(self.name, mention.cursor)
        if cursor_after is not None and cursor_after != cursor:
            self.store.set_notification_cursor(self.name, cursor_after)

    def _opt_out(
        self, occurrence: Occurrence, mention: Mention, reading: Reading, log: Any
    ) -> None:
        author = mention.author
        key = author_key(author)
        now = self.clock.now()
        kind = reading.command
        written = self.files.containing(self.name, author.id) if self.files else []
        first = self.store.add_optout(
            self.name, author.id, kind=kind, status_id=mention.status_id, now=now
        )
        if first:
            log.info("optout.recorded", author=key, kind=kind)
        if kind == "forget":
            removed = self.history.forget_author(self.name, author.id, now=now)
            self.store.forget_decisions(key)
            log.info("optout.forgotten", author=key, posts=removed)
            template, what = FORGET_CONFIRMATION, "forget"
        else:
            template, what = STOP_CONFIRMATION, "optout"
        ledger_key = f"{self.config.chat.id}/{what}/{self.name}/{author.id}"
        confirmed = self.ledger.get(ledger_key) is not None
        if self.files is not None and not confirmed and (written or not first):
            # Before the confirmation: it says the transcripts no longer name them. Read
            # again (the files failed, or the process died), the mention finds the posts
            # forgotten already: then every transcript written is rewritten.
            files = self.files.rewrite(written if first else None)
            log.info("optout.rewritten", author=key, occurrences=written, files=len(files))
        text = template.format(
            mention=mention_of(author.handle, self.platform.home()),
            hashtag=self.config.chat.hashtag,
        )
        if not confirmed:
            sent = self.once(
                ledger_key,
                occurrence,
                lambda: self.platform.send_direct(
                    text, key=ledger_key, in_reply_to=mention.status_id
                ),
                log,
            )
            if sent is not None:
                log.info("optout.confirmed", author=key, kind=kind)
